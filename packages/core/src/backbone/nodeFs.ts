/**
 * Node's file system, imported when first needed so that browser bundles of @graft/core never
 * reach it. `node:fs` rather than `node:fs/promises`: tsup strips the `node:` prefix, and
 * core's package.json maps only the bare builtins (fs, path, url) away for browser bundlers.
 */
export async function nodeFs(): Promise<typeof import('node:fs').promises> {
  return (await import('node:fs')).promises;
}

/**
 * Imports a dependency only the Node code path uses (pngjs, jpeg-js) through a specifier
 * that bundlers cannot follow, so that a browser bundle of @graft/datasets does not pull in
 * pngjs and the Node built-ins (zlib, stream) it needs. The browser path never calls this: it
 * decodes with the platform. (A `browser` field in package.json mapping the two packages to
 * false would do the same for bundlers that honour it.)
 */
export function importNodeOnly<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}

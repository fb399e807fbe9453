/**
 * What graft needs to know about the installed tfjs-backend-wasm Node bundle
 * (`dist/tf-backend-wasm.node.js`) before starting its threaded build, read from the bundle's
 * text: its threaded Emscripten factory is shipped to each pthread worker as
 * `factory.toString()`, so every bundle-level name the factory uses must be re-created in the
 * worker (see nodeThreadsWorkerSource.ts). A bundle laid out differently (another tfjs
 * version) is reported, and graft then runs one thread rather than guessing.
 */
export type WasmNodeBundleCheck =
  | {
      ok: true;
      /** Bundle-level module handles, e.g. `{ require$$0: 'fs', require$$4: 'os' }`. */
      requireMap: Record<string, string>;
    }
  | { ok: false; reason: string };

/** Bundle-level helpers the worker bootstrap defines (beyond `require$$N`). */
export const WORKER_PROVIDED_HELPERS: readonly string[] = ['__values', '__read', '__spreadArray'];

const FACTORY_START = 'var tfjsBackendWasmThreadedSimd$1 = { exports: {} };';
const FACTORY_END = '}(tfjsBackendWasmThreadedSimd$1));';

export function checkWasmNodeBundle(source: string): WasmNodeBundleCheck {
  const requireMap: Record<string, string> = {};
  for (const m of source.matchAll(/^var (require\$\$\d+) = require\('([^']+)'\);$/gm)) {
    requireMap[m[1] as string] = m[2] as string;
  }
  const start = source.indexOf(FACTORY_START);
  const end = source.indexOf(FACTORY_END, start);
  if (start < 0 || end < 0) {
    return { ok: false, reason: 'the threaded WASM factory was not found in the tfjs bundle' };
  }
  const factory = source.slice(start + FACTORY_START.length, end);

  // The pthread worker is created as `new Worker(url)` with the global Worker: graft swaps
  // that global for the duration of the start (nodeThreadsHooks.ts).
  if (!/\bnew Worker\(pthreadMainJs\)/.test(factory)) {
    return { ok: false, reason: 'the tfjs bundle creates its pthread workers in an unknown way' };
  }
  // tfjs caps its pool at half of emscripten_num_logical_cores(), which in Node is
  // os.cpus().length; graft raises that figure for the start (nodeThreadsHooks.ts).
  const cores =
    /function _emscripten_num_logical_cores\(\) \{ if \(ENVIRONMENT_IS_NODE\)\s*return (require\$\$\d+)\.cpus\(\)\.length;/.exec(
      factory,
    );
  if (!cores || requireMap[cores[1] as string] !== 'os') {
    return { ok: false, reason: 'the tfjs bundle counts cores in an unknown way' };
  }
  for (const handle of new Set(factory.match(/require\$\$\d+/g) ?? [])) {
    if (!(handle in requireMap)) {
      return { ok: false, reason: `the tfjs bundle's threaded factory uses ${handle}, not found` };
    }
  }
  const topLevelHelpers = new Set(
    [...source.matchAll(/^function (__[a-z]\w*)\(/gm)].map((m) => m[1] as string),
  );
  const called = new Set(
    [...factory.matchAll(/(?<![\w$.])(__[a-z]\w*)\(/g)].map((m) => m[1] as string),
  );
  const missing = [...called].filter(
    (name) => topLevelHelpers.has(name) && !WORKER_PROVIDED_HELPERS.includes(name),
  );
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `the tfjs bundle's threaded factory needs helpers graft does not provide: ${missing.join(', ')}`,
    };
  }
  return { ok: true, requireMap };
}

/** Reads the bundle Node loads for `@tensorflow/tfjs-backend-wasm` (its package `main`). */
export async function readWasmNodeBundle(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm'), 'utf8');
}

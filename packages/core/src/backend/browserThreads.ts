// Threads of tfjs's threaded SIMD WebAssembly build in the browser (cross-origin isolated
// pages only: the build needs SharedArrayBuffer).
//
// tfjs-backend-wasm 4.22 caps XNNPACK's pool at half of `navigator.hardwareConcurrency`
// (its C++ assumes two hyper-threads per core: `emscripten_num_logical_cores() / 2`), read
// once while the module initialises. So `setThreadsCount(n)` alone gives 1 thread on a
// 2-core machine, whatever `n` is. graft reports 2n cores to that read, for the start only,
// the way nodeThreads does with `os.cpus()` in Node.

/**
 * Most threads graft asks for in the browser: tfjs 4.22 pre-starts 8 pthread workers and
 * caps its pool at 8.
 */
export const BROWSER_MAX_THREADS = 8;

/** What graft needs of `navigator` (a parameter, so that tests can pass a stand-in). */
export interface NavigatorLike {
  readonly hardwareConcurrency?: number;
}

/**
 * The thread count for tfjs's threaded build: the request, else every logical core
 * (`navigator.hardwareConcurrency`), within 1..{@link BROWSER_MAX_THREADS}.
 */
export function chooseBrowserThreads(
  requested: number | undefined,
  nav: NavigatorLike | undefined,
): number {
  const cores = nav?.hardwareConcurrency ?? 1;
  const wanted = requested ?? cores;
  return Math.min(BROWSER_MAX_THREADS, Math.max(1, Math.floor(wanted)));
}

/**
 * Makes `nav.hardwareConcurrency` read `2 * threads` until the returned function is called,
 * so that tfjs's start-up cap (half the logical cores) lets `threads` through. Shadows the
 * prototype's getter with an own property, and deletes it to restore.
 */
export function reportCoresForThreads(nav: NavigatorLike, threads: number): () => void {
  const target = nav as { hardwareConcurrency?: number };
  if (Object.hasOwn(target, 'hardwareConcurrency')) return () => {};
  try {
    Object.defineProperty(target, 'hardwareConcurrency', {
      configurable: true,
      get: () => 2 * threads,
    });
  } catch {
    // A frozen or exotic navigator: tfjs keeps its own cap; the reported count says so.
    return () => {};
  }
  return () => {
    delete target.hardwareConcurrency;
  };
}

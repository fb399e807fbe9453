import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { GraftError } from '../errors';
import { registerTrainingKernels } from '../kernels/registerTrainingKernels';
import { loadNativeKernels } from '../native/nativeKernels';
import { chooseBrowserThreads, reportCoresForThreads } from './browserThreads';
import { startNodeThreads } from './nodeThreads';
import { ensureGradientsRegistered } from './registerGradients';
import { isNode, resolveNodeWasmDir } from './wasmFiles';
import { watchWasmKernelFailures } from './wasmKernelFailures';

/**
 * The backends graft trains on: `wasm` (SIMD WebAssembly, the default) or `cpu` (pure JS).
 *
 * @example
 * ```ts
 * const name: BackendName = 'cpu';
 * await initBackend({ backend: name });
 * ```
 */
export type BackendName = 'wasm' | 'cpu';

/**
 * Options of {@link initBackend}: backend, threads, where the `.wasm` files are, whether to
 * fall back to `cpu`, and where warnings go.
 *
 * @example
 * ```ts
 * const options: InitBackendOptions = { wasmPaths: '/wasm/', fallback: false, threads: 4 };
 * const info = await initBackend(options);
 * ```
 */
export interface InitBackendOptions {
  /** Which backend to run on. Default `'wasm'`. */
  backend?: BackendName;
  /**
   * Threads for the WASM backend. In the browser (default: every logical core,
   * `navigator.hardwareConcurrency`, at most 8) the threaded SIMD build is used when the page
   * is cross-origin isolated; otherwise tfjs runs its single-threaded build. In Node (default: 1, the
   * single-threaded SIMD build; see nodeThreads.ts for why) graft starts the threaded build
   * on `worker_threads` for more than 1 (at most 8). Fixed when the backend first starts in
   * a process.
   */
  threads?: number;
  /**
   * Where tfjs-backend-wasm's `.wasm` files are: a folder path or URL prefix (ending in `/`),
   * or a map from file name to URL. Node finds them on its own; bundled browser apps usually
   * need this.
   */
  wasmPaths?: string | Partial<Record<string, string>>;
  /**
   * When WebAssembly cannot start, fall back to the slow `cpu` backend with a warning
   * (default `true`). With `false` the failure is an error.
   */
  fallback?: boolean;
  /** Receives warnings (fallbacks, ignored options). Default: `console.warn`. */
  onWarning?: (message: string) => void;
}

/**
 * What {@link initBackend} started: the backend, whether SIMD is on, the thread count, and
 * why graft fell back to `cpu` if it did.
 *
 * @example
 * ```ts
 * const { name, simd, threads, fallbackReason }: BackendInfo = await initBackend();
 * if (fallbackReason) console.warn(`on cpu: ${fallbackReason}`);
 * ```
 */
export interface BackendInfo {
  name: BackendName;
  /** WebAssembly SIMD in use (always false on `cpu`). */
  simd: boolean;
  /** Threads the backend computes with. */
  threads: number;
  /** Set when graft fell back to `cpu`: why. */
  fallbackReason?: string;
}

const KNOWN_BACKENDS: readonly BackendName[] = ['wasm', 'cpu'];

/**
 * Prepares TensorFlow.js for training: registers gradients (tfjs-core's Node entry does
 * not), registers graft's training kernels for WASM, and selects the backend.
 *
 * @example
 * ```ts
 * import { initBackend } from '@graft/core';
 * const info = await initBackend(); // { name: 'wasm', simd: true, threads: 1 }
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const requested = options.backend ?? 'wasm';
  const warn = options.onWarning ?? ((m: string) => console.warn(`[graft] ${m}`));
  if (!KNOWN_BACKENDS.includes(requested)) {
    throw new GraftError('BACKEND_UNKNOWN', `Unknown backend "${String(requested)}"`, {
      where: 'initBackend({ backend })',
      hint: `Use one of: ${KNOWN_BACKENDS.join(', ')}.`,
    });
  }
  if (
    options.threads !== undefined &&
    !(Number.isInteger(options.threads) && options.threads >= 1)
  ) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `threads must be a positive integer, got ${options.threads}`,
      {
        where: 'initBackend({ threads })',
      },
    );
  }
  ensureGradientsRegistered();
  silenceCpuBanner();
  registerTrainingKernels();

  if (requested === 'cpu') return selectCpu();

  let restoreCores: (() => void) | undefined;
  try {
    await loadNativeKernels();
    restoreCores = await prepareWasm(options, warn);
    // The backend binds console.warn as it starts: kernel failures it prints are watched.
    const stopWatching = watchWasmKernelFailures();
    try {
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new Error('tf.setBackend("wasm") returned false');
      await tf.ready();
    } finally {
      stopWatching();
    }
  } catch (cause) {
    if (cause instanceof GraftError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    if (options.fallback === false) {
      throw new GraftError('BACKEND_INIT_FAILED', `The WASM backend failed to start: ${reason}`, {
        hint: 'Check that WebAssembly is available here, or pass backend: "cpu".',
        cause,
      });
    }
    warn(
      `WASM backend failed to start (${reason}); FALLING BACK TO THE cpu BACKEND, which trains ` +
        'about 30x slower. Pass { fallback: false } to make this an error.',
    );
    return { ...(await selectCpu()), fallbackReason: reason };
  } finally {
    restoreCores?.();
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return { name: 'wasm', simd, threads: tfwasm.getThreadsCount() };
}

/** Returns, in the browser, what undoes the core count reported while the backend starts. */
async function prepareWasm(
  options: InitBackendOptions,
  warn: (m: string) => void,
): Promise<(() => void) | undefined> {
  if (typeof WebAssembly === 'undefined') throw new Error('WebAssembly is not available');
  if (isNode()) {
    // tfjs 4.22 disables the threaded build under Node (upstream issue 3830); for more than
    // one thread graft starts it itself (nodeThreads.ts), else this is the SIMD build.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const explicit = typeof options.wasmPaths === 'string' ? options.wasmPaths : undefined;
    const dir = await resolveNodeWasmDir(explicit);
    tfwasm.setWasmPaths(dir);
    if (options.threads !== 1) {
      await startNodeThreads({ threads: options.threads, wasmDir: dir, warn });
    }
    return undefined;
  }
  if (options.wasmPaths !== undefined) {
    tfwasm.setWasmPaths(options.wasmPaths as string | Record<string, string>);
  }
  // Only the threaded build (cross-origin isolated pages) uses these: every logical core by
  // default, past tfjs's own cap of half of them (browserThreads.ts).
  const nav = globalThis.navigator;
  const threads = chooseBrowserThreads(options.threads, nav);
  tfwasm.setThreadsCount(threads);
  return nav && threads > 1 ? reportCoresForThreads(nav, threads) : undefined;
}

async function selectCpu(): Promise<BackendInfo> {
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', simd: false, threads: 1 };
}

/** The cpu backend prints a banner advertising tfjs-node on first use; graft is the answer. */
function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu) cpu.firstUse = false;
}

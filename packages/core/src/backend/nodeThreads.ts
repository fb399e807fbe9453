import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { checkWasmNodeBundle, readWasmNodeBundle } from './nodeThreadsBundle';
import {
  installThreadedStartHooks,
  nodeBuiltins,
  type ThreadedStartHooks,
} from './nodeThreadsHooks';

/**
 * Most threads graft starts in Node. tfjs 4.22 pre-starts 8 pthread workers and caps
 * XNNPACK's pool at 8; a 9th worker would be created on demand, and loading it needs the
 * main thread's event loop while that thread blocks in `pthreadpool_create`.
 */
export const NODE_MAX_THREADS = 8;

export interface StartNodeThreadsOptions {
  /** `initBackend`'s `threads` option; `undefined` means {@link defaultNodeThreads}. */
  threads: number | undefined;
  /** Folder of tfjs-backend-wasm's `.wasm` files, ending in a separator. */
  wasmDir: string;
  warn: (message: string) => void;
}

/**
 * Threads graft starts with in Node when `threads` is not given: 1 (the single-threaded
 * SIMD build). Measured with bench/threads.mjs on a 2-core VM shared with other work (load
 * average 3.5-7), the MobileNetV2 full fine-tune step took 0.91 s on 2 threads against
 * 0.49 s on 1 (0.54x, medians of 5 interleaved pairs): XNNPACK splits each of the step's
 * ~3,000 mostly small kernels across the pool and waits at a barrier while the other thread
 * spins, so a thread the OS has descheduled stalls every kernel (the process burned 0.69 CPU
 * s/step against 0.26). Even on an idle machine a large part of the step stays serial (tfjs's
 * per-kernel JavaScript, kernels outside XNNPACK, graft's native depthwise backprop): from
 * the kernel profile, 2 threads could gain about 1.4x at best. Opt in with `threads`.
 */
export async function defaultNodeThreads(): Promise<number> {
  return 1;
}

/** The thread count to start: the request (or the default), within the cap. */
export function chooseNodeThreads(
  requested: number | undefined,
  defaultThreads: number,
): { threads: number; warning?: string } {
  const threads = requested ?? defaultThreads;
  if (threads <= NODE_MAX_THREADS) return { threads };
  return {
    threads: NODE_MAX_THREADS,
    warning:
      `threads: ${threads} capped to ${NODE_MAX_THREADS}: tfjs-backend-wasm 4.22 starts at ` +
      `most ${NODE_MAX_THREADS} WebAssembly threads.`,
  };
}

/**
 * Starts tfjs-backend-wasm's threaded SIMD build in Node (tfjs itself disables it there,
 * upstream issue 3830), when more than one thread is wanted and it can. Returns the threads
 * it started with; 1 means it started nothing, and the caller's `tf.setBackend('wasm')`
 * then starts the single-threaded SIMD build exactly as before. Never throws for a platform
 * that cannot run threads: it warns why and returns 1.
 */
export async function startNodeThreads(options: StartNodeThreadsOptions): Promise<number> {
  const { warn } = options;
  const running = runningThreads();
  if (running !== undefined) {
    // Threads are fixed when the module starts; a later initBackend() cannot change them.
    if (options.threads !== undefined && options.threads !== running) {
      warn(
        `threads: ${options.threads} ignored: the WASM backend already runs with ${running} ` +
          `thread(s) in this process (the count is fixed when it first starts).`,
      );
    }
    return running;
  }
  const choice = chooseNodeThreads(options.threads, await defaultNodeThreads());
  if (choice.warning !== undefined) warn(choice.warning);
  const threads = choice.threads;
  if (threads <= 1) return 1;

  const unavailable = await threadsUnavailableReason(options.wasmDir);
  if (typeof unavailable === 'string') {
    warn(`The WASM backend runs on 1 thread instead of ${threads}: ${unavailable}.`);
    return 1;
  }

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  tfwasm.setThreadsCount(threads);
  let hooks: ThreadedStartHooks | undefined;
  let failure: unknown;
  try {
    hooks = await installThreadedStartHooks(threads, unavailable.requireMap);
    const ok = await Promise.race([tf.setBackend('wasm'), hooks.failure]);
    if (!ok) failure = new Error('tf.setBackend("wasm") returned false');
  } catch (cause) {
    failure = cause;
  } finally {
    hooks?.restore(failure === undefined);
  }
  if (failure !== undefined) {
    // A start that failed half-way is abandoned (tfjs ignores its result once the caller's
    // tf.setBackend('wasm') starts the single-threaded build).
    for (const worker of hooks?.workers ?? []) void worker.terminate();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tfwasm.setThreadsCount(-1);
    const reason = failure instanceof Error ? failure.message : String(failure);
    warn(`The threaded WASM backend did not start (${reason}); running on 1 thread.`);
    return 1;
  }
  const started = tfwasm.getThreadsCount();
  if (started !== threads) {
    warn(`Asked the WASM backend for ${threads} threads; it started ${started}.`);
  }
  return started;
}

/**
 * Threads of the WASM backend if it has started in this process. (Not `tf.findBackend`,
 * which would start it.)
 */
function runningThreads(): number | undefined {
  try {
    return tfwasm.getThreadsCount();
  } catch {
    return undefined; // "WASM backend not initialized."
  }
}

/** Why the threaded build cannot start here, or what starting it needs. */
async function threadsUnavailableReason(
  wasmDir: string,
): Promise<string | { requireMap: Record<string, string> }> {
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
    return 'the threaded build needs WebAssembly SIMD, which this Node lacks';
  }
  if (typeof (await nodeBuiltins()).resolveObjectURL !== 'function') {
    return 'this Node lacks buffer.resolveObjectURL (Node 16.7 or newer has it)';
  }
  const { existsSync } = await import('node:fs');
  const threadedWasm = `${wasmDir}tfjs-backend-wasm-threaded-simd.wasm`;
  if (!existsSync(threadedWasm)) return `${threadedWasm} is missing`;
  let bundle: string;
  try {
    bundle = await readWasmNodeBundle();
  } catch (cause) {
    return `cannot read tfjs-backend-wasm's Node bundle (${String(cause)})`;
  }
  const check = checkWasmNodeBundle(bundle);
  return check.ok ? { requireMap: check.requireMap } : check.reason;
}

import type { Worker as NodeWorker } from 'node:worker_threads';
import { NODE_THREADS_WORKER_SOURCE } from './nodeThreadsWorkerSource';

/**
 * `buffer.resolveObjectURL` and `os`, loaded through `createRequire`: browser bundlers then
 * see only `node:module` (mapped away in package.json's "browser" field, like
 * `worker_threads`), not `buffer` and `os`, which they would try to resolve.
 */
export async function nodeBuiltins(): Promise<{
  resolveObjectURL: typeof import('node:buffer').resolveObjectURL | undefined;
  os: typeof import('node:os');
}> {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const buffer = require('node:buffer') as Partial<typeof import('node:buffer')>;
  return { resolveObjectURL: buffer.resolveObjectURL, os: require('node:os') };
}

/**
 * Two process-wide adjustments that last only while tfjs-backend-wasm's threaded build
 * starts in Node, and the pthread workers they produce.
 */
export interface ThreadedStartHooks {
  /** Rejects when a pthread worker fails (error or exit) before {@link restore}. */
  failure: Promise<never>;
  /** Every pthread worker created so far. */
  workers: ReadonlySet<NodeWorker>;
  /**
   * Puts the global `Worker` and `os.cpus` back. After a start (`started`), worker errors go
   * to Emscripten as usual; after a failed one they are dropped.
   */
  restore(started: boolean): void;
}

/**
 * - `globalThis.Worker`: Emscripten sets it to `worker_threads.Worker` and then creates its
 *   pthread pool (8 workers) with `new Worker(url)`, where tfjs's `url` is a `blob:` URL
 *   Node refuses. While the hooks are installed the global reads as a Worker subclass that
 *   runs graft's bootstrap on the blob's contents instead (assignments are recorded and
 *   applied on restore, leaving what Emscripten would have left).
 * - `os.cpus`: tfjs caps XNNPACK's pool at half the logical core count (it assumes two
 *   hyper-threads per core, true of many desktops but not of cloud vCPUs, nor of Node's
 *   count on a 2-core VM, which yields 1). Emscripten reads that count once, during the
 *   module's static initialisation, through `os.cpus().length`; while installed it reports
 *   `2 * threads` so that `setThreadsCount(threads)` is honoured.
 *
 * The workers are never referenced (`ref()` is a no-op): they compute only while the main
 * thread waits for them inside a kernel, so they must not keep a finished process alive.
 */
export async function installThreadedStartHooks(
  threads: number,
  requireMap: Record<string, string>,
): Promise<ThreadedStartHooks> {
  const { Worker } = await import('node:worker_threads');
  const { resolveObjectURL, os } = await nodeBuiltins();

  const workers = new Set<NodeWorker>();
  // After a failed start the workers are abandoned: their remaining error and exit events
  // must not reach Emscripten, whose handler rethrows them and would end the process.
  let phase: 'starting' | 'started' | 'abandoned' = 'starting';
  let fail: (error: Error) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => {}); // observed by the caller's race; never an unhandled rejection

  class PthreadWorker extends Worker {
    constructor(url: string | URL) {
      const workerScript = resolveObjectURL?.(String(url));
      if (!workerScript) {
        throw new Error(`the pthread worker script is not a readable blob: URL (${String(url)})`);
      }
      super(NODE_THREADS_WORKER_SOURCE, { eval: true, workerData: { workerScript, requireMap } });
      super.unref();
      workers.add(this);
    }

    override ref(): void {}

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (phase !== 'started' && (event === 'error' || event === 'exit')) {
        const detail = args[0] instanceof Error ? String(args[0]) : `exit code ${String(args[0])}`;
        fail(new Error(`a WASM pthread worker failed while starting: ${detail}`));
        return true;
      }
      return super.emit(event, ...args);
    }
  }

  const g = globalThis as { Worker?: unknown };
  const savedWorker = Object.getOwnPropertyDescriptor(g, 'Worker');
  let assignedWorker: unknown = savedWorker?.value;
  Object.defineProperty(g, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: (value: unknown) => {
      assignedWorker = value;
    },
  });

  const realCpus = os.cpus;
  os.cpus = function reportedCpus() {
    const cpus = realCpus.call(os);
    const template = cpus[0] ?? {
      model: 'unknown',
      speed: 0,
      times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 },
    };
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i] ?? template);
  };

  return {
    failure,
    workers,
    restore(started: boolean) {
      phase = started ? 'started' : 'abandoned';
      os.cpus = realCpus;
      if (savedWorker && !('value' in savedWorker)) {
        Object.defineProperty(g, 'Worker', savedWorker);
      } else if (savedWorker) {
        Object.defineProperty(g, 'Worker', { ...savedWorker, value: assignedWorker });
      } else if (assignedWorker !== undefined) {
        Object.defineProperty(g, 'Worker', {
          configurable: true,
          writable: true,
          enumerable: true,
          value: assignedWorker,
        });
      } else {
        delete g.Worker;
      }
    },
  };
}

import { GraftError, type GraftErrorCode } from '../errors';
import type { Param } from '../nn/param';
import type { EpochLogs, History, StepLogs } from '../train/trainingLogs';
import {
  decodeTrainingState,
  encodeTrainingState,
  type TrainingState,
  writeParams,
} from '../train/trainingState';
import type { ReplicaMessage, ReplicaWorkerData, SerializedError } from './dataParallelReplica';
import {
  createReplicaGroupMemory,
  type ReplicaGroupMemory,
  requestReplicaStop,
} from './replicaGroup';

/**
 * Options of {@link fitDataParallel}.
 *
 * @example
 * ```ts
 * const options: DataParallelOptions = { job: new URL('./job.mjs', import.meta.url), replicas: 2 };
 * ```
 */
export interface DataParallelOptions {
  /**
   * An ES module (path or URL) whose default export builds a `ReplicaJob` in each worker:
   * `export default async function job({ rank, replicas, options }) { ... }`.
   */
  job: string | URL;
  /** Worker threads, one replica each. Default: the machine's cores, at most 8. */
  replicas?: number;
  /** Passed to the job in every replica (structured-cloned: plain data only). */
  options?: unknown;
  /** Replica 0's step logs, as they happen. */
  onStepEnd?: (logs: StepLogs) => void;
  /**
   * Replica 0's Trainer warnings (e.g. a task without labels for a whole epoch), in order with
   * the epoch reports. The other replicas' would repeat them and are not sent. Default
   * `console.warn`, as the Trainer's, unless the job's Trainer options have an `onWarning` of
   * their own: that one has already heard them (in every replica), so they are not printed
   * a second time.
   */
  onWarning?: (message: string) => void;
  /**
   * Replica 0's epoch logs (with validation, when the job has any), and with `epochStates`
   * the training state at that epoch's end (e.g. to write a checkpoint). A returned promise is
   * awaited before the next epoch's report and before `fitDataParallel` resolves.
   */
  onEpochEnd?: (logs: EpochLogs, state?: TrainingState) => unknown;
  /** Send the full training state with every epoch's logs (costs one encode per epoch). */
  epochStates?: boolean;
  /** Continue a run from this state in every replica (`fit`'s `resumeFrom`). */
  resumeFrom?: TrainingState;
  /** Aborting stops every replica after the same step; `fit` then returns what it has. */
  signal?: AbortSignal;
  /**
   * Old-generation size (MiB) each replica's V8 heap starts with. Default 256. V8 sizes a
   * fresh heap small, so a training replica ran a full garbage collection every step, on
   * background threads that took the other replica's core: MobileNetV2-0.35/96/16 on 2
   * workers went from 89 to 72 ms per step with 256. It is a collection threshold, not
   * memory taken up front. 0 leaves V8's default; a `--initial-old-space-size` given to node
   * wins over this.
   */
  initialOldSpaceMb?: number;
}

/**
 * What {@link fitDataParallel} returns: the history, and the trained model's full training
 * state (weights, optimizer, schedule position) from replica 0, identical in every replica.
 *
 * @example
 * ```ts
 * const { history, state }: DataParallelResult = await fitDataParallel({ job: './job.mjs' });
 * ```
 */
export interface DataParallelResult {
  history: History;
  state: TrainingState;
  replicas: number;
}

/**
 * Trains one model on several cores at once (Node): `replicas` worker threads each build the
 * same job (model, data, fit options) from the `job` module, each trains on its own rows of
 * every batch on a single-threaded WASM backend, and all apply the same row-weighted mean
 * gradient through shared memory, so the model copies stay bit-identical. On a 2-core machine
 * a MobileNetV2 fine-tune step runs about 1.7x faster than on one thread (see the docs'
 * performance page); tfjs's own threaded build splits each kernel and gains nothing there.
 *
 * What differs from one Trainer on the whole batch: batch norm normalises over each replica's
 * rows ("ghost" batch norm; keep batches of 16+ rows), a task's loss is averaged per replica
 * (as PyTorch's DistributedDataParallel does), and validation runs in every replica. GradNorm
 * weighting is refused (it keeps per-batch state outside the model).
 *
 * Put the weights into a model of your own with `trainer.fit(data, { resumeFrom: state })`
 * or `restoreTrainedParams(model.params, state)`. Each replica holds its own copy of the
 * model and of whatever data the job loads. The workers load graft from the installed
 * `@graft/core` package (the file this function is in), so use it unbundled.
 *
 * @example
 * ```ts
 * const { history, state } = await fitDataParallel({
 *   job: new URL('./job.mjs', import.meta.url),
 *   replicas: 2,
 *   options: { epochs: 5 },
 *   onEpochEnd: (logs) => console.log(`epoch ${logs.epoch + 1}: loss ${logs.loss.toFixed(3)}`),
 * });
 * restoreTrainedParams(model.params, state);
 * ```
 */
export async function fitDataParallel(options: DataParallelOptions): Promise<DataParallelResult> {
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new GraftError('BACKEND_UNSUPPORTED', 'fitDataParallel runs in Node only', {
      where: 'fitDataParallel',
      hint: "In the browser, train with one Trainer: tfjs's threaded WASM build splits each kernel when the page is cross-origin isolated.",
    });
  }
  const { Worker } = await import('node:worker_threads');
  const os = await import('node:os');
  const replicas = options.replicas ?? Math.min(8, os.availableParallelism?.() ?? os.cpus().length);
  if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= 64)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `replicas must be a whole number in 1..64, got ${replicas}`,
      {
        where: 'fitDataParallel',
      },
    );
  }
  const jobUrl = await toModuleUrl(options.job);
  const resume = options.resumeFrom ? encodeTrainingState(options.resumeFrom) : undefined;
  const heap = await workerHeapFlag(options.initialOldSpaceMb ?? 256);
  // The worker loads graft from the file this function came from, as an ES module, so the
  // job's own `import '@graft/core'` gets the same module instance there.
  const coreUrl = import.meta.url.replace(/\.cjs$/, '.js');
  const source = `import(${JSON.stringify(coreUrl)}).then((core) => core.runDataParallelReplica());`;
  const workers = Array.from({ length: replicas }, (_, rank) => {
    const workerData: ReplicaWorkerData = {
      jobUrl,
      rank,
      replicas,
      options: options.options,
      epochStates: options.epochStates ?? false,
      ...(resume ? { resumeFrom: resume } : {}),
    };
    return new Worker(source, { eval: true, workerData });
  });

  // Each replica reports how many values it exchanges per step; the group's memory is made
  // once all have, and sent to them (until then no replica can wait for another).
  const capacities: number[] = [];
  let memory: ReplicaGroupMemory | undefined;
  let history: History | undefined;
  let state: TrainingState | undefined;
  const errors: { rank: number; error: SerializedError }[] = [];
  // onEpochEnd may be async (writing a checkpoint): run them (and the warnings between them)
  // in order, and wait for them.
  let epochReports: Promise<void> = Promise.resolve();
  const onAbort = () => {
    if (memory) requestReplicaStop(memory);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve) => {
      let exited = 0;
      workers.forEach((worker, rank) => {
        worker.on('message', (m: ReplicaMessage) => {
          if (m.type === 'ready') {
            capacities.push(m.capacity);
            if (capacities.length === replicas) {
              heap.restore(); // every replica's heap exists now
              memory = createReplicaGroupMemory({ replicas, capacity: Math.max(...capacities) });
              if (options.signal?.aborted) requestReplicaStop(memory);
              for (const w of workers) w.postMessage({ memory });
            }
          } else if (m.type === 'step') {
            options.onStepEnd?.(m.logs as StepLogs);
          } else if (m.type === 'epoch') {
            const epochState = m.state ? decodeTrainingState(m.state) : undefined;
            epochReports = epochReports.then(async () => {
              await options.onEpochEnd?.(m.logs as EpochLogs, epochState);
            });
          } else if (m.type === 'warning') {
            // Queued with the epoch reports, so the order is one Trainer's: a warning raised in
            // epoch N comes after epoch N-1's report and before epoch N's.
            const print = m.handled ? undefined : (message: string) => console.warn(message);
            const warn = options.onWarning ?? print;
            if (warn) epochReports = epochReports.then(() => warn(m.message));
          } else if (m.type === 'done') {
            if (m.history) history = m.history as History;
            if (m.state) state = decodeTrainingState(m.state);
          } else if (m.type === 'error') {
            errors.push({ rank, error: m.error });
            // A replica that failed before the group existed cannot wake the others: end them.
            if (!memory) for (const w of workers) void w.terminate();
          }
        });
        worker.on('error', (e: Error) => {
          errors.push({
            rank,
            error: { message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
          });
          for (const w of workers) void w.terminate();
        });
        worker.once('exit', () => {
          exited++;
          if (exited === replicas) resolve();
        });
      });
    });
  } finally {
    heap.restore();
    options.signal?.removeEventListener('abort', onAbort);
  }
  await epochReports;
  if (errors.length > 0) throw firstCause(errors);
  if (!history || !state) {
    throw new GraftError('REPLICA_FAILED', 'The replicas ended without a result', {
      where: 'fitDataParallel',
    });
  }
  return { history, state, replicas };
}

/** The error that started it: a replica's own failure rather than the others' "replica k failed". */
function firstCause(errors: { rank: number; error: SerializedError }[]): Error {
  const root = errors.find((e) => e.error.code !== 'REPLICA_FAILED') ?? errors[0];
  const { rank, error } = root as { rank: number; error: SerializedError };
  const e = error.code
    ? new GraftError(error.code as GraftErrorCode, `in replica ${rank}`)
    : new Error(`Replica ${rank} failed: ${error.message}`);
  if (error.code) {
    // The replica's message already reads "what (where). hint".
    e.message = error.message;
    Object.assign(e, { where: error.where, hint: error.hint });
  }
  if (error.stack) e.stack = `${e.name}: ${e.message}\n(replica ${rank})\n${error.stack}`;
  return e;
}

/**
 * Sets V8's initial old-space size for the worker heaps about to start (a process-wide flag
 * that new isolates read when their heap is set up) and returns how to put the default back
 * once they exist, so that later workers of the application are not affected.
 */
async function workerHeapFlag(mb: number): Promise<{ restore(): void }> {
  const given = process.execArgv.some((a) => a.startsWith('--initial-old-space-size'));
  if (!(mb > 0) || given) return { restore: () => {} };
  const v8 = await import('node:v8');
  v8.setFlagsFromString(`--initial-old-space-size=${Math.round(mb)}`);
  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      v8.setFlagsFromString('--initial-old-space-size=0'); // V8's default: sized by heuristics
    },
  };
}

async function toModuleUrl(job: string | URL): Promise<string> {
  if (job instanceof URL) return job.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(job) && !/^[a-z]:[\\/]/i.test(job)) return job; // a URL already
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  return pathToFileURL(resolve(job)).href;
}

/**
 * Puts the trained weights of a training state (e.g. `fitDataParallel`'s) into a model's
 * parameters. Every parameter must be in the state with the same shape; nothing is half
 * applied.
 *
 * @example
 * ```ts
 * const { state } = await fitDataParallel({ job: './job.mjs' });
 * restoreTrainedParams(model.params, state);
 * ```
 */
export function restoreTrainedParams(params: readonly Param[], state: TrainingState): void {
  writeParams(params, state.params, 'restoreTrainedParams');
}

import { initBackend } from '../backend/initBackend';
import { GraftError, isGraftError } from '../errors';
import { isMovingStatistic } from '../nn/param';
import type { TrainerCallback } from '../train/callbacks/trainerCallback';
import { Trainer } from '../train/trainer';
import { decodeTrainingState, encodeTrainingState } from '../train/trainingState';
import type { ReplicaJob, ReplicaJobContext } from './dataParallelJob';
import { ReplicaGroup, type ReplicaGroupMemory } from './replicaGroup';
import { stepExchangeLength } from './stepExchange';

/** What fitDataParallel hands each worker (workerData). */
export interface ReplicaWorkerData {
  jobUrl: string;
  rank: number;
  replicas: number;
  options: unknown;
  /** Rank 0 sends the encoded training state with every epoch's logs. */
  epochStates: boolean;
  /** An encoded training state every replica resumes from. */
  resumeFrom?: Uint8Array;
}

/** Messages between a replica and the starting thread. */
export type ReplicaMessage =
  | { type: 'ready'; capacity: number }
  | { type: 'step'; logs: unknown }
  | { type: 'epoch'; logs: unknown; state?: Uint8Array }
  /** `handled`: the job's Trainer options have an onWarning of their own, which heard it. */
  | { type: 'warning'; message: string; handled: boolean }
  | { type: 'done'; history?: unknown; state?: Uint8Array }
  | { type: 'error'; error: SerializedError };

export interface SerializedError {
  message: string;
  code?: string;
  where?: string;
  hint?: string;
  stack?: string;
}

/**
 * The worker-thread side of `fitDataParallel`: starts a single-threaded WASM backend, builds
 * the job, reports how much shared memory it needs, waits for the group's memory, then
 * trains as its replica. Rank 0 reports progress and warnings and, at the end, the history
 * and the training state. Not for direct use: `fitDataParallel` runs it in each worker it
 * starts.
 *
 * @example
 * ```ts
 * // inside a worker started by fitDataParallel
 * await runDataParallelReplica();
 * ```
 */
export async function runDataParallelReplica(): Promise<void> {
  const { parentPort, workerData } = await import('node:worker_threads');
  const port = parentPort;
  if (!port)
    throw new Error('runDataParallelReplica runs inside a worker started by fitDataParallel');
  const data = workerData as ReplicaWorkerData;
  const post = (message: ReplicaMessage, transfer: ArrayBuffer[] = []) =>
    port.postMessage(message, transfer);
  let group: ReplicaGroup | undefined;
  try {
    // One core per replica: the single-threaded SIMD build (graft's Node default).
    await initBackend({ backend: 'wasm', threads: 1, fallback: false });
    const job = await buildJob(data);
    const { model } = job.trainer;
    const strategyParams = job.trainer.strategy?.params?.() ?? [];
    // The most any step exchanges: every parameter trainable (a plan may open more later).
    const capacity = stepExchangeLength({
      params: [...model.params, ...strategyParams],
      statistics: model.params.filter((p) => isMovingStatistic(p.kind)),
      tasks: model.tasks.length,
    });
    const memory = await new Promise<ReplicaGroupMemory>((resolve) => {
      port.once('message', (m: { memory: ReplicaGroupMemory }) => resolve(m.memory));
      post({ type: 'ready', capacity });
    });
    group = new ReplicaGroup(memory, data.rank, { blocking: true });
    // Every replica trains on the same batches and sees the group's summed label counts, so
    // each would raise the same warnings: only replica 0's go to the starting thread. The
    // job's own onWarning still hears its replica's.
    const jobWarning = job.trainer.onWarning;
    const onWarning = (message: string) => {
      jobWarning?.(message);
      if (data.rank === 0) post({ type: 'warning', message, handled: jobWarning !== undefined });
    };
    const trainer = new Trainer({ ...job.trainer, dataParallel: group, onWarning });
    const report: TrainerCallback = {
      onStepEnd: (logs) => post({ type: 'step', logs }),
      onEpochEnd: (logs, control) => {
        if (!data.epochStates) return post({ type: 'epoch', logs });
        const state = encodeTrainingState(control.state());
        post({ type: 'epoch', logs, state }, [state.buffer as ArrayBuffer]);
      },
    };
    // Last, so that the state it sends holds the other callbacks' decisions.
    const callbacks = [...(job.fit.callbacks ?? []), ...(data.rank === 0 ? [report] : [])];
    const resumeFrom = data.resumeFrom ? decodeTrainingState(data.resumeFrom) : job.fit.resumeFrom;
    const history = await trainer.fit(job.data, {
      ...job.fit,
      callbacks,
      ...(resumeFrom ? { resumeFrom } : {}),
    });
    if (data.rank === 0) {
      const state = encodeTrainingState(trainer.state());
      post({ type: 'done', history, state }, [state.buffer as ArrayBuffer]);
    } else {
      post({ type: 'done' });
    }
    trainer.dispose();
  } catch (e) {
    group?.fail();
    post({ type: 'error', error: serializeError(e) });
  }
}

async function buildJob(data: ReplicaWorkerData): Promise<ReplicaJob> {
  let module: { default?: unknown };
  try {
    module = await import(data.jobUrl);
  } catch (cause) {
    throw new GraftError('INVALID_ARGUMENT', `Could not load the job module ${data.jobUrl}`, {
      where: 'fitDataParallel',
      hint: 'Pass the path or file: URL of an ES module whose default export builds the job.',
      cause,
    });
  }
  if (typeof module.default !== 'function') {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `The job module ${data.jobUrl} has no default export function`,
      {
        where: 'fitDataParallel',
        hint: 'export default async function job({ rank, replicas, options }) { return { trainer, data, fit }; }',
      },
    );
  }
  const context: ReplicaJobContext = {
    rank: data.rank,
    replicas: data.replicas,
    options: data.options,
  };
  const job = (await module.default(context)) as ReplicaJob;
  if (!job?.trainer?.model || !job.data || !job.fit) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `The job from ${data.jobUrl} must return { trainer: { model, ... }, data, fit }`,
      { where: 'fitDataParallel' },
    );
  }
  return job;
}

function serializeError(e: unknown): SerializedError {
  if (isGraftError(e)) {
    return {
      message: e.message,
      code: e.code,
      ...(e.where !== undefined ? { where: e.where } : {}),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      ...(e.stack !== undefined ? { stack: e.stack } : {}),
    };
  }
  const error = e instanceof Error ? e : new Error(String(e));
  return { message: error.message, ...(error.stack !== undefined ? { stack: error.stack } : {}) };
}

import { writeFile } from 'node:fs/promises';
import {
  encodeTrainingState,
  type ReplicaJob,
  type ReplicaJobContext,
  type TrainerCallback,
  type TrainingControl,
} from '@graft/core';
import { loadConfig } from '../config/loadConfig';
import { setupTraining } from '../pipeline/trainingSetup';
import { recordReplicas } from '../run/checkpoints';

/**
 * What `graft train --replicas N` hands every replica (plain data; the stop flags are shared
 * memory): the replica loads the config itself and builds the model and data with the same
 * `setupTraining` as the main thread.
 */
export interface TrainReplicaOptions {
  config: string;
  set: readonly string[];
  baseDir: string;
  /** Shared flags, see {@link REPLICA_STOP}. */
  stop: Int32Array;
  /** Where replica 0 writes the training state after the step it stopped at. */
  stopState: string;
}

/**
 * Slots of the shared stop flags. The main thread stores the signal's code in `signal`;
 * replica 0 sees it after its next step, writes that step's training state (the checkpoint
 * `--resume` continues from, mid-epoch) and asks the group to stop, and stores 1 + the epoch
 * it stopped in into `stoppedEpoch` (that epoch's closing logs are not an epoch of the run).
 */
export const REPLICA_STOP = { signal: 0, stoppedEpoch: 1 } as const;
export const STOP_SIGNALS = ['', 'SIGINT', 'SIGTERM'] as const;

/** Shared stop flags for {@link TrainReplicaOptions}. */
export function replicaStopFlags(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * The job module of `graft train --replicas N` (fitDataParallel loads it in every worker):
 * the model, data, Trainer options and fit options of the config, exactly as the main
 * thread builds them. Replicas log nothing (the main thread does); fitDataParallel sends
 * replica 0's Trainer warnings to the main thread, which prints them.
 */
export default async function trainReplicaJob(context: ReplicaJobContext): Promise<ReplicaJob> {
  const options = context.options as TrainReplicaOptions;
  const config = await loadConfig(options.config, options.set);
  const setup = await setupTraining(config, {
    configPath: options.config,
    baseDir: options.baseDir,
  });
  // Last: the state it saves holds the other callbacks' decisions.
  const callbacks = [
    ...setup.callbacks(),
    recordReplicas(context.replicas),
    ...(context.rank === 0 ? [stopOnSignal(options.stop, options.stopState)] : []),
  ];
  return {
    trainer: setup.trainer,
    data: setup.trainSource,
    fit: {
      epochs: config.epochs,
      ...(setup.validation ? { validation: setup.validation } : {}),
      callbacks,
    },
  };
}

/**
 * Replica 0's side of Ctrl-C: as `runCheckpoints` does in one thread, the state after the
 * current step (or at the epoch end, or before the first step) is the checkpoint; then the
 * group stops before the next step.
 */
function stopOnSignal(flags: Int32Array, path: string): TrainerCallback {
  let stopped = false;
  const stopIfAsked = async (control: TrainingControl) => {
    const code = Atomics.load(flags, REPLICA_STOP.signal);
    if (code === 0 || stopped) return;
    stopped = true;
    const state = control.state();
    await writeFile(path, encodeTrainingState(state));
    Atomics.store(flags, REPLICA_STOP.stoppedEpoch, state.cursor.epoch + 1);
    control.stop(`interrupted by ${STOP_SIGNALS[code] ?? 'a signal'}`);
  };
  return {
    onTrainBegin: (control) => stopIfAsked(control),
    onStepEnd: (_logs, control) => stopIfAsked(control),
    onEpochEnd: (_logs, control) => stopIfAsked(control),
  };
}

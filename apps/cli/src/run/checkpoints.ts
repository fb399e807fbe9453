import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeTrainingState,
  encodeTrainingState,
  GraftError,
  type TrainerCallback,
  type TrainingState,
} from '@graft/core';
import type { InterruptWatch, StopSignal } from './interrupts';
import { CHECKPOINT_FILE, type RunDirectory } from './runDirectory';

/** Where a stopped run stopped, for the "continue with" line. */
export interface StoppedAt {
  signal: StopSignal;
  /** 0-based epoch in progress and batches of it done. */
  epoch: number;
  batch: number;
  step: number;
}

/**
 * Saves the full training state to `checkpoint.bin` in the run directory after every epoch,
 * and, when a signal has arrived, after the current step and then stops training. Put it
 * last among the callbacks, so that what it saves includes the others' decisions.
 */
export function runCheckpoints(
  run: RunDirectory,
  interrupts: InterruptWatch,
  onStopped: (at: StoppedAt) => void,
): TrainerCallback {
  let stopped = false;
  const save = async (state: TrainingState, why: string) => {
    await saveCheckpoint(run, state, why);
    return state;
  };
  const stopIfAsked = async (control: Parameters<Required<TrainerCallback>['onStepEnd']>[1]) => {
    const signal = interrupts.signal;
    if (signal === undefined || stopped) return;
    stopped = true;
    const state = await save(control.state(), signal);
    control.stop(`interrupted by ${signal}`);
    onStopped({
      signal,
      epoch: state.cursor.epoch,
      batch: state.cursor.batch,
      step: state.globalStep,
    });
  };
  return {
    onTrainBegin: (control) => stopIfAsked(control),
    onStepEnd: (_logs, control) => stopIfAsked(control),
    async onEpochEnd(logs, control) {
      if (interrupts.signal !== undefined) return stopIfAsked(control);
      await save(control.state(), `end of epoch ${logs.epoch + 1}`);
    },
  };
}

/** Writes `checkpoint.bin` (atomically) and says so in run.log, with why and where it stands. */
export async function saveCheckpoint(
  run: RunDirectory,
  state: TrainingState,
  why: string,
): Promise<void> {
  await run.write(CHECKPOINT_FILE, encodeTrainingState(state));
  run.log(
    `checkpoint (${why}): epoch ${state.cursor.epoch + 1}, batch ${state.cursor.batch}, step ${state.globalStep}`,
  );
}

/** Where a training state keeps the replica count that trained it (see `recordReplicas`). */
const REPLICAS_KEY = 'graftReplicas';

/**
 * Records in every training state the run saves (so in checkpoint.bin, with the state it
 * belongs to) how many replicas trained it: batch norm normalises over each replica's rows,
 * so a run resumed on another count does not end where the uninterrupted run would have.
 * Saves state only; there is nothing to restore.
 */
export function recordReplicas(replicas: number): TrainerCallback {
  return { stateKey: REPLICAS_KEY, saveState: () => ({ data: { replicas } }) };
}

/** How many replicas trained up to a checkpoint; 1 for one written before this was recorded. */
export function checkpointReplicas(state: TrainingState): number {
  const data = state.callbacks?.get(REPLICAS_KEY)?.data as { replicas?: unknown } | undefined;
  const replicas = data?.replicas;
  return typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 1 ? replicas : 1;
}

/** The state an interrupted run saved. */
export async function readCheckpoint(run: RunDirectory): Promise<TrainingState> {
  const path = join(run.path, CHECKPOINT_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new GraftError('CHECKPOINT_NOT_FOUND', 'Cannot read the checkpoint', {
      where: path,
      hint: 'Start the run again with --force.',
      cause,
    });
  }
  return decodeTrainingState(bytes, path);
}

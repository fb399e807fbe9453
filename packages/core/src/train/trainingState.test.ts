import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { isGraftError } from '../errors';
import type { BatchSource } from './batch';
import { earlyStopping } from './callbacks/earlyStopping';
import type { TrainerCallback } from './callbacks/trainerCallback';
import { type GradientStrategy, gradientsOfCombinedLoss, weightedSum } from './gradientStrategy';
import { cosineSchedule } from './schedules';
import { tinyBatch, tinyTwoTaskModel } from './testing/tinyTwoTaskModel';
import { Trainer } from './trainer';
import type { History } from './trainingLogs';
import { decodeTrainingState, encodeTrainingState, type TrainingState } from './trainingState';

const EPOCHS = 3;
const BATCHES = 4;

/** Every epoch its own batch order, from the epoch alone: what a seeded shuffle gives. */
const source: BatchSource = {
  batchCount: BATCHES,
  *batches(epoch) {
    for (let i = 0; i < BATCHES; i++) {
      yield tinyBatch({ size: 8, seed: 1000 + ((epoch * 7 + i * 3) % 11), missingFlag: 0.2 });
    }
  },
};

/**
 * A strategy with host state that changes training: task weights from the last epoch's
 * losses (DWA's shape), so a resumed run that lost them would train differently.
 */
function lossRatioWeights(): GradientStrategy {
  let weights: Record<string, number> = { flag: 1, level: 1 };
  let epochs = 0;
  return {
    name: 'lossRatio',
    computeGradients: (context) => gradientsOfCombinedLoss(context, (l) => weightedSum(l, weights)),
    onEpochEnd(means) {
      epochs++;
      const total = Object.values(means).reduce((a, b) => a + b, 0);
      weights = Object.fromEntries(Object.entries(means).map(([t, m]) => [t, (2 * m) / total]));
    },
    taskWeights: () => ({ ...weights }),
    state: () => ({ weights, epochs }),
    restoreState(state) {
      ({ weights, epochs } = state as { weights: Record<string, number>; epochs: number });
    },
  };
}

function setup(seed: number) {
  const model = tinyTwoTaskModel(seed);
  const trainer = new Trainer({
    model,
    optimizer: { type: 'adamw', learningRate: 0.05 },
    schedule: cosineSchedule({ minFactor: 0.1 }),
    strategy: lossRatioWeights(),
    clipNorm: 5,
  });
  return { model, trainer };
}

const weightsOf = (model: ReturnType<typeof tinyTwoTaskModel>) =>
  new Map(model.params.map((p) => [p.name, Array.from(p.variable.dataSync())]));

/** The history without wall-clock times. */
const numbers = (h: History) => h.epochs.map(({ seconds: _, ...rest }) => rest);

describe('training state (save, restore, resume)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });
  const made: { dispose(): void }[] = [];
  afterEach(() => {
    for (const m of made.splice(0)) m.dispose();
  });

  /** Trains with a callback that saves the state at `when` and stops there. */
  async function interruptedAt(when: 'step' | 'epoch', at: number): Promise<Uint8Array> {
    const { model, trainer } = setup(1);
    made.push(model, trainer);
    let saved: Uint8Array | undefined;
    const stopper: TrainerCallback = {
      onStepEnd(logs, control) {
        if (when === 'step' && logs.step === at) {
          saved = encodeTrainingState(control.state());
          control.stop('interrupted');
        }
      },
      onEpochEnd(logs, control) {
        if (when === 'epoch' && logs.epoch === at) {
          saved = encodeTrainingState(control.state());
          control.stop('interrupted');
        }
      },
    };
    await trainer.fit(source, { epochs: EPOCHS, callbacks: [stopper] });
    expect(saved).toBeDefined();
    return saved as Uint8Array;
  }

  it('a run stopped mid-epoch and resumed in a fresh model ends bit-identical to an uninterrupted one', async () => {
    const straight = setup(1);
    made.push(straight.model, straight.trainer);
    const full = await straight.trainer.fit(source, { epochs: EPOCHS });

    for (const [when, at] of [
      ['step', 6],
      ['step', 4],
      ['epoch', 0],
    ] as const) {
      const bytes = await interruptedAt(when, at);
      // Another seed: every value must come from the state, none from the initialisation.
      const fresh = setup(99);
      made.push(fresh.model, fresh.trainer);
      const before = tf.memory().numTensors;
      const state = decodeTrainingState(bytes);
      const resumed = await fresh.trainer.fit(source, { epochs: EPOCHS, resumeFrom: state });
      expect(weightsOf(fresh.model), `${when} ${at}`).toEqual(weightsOf(straight.model));
      expect(numbers(resumed), `${when} ${at}`).toEqual(numbers(full));
      expect(fresh.trainer.step).toBe(straight.trainer.step);
      expect(fresh.trainer.optimizer.stepCount).toBe(straight.trainer.optimizer.stepCount);
      // Nothing leaked: the only new tensors are the optimizer's restored moments.
      expect(tf.memory().numTensors).toBe(before + fresh.trainer.optimizer.stateTensorCount());
    }
  });

  it('early stopping resumes with its best value, patience and best weights', async () => {
    const validation = [tinyBatch({ size: 16, seed: 77 })];
    const run = async (
      seed: number,
      stopAt?: number,
      resumeFrom?: TrainingState,
      saveAtEpoch?: number,
    ) => {
      const { model, trainer } = setup(seed);
      made.push(model, trainer);
      let saved: TrainingState | undefined;
      const history = await trainer.fit(source, {
        epochs: 12,
        validation,
        ...(resumeFrom ? { resumeFrom } : {}),
        callbacks: [
          earlyStopping({ patience: 2, minDelta: 0.05 }),
          {
            onEpochEnd(logs, control) {
              if (logs.epoch === saveAtEpoch) saved = control.state();
            },
            onStepEnd(logs, control) {
              if (logs.step === stopAt) {
                saved = decodeTrainingState(encodeTrainingState(control.state()));
                control.stop('interrupted');
              }
            },
          },
        ],
      });
      return { model, history, saved };
    };
    try {
      const straight = await run(1);
      // The run stops early and ends on its best epoch's weights, not its last.
      expect(straight.history.stopReason).toMatch(/early stopping/);
      const epochs = straight.history.epochs.length;
      const stopAt = (epochs - 1) * BATCHES + 2;
      const first = await run(1, stopAt);
      expect(first.saved?.callbacks?.get('earlyStopping')?.tensors?.size).toBeGreaterThan(0);
      const resumed = await run(42, undefined, first.saved);
      expect(weightsOf(resumed.model)).toEqual(weightsOf(straight.model));
      expect(numbers(resumed.history)).toEqual(numbers(straight.history));
      expect(resumed.history.stopReason).toBe(straight.history.stopReason);
      // Saved after early stopping decided to stop (a run killed while writing its model):
      // the resumed run trains no further and ends on the same weights.
      const decided = await run(1, undefined, undefined, epochs - 1);
      expect(decided.saved?.cursor.stopReason).toBe(straight.history.stopReason);
      const after = await run(43, undefined, decided.saved);
      expect(after.history.epochs).toHaveLength(epochs);
      expect(weightsOf(after.model)).toEqual(weightsOf(straight.model));
    } finally {
      tf.dispose(
        validation.flatMap((b) => [b.x, ...Object.values(b.targets), ...Object.values(b.mask)]),
      );
    }
  });

  it('round-trips through bytes exactly, including NaN and the optimizer moments', () => {
    const state: TrainingState = {
      version: 1,
      globalStep: 5,
      cursor: {
        epoch: 1,
        batch: 2,
        scheduleStep: 6,
        totalLoss: 0.1 + 0.2,
        lossSums: [1 / 3, 0],
        counts: [7, 0],
        learningRate: Number.NaN,
        history: [],
      },
      params: new Map([['a/kernel', { shape: [2, 1], values: new Float32Array([1.5, -0]) }]]),
      optimizer: {
        updates: 5,
        slots: new Map([
          [
            'a/kernel',
            [
              { shape: [2, 1], values: new Float32Array([1e-30, 3]) },
              { shape: [2, 1], values: new Float32Array([Number.POSITIVE_INFINITY, 4]) },
            ],
          ],
        ]),
      },
      strategy: { weights: { a: 0.7 } },
    };
    // An unaligned view, as a Buffer from readFile may be.
    const bytes = encodeTrainingState(state);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const back = decodeTrainingState(shifted.subarray(1));
    expect(back).toEqual(state);
    expect(Object.is(back.params.get('a/kernel')?.values[1], -0)).toBe(true);
  });

  it('refuses a damaged file or another model, changing nothing', async () => {
    const bytes = await interruptedAt('step', 2);
    const damaged = [bytes.subarray(0, 40), new TextEncoder().encode('{"not": "a state"}')];
    for (const b of damaged) {
      let caught: unknown;
      try {
        decodeTrainingState(b, 'run/checkpoint/state.bin');
      } catch (e) {
        caught = e;
      }
      expect(isGraftError(caught, 'CHECKPOINT_INVALID'), String(caught)).toBe(true);
      expect(String(caught)).toMatch(/run\/checkpoint\/state\.bin/);
    }

    const state = decodeTrainingState(bytes);
    const params = new Map(state.params);
    const [name, value] = [...params][0] as [string, { shape: number[]; values: Float32Array }];
    params.set(name, { shape: [value.values.length], values: value.values });
    const other = setup(5);
    made.push(other.model, other.trainer);
    const before = weightsOf(other.model);
    let caught: unknown;
    try {
      await other.trainer.fit(source, { epochs: EPOCHS, resumeFrom: { ...state, params } });
    } catch (e) {
      caught = e;
    }
    expect(isGraftError(caught, 'CHECKPOINT_INVALID'), String(caught)).toBe(true);
    expect(String(caught)).toMatch(/shape/);
    expect(weightsOf(other.model)).toEqual(before);
  });
});

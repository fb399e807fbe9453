import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import type { Batch, BatchSource } from './batch';
import { type TinyModel, tinyBatch, tinyTwoTaskModel } from './testing/tinyTwoTaskModel';
import type { TrainablePlan } from './trainablePlan';
import { Trainer, type TrainerOptions } from './trainer';

// The Trainer's automatic feature cache: exact (same weights as running the whole model),
// the trunk runs once per example, and it stays out of the way whenever it would not be exact.

const EXAMPLES = 48;
const BATCH = 16;

/** A frozen trunk (BN on moving statistics) and trainable heads: what headsOnly() gives. */
function headsOnlyPlan(model: TinyModel): TrainablePlan {
  return {
    params: new Map(
      model.params.map((p) => [
        p.name,
        { trainable: p.block.startsWith('head:'), lrScale: p.block.startsWith('head:') ? 1 : 0 },
      ]),
    ),
    batchNorm: new Map([['trunk_bn', 'inference']]),
  };
}

function everythingPlan(model: TinyModel): TrainablePlan {
  return {
    params: new Map(model.params.map((p) => [p.name, { trainable: true, lrScale: 1 }])),
    batchNorm: new Map([['trunk_bn', 'train']]),
  };
}

/** Heads only for `frozenEpochs`, then everything: the shape of fineTune / gradual. */
function openAt(model: TinyModel, frozenEpochs: number): TrainablePlan {
  const frozen = headsOnlyPlan(model);
  const open = everythingPlan(model);
  return { ...frozen, at: (epoch) => (epoch < frozenEpochs ? frozen : open) };
}

/**
 * Fresh batches every pass, reshuffled per epoch, each row carrying its example's id, as
 * @graft/datasets' batches() builds them. `augmented` is what the batches claim.
 */
function examples(options: { augmented?: boolean; ids?: boolean; duplicate?: boolean } = {}) {
  const all = tinyBatch({ size: EXAMPLES, seed: 3, missingFlag: 0.2 });
  const x = all.x.arraySync() as number[][];
  const flag = all.targets.flag?.arraySync() as number[][];
  const flagMask = all.mask.flag?.arraySync() as number[][];
  const level = all.targets.level?.arraySync() as number[][];
  tf.dispose([all.x, ...Object.values(all.targets), ...Object.values(all.mask)]);
  const source: BatchSource = {
    batchCount: EXAMPLES / BATCH,
    *batches(epoch: number): Iterable<Batch> {
      // A fixed permutation per epoch: rotate and interleave.
      const order = Array.from({ length: EXAMPLES }, (_, i) => (i * 7 + epoch * 5) % EXAMPLES);
      for (let start = 0; start < EXAMPLES; start += BATCH) {
        const rows = order.slice(start, start + BATCH);
        yield {
          x: tf.tensor2d(rows.map((r) => x[r] as number[])),
          targets: {
            flag: tf.tensor2d(rows.map((r) => flag[r] as number[])),
            level: tf.tensor2d(rows.map((r) => level[r] as number[])),
          },
          mask: {
            flag: tf.tensor2d(rows.map((r) => flagMask[r] as number[])),
            level: tf.ones([rows.length, 1]),
          },
          ...(options.ids === false
            ? {}
            : { ids: rows.map((r) => `ex-${options.duplicate ? r % 40 : r}`) }),
          ...(options.augmented === undefined ? {} : { augmented: options.augmented }),
        };
      }
    },
  };
  return source;
}

const weights = (model: TinyModel) => model.params.map((p) => Array.from(p.variable.dataSync()));

function expectSameWeights(a: TinyModel, b: TinyModel) {
  const wa = weights(a);
  const wb = weights(b);
  wa.forEach((values, i) => {
    values.forEach((v, k) => {
      expect(Math.abs(v - (wb[i]?.[k] as number))).toBeLessThan(1e-5);
    });
  });
}

describe('Trainer feature cache', () => {
  const created: { dispose(): void }[] = [];
  const track = <T extends { dispose(): void }>(x: T): T => {
    created.push(x);
    return x;
  };

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });

  afterEach(() => {
    for (const x of created.splice(0)) x.dispose();
  });

  async function train(
    plan: (m: TinyModel) => TrainablePlan,
    data: BatchSource,
    options: Partial<TrainerOptions> & { epochs?: number } = {},
  ) {
    const model = track(tinyTwoTaskModel(1));
    const notes: string[] = [];
    const trainer = track(
      new Trainer({
        model,
        plan: plan(model),
        optimizer: { type: 'adamw', learningRate: 0.02, weightDecay: 1e-3 },
        onInfo: (m) => notes.push(m),
        ...options,
      }),
    );
    const trunkPerEpoch: number[] = [];
    const tensorsPerEpoch: number[] = [];
    const history = await trainer.fit(data, {
      epochs: options.epochs ?? 4,
      callbacks: [
        {
          onEpochEnd: () => {
            trunkPerEpoch.push(model.trunkRuns.images);
            tensorsPerEpoch.push(tf.memory().numTensors);
          },
        },
      ],
    });
    return { model, trainer, history, notes, trunkPerEpoch, tensorsPerEpoch };
  }

  it('gives the same weights and losses as running the whole model, for a heads-only plan', async () => {
    const cached = await train(headsOnlyPlan, examples({ augmented: false }));
    const whole = await train(headsOnlyPlan, examples({ augmented: false }), {
      featureCache: 'off',
    });
    expect(cached.notes.join('\n')).toMatch(/feature cache: on from epoch 1/);
    expect(whole.notes.join('\n')).toMatch(/feature cache: off at epoch 1: featureCache is 'off'/);
    expectSameWeights(cached.model, whole.model);
    cached.history.epochs.forEach((e, i) => {
      const other = whole.history.epochs[i];
      expect(e.loss).toBeCloseTo(other?.loss as number, 5);
      expect(e.taskLosses.flag).toBeCloseTo(other?.taskLosses.flag as number, 5);
      expect(e.taskLosses.level).toBeCloseTo(other?.taskLosses.level as number, 5);
    });
    // The heads did learn (the comparison is not between two untrained models).
    const first = cached.history.epochs[0]?.loss as number;
    expect(cached.history.epochs[3]?.loss).toBeLessThan(first);
  });

  it('runs the trunk once per example: never after the first epoch', async () => {
    const cached = await train(headsOnlyPlan, examples({ augmented: false }));
    expect(cached.trunkPerEpoch).toEqual([EXAMPLES, EXAMPLES, EXAMPLES, EXAMPLES]);
    const whole = await train(headsOnlyPlan, examples({ augmented: false }), {
      featureCache: 'off',
    });
    expect(whole.trunkPerEpoch).toEqual([1, 2, 3, 4].map((e) => e * EXAMPLES));
  });

  it('leaves no tensor behind over epochs, and keeps the cache in host memory', async () => {
    const before = tf.memory().numTensors;
    const cached = await train(headsOnlyPlan, examples({ augmented: false }), { epochs: 5 });
    // The optimizer's moments are created in the first step; from then on the count is flat.
    const [, ...later] = cached.tensorsPerEpoch;
    for (const n of later) expect(n).toBe(cached.tensorsPerEpoch[0]);
    cached.trainer.dispose();
    const afterTrainer = tf.memory().numTensors;
    // What is left is the model's own parameters, nothing the cache made.
    expect(afterTrainer - before).toBe(cached.model.params.length);
  });

  it('is not used for augmented batches, batches without ids or un-labelled augmentation', async () => {
    for (const [data, why] of [
      [examples({ augmented: true }), /the batches are augmented/],
      [examples({}), /do not say they are un-augmented/],
      [examples({ augmented: false, ids: false }), /carry no example ids/],
      [examples({ augmented: false, duplicate: true }), /occurs twice in one pass/],
    ] as const) {
      const run = await train(headsOnlyPlan, data, { epochs: 3 });
      expect(run.notes.join('\n')).toMatch(why);
      expect(run.trunkPerEpoch).toEqual([1, 2, 3].map((e) => e * EXAMPLES));
      const whole = await train(headsOnlyPlan, data, { epochs: 3, featureCache: 'off' });
      expectSameWeights(run.model, whole.model);
    }
  });

  it('is not used when any trunk parameter trains, or batch norm follows the batch', async () => {
    const everything = await train(everythingPlan, examples({ augmented: false }), { epochs: 2 });
    expect(everything.notes.join('\n')).toMatch(
      /off at epoch 1: trunk parameter trunk\/\w+ trains/,
    );
    expect(everything.trunkPerEpoch).toEqual([EXAMPLES, 2 * EXAMPLES]);
    const trainingBn = (m: TinyModel): TrainablePlan => ({
      ...headsOnlyPlan(m),
      batchNorm: new Map([['trunk_bn', 'train']]),
    });
    const bn = await train(trainingBn, examples({ augmented: false }), { epochs: 2 });
    expect(bn.notes.join('\n')).toMatch(/trunk_bn runs in train mode/);
    expect(bn.trunkPerEpoch).toEqual([EXAMPLES, 2 * EXAMPLES]);
    // One trunk weight left trainable is enough to turn it off.
    const oneOpen = (m: TinyModel): TrainablePlan => {
      const plan = headsOnlyPlan(m);
      const params = new Map(plan.params);
      params.set('trunk/bias', { trainable: true, lrScale: 1 });
      return { ...plan, params };
    };
    const open = await train(oneOpen, examples({ augmented: false }), { epochs: 2 });
    expect(open.notes.join('\n')).toMatch(/trunk parameter trunk\/bias trains/);
    expect(open.trunkPerEpoch).toEqual([EXAMPLES, 2 * EXAMPLES]);
  });

  it('is dropped at the epoch a schedule opens the trunk, and stays exact', async () => {
    const cached = await train((m) => openAt(m, 2), examples({ augmented: false }));
    expect(cached.notes.join('\n')).toMatch(/feature cache dropped at epoch 3: trunk parameter/);
    // Said once per change: on at epoch 1, dropped at epoch 3, nothing more at epoch 4.
    expect(cached.notes).toHaveLength(2);
    // Epochs 1-2 share one trunk pass; epochs 3-4 run the whole model.
    expect(cached.trunkPerEpoch).toEqual([EXAMPLES, EXAMPLES, 2 * EXAMPLES, 3 * EXAMPLES]);
    const whole = await train((m) => openAt(m, 2), examples({ augmented: false }), {
      featureCache: 'off',
    });
    expectSameWeights(cached.model, whole.model);
  });

  it('stays within its memory bound: examples beyond it run the trunk on every pass', async () => {
    // One cached row is 8 float32 features = 32 bytes; room for 20 of the 48 examples.
    const bounded = await train(headsOnlyPlan, examples({ augmented: false }), {
      featureCacheBytes: 20 * 32,
    });
    expect(bounded.notes.join('\n')).toMatch(/feature cache full at 20 examples/);
    expect(bounded.trunkPerEpoch).toEqual([1, 2, 3, 4].map((e) => EXAMPLES + (e - 1) * 28));
    const whole = await train(headsOnlyPlan, examples({ augmented: false }), {
      featureCache: 'off',
    });
    expectSameWeights(bounded.model, whole.model);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { isGraftError } from '../errors';
import type { Batch, BatchSource } from './batch';
import { checkpoint } from './callbacks/checkpoint';
import { earlyStopping } from './callbacks/earlyStopping';
import { metricsLogger } from './callbacks/metricsLogger';
import { progress } from './callbacks/progress';
import type { TrainerCallback } from './callbacks/trainerCallback';
import { type GradientStrategy, gradientsOfCombinedLoss, weightedSum } from './gradientStrategy';
import { cosineSchedule } from './schedules';
import { type TinyModel, tinyBatch, tinyTwoTaskModel } from './testing/tinyTwoTaskModel';
import type { TrainablePlan } from './trainablePlan';
import { Trainer } from './trainer';

const values = (model: TinyModel) =>
  new Map(model.params.map((p) => [p.name, Array.from(p.variable.dataSync())]));

const batches = (n: number, seed: number, options: Partial<Parameters<typeof tinyBatch>[0]> = {}) =>
  Array.from({ length: n }, (_, i) => tinyBatch({ size: 16, seed: seed + i, ...options }));

const disposeAll = (bs: Batch[]) => {
  for (const b of bs) tf.dispose([b.x, ...Object.values(b.targets), ...Object.values(b.mask)]);
};

async function expectGraftError(run: () => unknown, code: string, message?: RegExp) {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  expect(isGraftError(caught), String(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
  if (message) expect(String((caught as Error).message)).toMatch(message);
}

/** A plan freezing the trunk (Dense and BN) and running BN on its moving statistics. */
function frozenTrunkPlan(model: TinyModel): TrainablePlan {
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

describe('Trainer', () => {
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

  it('trains both tasks, and a whole epoch leaves the tensor count where it was', async () => {
    const model = track(tinyTwoTaskModel(1));
    const trainer = track(new Trainer({ model, optimizer: { type: 'adam', learningRate: 0.03 } }));
    const train = batches(8, 10);
    const counts: number[] = [];
    const history = await trainer.fit(train, {
      epochs: 6,
      callbacks: [{ onEpochEnd: () => void counts.push(tf.memory().numTensors) }],
    });
    const first = history.epochs[0];
    const last = history.epochs[5];
    expect(last?.taskLosses.flag).toBeLessThan(0.6 * (first?.taskLosses.flag as number));
    expect(last?.taskLosses.level).toBeLessThan(0.6 * (first?.taskLosses.level as number));
    expect(last?.labelled).toEqual({ flag: 8 * 16 * 2, level: 8 * 16 });
    // Optimizer state is created during epoch 1; after that every epoch ends level.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(trainer.step).toBe(6 * 8);
    disposeAll(train);
  });

  it('updates trainable parameters only: frozen ones stay bit-identical, BN statistics too', async () => {
    const model = track(tinyTwoTaskModel(2));
    const before = values(model);
    const trainer = track(
      new Trainer({
        model,
        plan: frozenTrunkPlan(model),
        optimizer: { type: 'sgd', learningRate: 0.1 },
      }),
    );
    const train = batches(3, 20);
    await trainer.fit(train, { epochs: 2 });
    const after = values(model);
    for (const p of model.params) {
      const same = JSON.stringify(after.get(p.name)) === JSON.stringify(before.get(p.name));
      expect([p.name, same]).toEqual([p.name, !p.block.startsWith('head:')]);
    }
    disposeAll(train);
  });

  it("scales each parameter's learning rate by the plan's lrScale", async () => {
    const run = async (headScale: number) => {
      const model = track(tinyTwoTaskModel(3));
      const start = values(model);
      const plan: TrainablePlan = {
        params: new Map(
          model.params.map((p) => [
            p.name,
            { trainable: true, lrScale: p.block === 'head:flag' ? headScale : 1 },
          ]),
        ),
      };
      const trainer = track(
        new Trainer({ model, plan, optimizer: { type: 'sgd', learningRate: 0.1 } }),
      );
      const train = batches(1, 30);
      await trainer.fit(train, { epochs: 1 });
      disposeAll(train);
      const end = values(model);
      const delta = (name: string) =>
        (end.get(name) as number[]).map((v, i) => v - ((start.get(name) as number[])[i] as number));
      return { flag: delta('flag/kernel'), trunk: delta('trunk/kernel') };
    };
    const full = await run(1);
    const half = await run(0.5);
    // One SGD step from the same weights: the head moves half as far, the trunk the same.
    half.flag.forEach((d, i) => {
      expect(d).toBeCloseTo(0.5 * (full.flag[i] as number), 6);
    });
    expect(half.trunk).toEqual(full.trunk);
  });

  it('follows the schedule: cosine from the base rate down to 0', async () => {
    const model = track(tinyTwoTaskModel(4));
    const trainer = track(
      new Trainer({
        model,
        schedule: cosineSchedule(),
        optimizer: { type: 'adam', learningRate: 0.01 },
      }),
    );
    const rates: number[] = [];
    const train = batches(5, 40);
    await trainer.fit(train, {
      epochs: 1,
      callbacks: [{ onStepEnd: (s) => void rates.push(s.learningRate) }],
    });
    expect(rates[0]).toBeCloseTo(0.01, 12);
    expect(rates[2]).toBeCloseTo(0.005, 12);
    expect(rates[4]).toBeCloseTo(0, 12);
    disposeAll(train);
  });

  it('stops on a NaN loss with a clear message and keeps the last good weights', async () => {
    const model = track(tinyTwoTaskModel(5));
    const trainer = track(new Trainer({ model, optimizer: { type: 'adam', learningRate: 0.01 } }));
    const good = batches(2, 50);
    const poisoned = tinyBatch({ size: 16, seed: 60 });
    const bad: Batch = { ...poisoned, x: tf.fill([16, 4], Number.NaN) };
    let snapshot = new Map<string, number[]>();
    const source: BatchSource = {
      *batches() {
        yield* good.map((b) => ({ ...b, x: tf.clone(b.x) }));
        snapshot = values(model);
        yield bad;
      },
    };
    await expectGraftError(
      () => trainer.fit(source, { epochs: 1 }),
      'NAN_LOSS',
      /Loss became NaN at epoch 1, step 3 \(task losses: flag NaN, level NaN\).*last good step/,
    );
    expect(values(model)).toEqual(snapshot);
    // The Trainer owned the failing batch and still released it.
    expect(bad.x.isDisposed && (bad.mask.flag as tf.Tensor).isDisposed).toBe(true);
    disposeAll(good);
    tf.dispose(poisoned.x);
  });

  it('warns, and never divides by zero, when a task has no labels for a whole epoch', async () => {
    const model = track(tinyTwoTaskModel(6));
    const warnings: string[] = [];
    const trainer = track(new Trainer({ model, onWarning: (m) => void warnings.push(m) }));
    const train = batches(3, 70, { noLevel: true });
    const history = await trainer.fit(train, { epochs: 1 });
    expect(warnings.join('\n')).toMatch(/task "level" had no labelled examples in epoch 1/);
    expect(history.epochs[0]?.labelled.level).toBe(0);
    expect('level' in (history.epochs[0]?.taskLosses ?? {})).toBe(false);
    expect(Number.isFinite(history.epochs[0]?.loss)).toBe(true);
    expect(Object.values(values(model)).flat().every(Number.isFinite)).toBe(true);
    disposeAll(train);
  });

  it('evaluate averages each task over its labelled entries and passes the metrics through', async () => {
    const model = track(tinyTwoTaskModel(7));
    const trainer = track(new Trainer({ model }));
    // Two batches with very different labelled counts for `flag`.
    const data = [
      tinyBatch({ size: 16, seed: 80 }),
      tinyBatch({ size: 16, seed: 81, missingFlag: 0.8 }),
    ];
    const result = await trainer.evaluate(data);
    // Reference: per-entry losses summed over both batches, divided by the labelled count.
    let sum = 0;
    let n = 0;
    for (const b of data) {
      const out = model.forward(b.x, { training: false });
      const z = await (out.flag as tf.Tensor).data();
      const y = await (b.targets.flag as tf.Tensor).data();
      const m = await (b.mask.flag as tf.Tensor).data();
      z.forEach((zi, i) => {
        if (m[i]) {
          sum += Math.max(zi, 0) - zi * (y[i] as number) + Math.log1p(Math.exp(-Math.abs(zi)));
          n++;
        }
      });
      tf.dispose(Object.values(out));
    }
    expect(result.labelled.flag).toBe(n);
    expect(result.taskLosses.flag).toBeCloseTo(sum / n, 5);
    expect(result.loss).toBeCloseTo(
      (result.taskLosses.flag as number) + (result.taskLosses.level as number),
      6,
    );
    expect(result.metrics['level/mae']).toBeGreaterThan(0);
    expect(result.report).toEqual({ n: 32 });
    disposeAll(data);
  });

  it('disposes batches it owns (a BatchSource) and not those it is lent (an array)', async () => {
    const model = track(tinyTwoTaskModel(8));
    const trainer = track(new Trainer({ model }));
    const lent = batches(2, 90);
    const made: Batch[] = [];
    const source: BatchSource = {
      batchCount: 2,
      *batches(epoch) {
        for (let i = 0; i < 2; i++) {
          const b = tinyBatch({ size: 8, seed: 100 + 10 * epoch + i });
          made.push(b);
          yield b;
        }
      },
    };
    await trainer.fit(source, { epochs: 2, validation: lent });
    expect(made.length).toBe(4);
    expect(made.every((b) => b.x.isDisposed && (b.mask.flag as tf.Tensor).isDisposed)).toBe(true);
    expect(lent.every((b) => !b.x.isDisposed)).toBe(true);
    disposeAll(lent);
  });

  it('gives a strategy consistent extra passes: BN statistics move once per step', async () => {
    const twoPasses: GradientStrategy = {
      name: 'twoPasses',
      computeGradients(context) {
        // A throwaway pass first, as PCGrad/GradNorm make; it must not touch BN statistics.
        tf.dispose(
          tf.variableGrads(
            () => weightedSum(context.taskLosses()),
            context.variables as tf.Variable[],
          ),
        );
        return gradientsOfCombinedLoss(context, (l) => weightedSum(l));
      },
      taskWeights: () => ({ flag: 1, level: 1 }),
    };
    const stats = async (strategy?: GradientStrategy) => {
      const model = track(tinyTwoTaskModel(9));
      const trainer = track(new Trainer({ model, ...(strategy ? { strategy } : {}) }));
      const train = batches(2, 110);
      await trainer.fit(train, { epochs: 1 });
      disposeAll(train);
      return [
        ...(await model.norm.movingMean.variable.data()),
        ...(await model.norm.movingVariance.variable.data()),
      ];
    };
    expect(await stats(twoPasses)).toEqual(await stats());
  });

  it('follows a plan that changes between epochs (plan.at)', async () => {
    const model = track(tinyTwoTaskModel(10));
    const frozen = frozenTrunkPlan(model);
    const open: TrainablePlan = {
      params: new Map(model.params.map((p) => [p.name, { trainable: true, lrScale: 1 }])),
    };
    const plan: TrainablePlan = { ...frozen, at: (epoch) => (epoch === 0 ? frozen : open) };
    const trainer = track(new Trainer({ model, plan }));
    const start = values(model).get('trunk/kernel');
    const train = batches(2, 120);
    let afterFirst: number[] | undefined;
    await trainer.fit(train, {
      epochs: 2,
      callbacks: [
        {
          onEpochEnd: (l) => {
            if (l.epoch === 0) afterFirst = values(model).get('trunk/kernel');
          },
        },
      ],
    });
    expect(afterFirst).toEqual(start);
    expect(values(model).get('trunk/kernel')).not.toEqual(start);
    disposeAll(train);
  });

  describe('callbacks', () => {
    it('early stopping stops after `patience` epochs without improvement and restores the best weights', async () => {
      const model = track(tinyTwoTaskModel(11));
      const trainer = track(new Trainer({ model }));
      const train = batches(2, 130);
      const val = batches(1, 140);
      // A made-up monitor that is best at epoch 1 (0-based) and worse afterwards.
      const script = [3, 1, 2, 2.5, 2.6, 2.7];
      let best: Map<string, number[]> | undefined;
      const history = await trainer.fit(train, {
        epochs: 6,
        validation: val,
        callbacks: [
          {
            onEpochEnd: (l) => {
              if (l.epoch === 1) best = values(model);
            },
          },
          earlyStopping({ monitor: (l) => script[l.epoch] as number, patience: 2 }),
        ],
      });
      expect(history.epochs.length).toBe(4);
      expect(history.stopReason).toMatch(
        /early stopping: .* did not improve for 2 epochs \(best 1\.000 at epoch 1\)/,
      );
      expect(values(model)).toEqual(best);
      disposeAll([...train, ...val]);
    });

    it('checkpoint saves only improving epochs, as host copies of every parameter', async () => {
      const model = track(tinyTwoTaskModel(12));
      const trainer = track(new Trainer({ model }));
      const train = batches(2, 150);
      const saved: number[] = [];
      let lastWeights: ReadonlyMap<string, { values: Float32Array }> | undefined;
      const script = [2, 1, 3, 0.5];
      await trainer.fit(train, {
        epochs: 4,
        callbacks: [
          checkpoint({
            monitor: (l) => script[l.epoch] as number,
            save: (c) => {
              saved.push(c.epoch);
              lastWeights = c.weights;
            },
          }),
        ],
      });
      expect(saved).toEqual([0, 1, 3]);
      expect(lastWeights?.size).toBe(model.params.length);
      expect(Array.from(lastWeights?.get('flag/kernel')?.values ?? [])).toEqual(
        values(model).get('flag/kernel'),
      );
      disposeAll(train);
    });

    it('progress prints a line per epoch; metricsLogger records rows and CSV', async () => {
      const model = track(tinyTwoTaskModel(13));
      const trainer = track(new Trainer({ model }));
      const lines: string[] = [];
      const logger = metricsLogger();
      const train = batches(2, 160);
      const val = batches(1, 170);
      await trainer.fit(train, {
        epochs: 2,
        validation: val,
        callbacks: [progress({ log: (l) => void lines.push(l), epochs: 2 }), logger],
      });
      expect(lines.length).toBe(2);
      expect(lines[1]).toMatch(
        /^epoch 2\/2 {2}loss \d\.\d{4} \(flag \d\.\d{4}, level \d\.\d{4}\) {2}val loss \d\.\d{4} {2}level\/mae \d\.\d{4} {2}\d+\.\ds$/,
      );
      expect(logger.rows.map((r) => r.epoch)).toEqual([0, 1]);
      const csv = logger.toCSV().split('\n');
      expect(csv[0]).toBe(
        'epoch,loss,learningRate,flag.loss,level.loss,flag.weight,level.weight,val.loss,val.flag.loss,val.level.loss,val.level/mae,seconds',
      );
      expect(csv.length).toBe(3);
      disposeAll([...train, ...val]);
    });

    it('a callback can stop training mid-epoch', async () => {
      const model = track(tinyTwoTaskModel(14));
      const trainer = track(new Trainer({ model }));
      const train = batches(4, 180);
      const stopper: TrainerCallback = {
        onStepEnd: (s, c) => (s.step === 2 ? c.stop('enough') : undefined),
      };
      const history = await trainer.fit(train, { epochs: 3, callbacks: [stopper] });
      expect(history.epochs.length).toBe(1);
      expect(history.epochs[0]?.steps).toBe(2);
      expect(history.stopReason).toBe('enough');
      disposeAll(train);
    });
  });

  describe('bad input', () => {
    it('a batch without one of the model tasks', async () => {
      const model = track(tinyTwoTaskModel(15));
      const trainer = track(new Trainer({ model }));
      const b = tinyBatch({ size: 4, seed: 1 });
      const partial: Batch = {
        x: b.x,
        targets: { flag: b.targets.flag as tf.Tensor },
        mask: { flag: b.mask.flag as tf.Tensor },
      };
      await expectGraftError(
        () => trainer.fit([partial], { epochs: 1 }),
        'TASK_NOT_FOUND',
        /no targets or mask for task "level".*carries: flag/,
      );
      disposeAll([b]);
    });

    it('a plan naming parameters the model lacks, a plan freezing everything', async () => {
      const model = track(tinyTwoTaskModel(16));
      const b = batches(1, 2);
      const alien: TrainablePlan = {
        params: new Map([['other/kernel', { trainable: true, lrScale: 1 }]]),
      };
      await expectGraftError(
        () => track(new Trainer({ model, plan: alien })).fit(b, { epochs: 1 }),
        'PLAN_MISMATCH',
        /other\/kernel/,
      );
      const none: TrainablePlan = {
        params: new Map(model.params.map((p) => [p.name, { trainable: false, lrScale: 0 }])),
      };
      await expectGraftError(
        () => track(new Trainer({ model, plan: none })).fit(b, { epochs: 1 }),
        'NOTHING_TRAINABLE',
      );
      disposeAll(b);
    });

    it('a schedule that needs the step count with a stream that cannot tell; no batches at all', async () => {
      const model = track(tinyTwoTaskModel(17));
      const trainer = track(new Trainer({ model, schedule: cosineSchedule() }));
      const stream = { batches: function* () {} };
      await expectGraftError(
        () => trainer.fit(stream, { epochs: 1 }),
        'INVALID_ARGUMENT',
        /stepsPerEpoch/,
      );
      await expectGraftError(
        () => trainer.fit(stream, { epochs: 1, stepsPerEpoch: 3 }),
        'NO_BATCHES',
      );
      await expectGraftError(() => trainer.evaluate([]), 'NO_BATCHES');
    });

    it('a loss that leaves out a task; a model without a loss', async () => {
      const model = track(tinyTwoTaskModel(18));
      const b = batches(1, 3);
      const partialLoss = (
        outputs: Parameters<NonNullable<TinyModel['loss']>>[0],
        batch: Batch,
      ) => {
        const all = model.loss?.(outputs, batch) ?? {};
        tf.dispose(all.level);
        return { flag: all.flag as tf.Scalar };
      };
      await expectGraftError(
        () => track(new Trainer({ model, loss: partialLoss })).fit(b, { epochs: 1 }),
        'TASK_NOT_FOUND',
        /no loss for task "level"/,
      );
      const { loss: _drop, ...lossless } = model;
      await expectGraftError(
        () => new Trainer({ model: lossless }),
        'INVALID_ARGUMENT',
        /No loss function/,
      );
      disposeAll(b);
    });
  });
});

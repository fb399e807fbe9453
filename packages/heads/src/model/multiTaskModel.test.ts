import { type Batch, initBackend, isGraftError, Trainer } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classification } from '../heads/classification';
import { multiLabel } from '../heads/multiLabel';
import { regression } from '../heads/regression';
import { tuneThresholds } from '../metrics/tuneThresholds';
import { disposeBatches, quadrantBatch } from '../testing/syntheticBatches';
import { tinyTrunk } from '../testing/tinyTrunk';
import { type MultiTaskModel, multiTaskModel } from './multiTaskModel';
import { headsFor } from './taskSpecs';

const QUADS = ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'];
const heads = () => ({
  quad: multiLabel({ labels: QUADS }),
  brightest: classification({ classes: ['red', 'green', 'blue'], hidden: [6], dropout: 0.2 }),
  amount: regression({ outputs: 1, attachAt: 'stem' }),
});

function expectGraftError(run: () => unknown, code: string, message?: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(isGraftError(caught), String(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
  if (message) expect((caught as Error).message).toMatch(message);
}

describe('multiTaskModel', () => {
  const owned: { dispose(): void }[] = [];
  const own = <T extends { dispose(): void }>(x: T) => {
    owned.push(x);
    return x;
  };
  const build = (options: Partial<Parameters<typeof multiTaskModel>[0]> = {}): MultiTaskModel => {
    const backbone = own(tinyTrunk());
    return own(multiTaskModel({ backbone, tasks: heads(), seed: 3, ...options }));
  };

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });
  afterEach(() => {
    for (const x of owned.splice(0)) x.dispose();
  });

  it('one trunk, one head per task: outputs, parameter names and blocks, attach points', () => {
    const model = build();
    const x = tf.zeros([5, 8, 8, 3]);
    const out = model.forward(x, { training: false });
    expect(Object.fromEntries(Object.entries(out).map(([t, v]) => [t, v.shape]))).toEqual({
      quad: [5, 4],
      brightest: [5, 3],
      amount: [5, 1],
    });
    expect(model.taskParams.brightest?.map((p) => [p.name, p.block, p.variable.shape])).toEqual([
      ['brightest_hidden_1/kernel', 'head:brightest', [8, 6]],
      ['brightest_hidden_1/bias', 'head:brightest', [6]],
      ['brightest_output/kernel', 'head:brightest', [6, 3]],
      ['brightest_output/bias', 'head:brightest', [3]],
    ]);
    // `amount` reads the stem (4 channels), the others the trunk output (8).
    expect(model.taskParams.amount?.[0]?.variable.shape).toEqual([4, 1]);
    expect(model.attachedTo).toEqual({ quad: 'block_1', brightest: 'block_1', amount: 'stem' });
    expect(model.blocks.map((b) => b.name)).toEqual(['stem', 'block_1']);
    expect(model.params.length).toBe(model.backbone.params.length + 4 + 2 + 2);
    tf.dispose([x, ...Object.values(out)]);
  });

  it('attaches at a layer inside a block (its width found by a trial pass)', () => {
    const model = build({ tasks: { amount: regression({ outputs: 2, attachAt: 'stem_conv' }) } });
    expect(model.taskParams.amount?.[0]?.variable.shape).toEqual([4, 2]);
    const out = model.forward(tf.ones([2, 8, 8, 3]), { training: true });
    expect(out.amount?.shape).toEqual([2, 2]);
  });

  it('a single task is plain transfer learning', async () => {
    const model = build({ tasks: { quad: multiLabel({ labels: QUADS }) } });
    const trainer = own(new Trainer({ model, optimizer: { type: 'adam', learningRate: 0.02 } }));
    const data = [0, 1, 2].map((i) => quadrantBatch({ size: 8, batch: 16, seed: 10 + i }));
    const history = await trainer.fit(data, { epochs: 8 });
    expect(history.epochs[7]?.loss).toBeLessThan(0.7 * (history.epochs[0]?.loss as number));
    disposeBatches(data);
  });

  it('predict gives probabilities and values; dropout repeats within a step and differs across steps', () => {
    const model = build();
    const x = quadrantBatch({ size: 8, batch: 4, seed: 1 }).x;
    const p = model.predict(x);
    const rowSums = tf.sum(p.brightest as tf.Tensor, 1).dataSync();
    for (const s of rowSums) expect(s).toBeCloseTo(1, 5);
    const q = (p.quad as tf.Tensor).dataSync();
    expect(q.every((v) => v > 0 && v < 1)).toBe(true);
    const run = (step: number) =>
      Array.from((model.forward(x, { training: true, step }).brightest as tf.Tensor).dataSync());
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('masking at model level: blanked examples give the gradients of the batch without them', () => {
    // Batch norm on moving statistics (inference mode), so each example's gradient
    // contribution is independent of the others and removal is well defined.
    const model = build();
    const full = quadrantBatch({ size: 8, batch: 6, seed: 4 });
    const keep = [0, 2, 3];
    const blanked: Batch = {
      ...full,
      mask: {
        ...full.mask,
        quad: tf.tensor2d(
          [1, 0, 1, 1, 0, 0].flatMap((r) => [r, r, r, r]),
          [6, 4],
        ),
      },
    };
    const idx = tf.tensor1d(keep, 'int32');
    const removed: Batch = {
      x: tf.gather(full.x, idx),
      targets: Object.fromEntries(
        Object.entries(full.targets).map(([t, v]) => [t, tf.gather(v, idx)]),
      ),
      mask: Object.fromEntries(Object.entries(full.mask).map(([t, v]) => [t, tf.gather(v, idx)])),
    };
    const vars = model.params.filter((p) => p.trainable).map((p) => p.variable);
    const gradsOf = (b: Batch) =>
      tf.variableGrads(() => {
        const out = model.forward(b.x, {
          training: true,
          batchNormModes: new Map([
            ['stem_bn', 'inference'],
            ['block_1_bn', 'inference'],
          ]),
        });
        return model.loss(out, b).quad as tf.Scalar;
      }, vars);
    const a = gradsOf(blanked);
    const b = gradsOf(removed);
    expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0] as number, 6);
    expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
    for (const [name, g] of Object.entries(a.grads)) {
      const ga = g.dataSync();
      const gb = (b.grads[name] as tf.Tensor).dataSync();
      ga.forEach((v, i) => {
        expect(v).toBeCloseTo(gb[i] as number, 6);
      });
    }
  });

  it('batch-norm modes from a plan: each trunk BN follows its own mode', () => {
    const model = build();
    const stat = (layer: string) =>
      Array.from(
        model.backbone.params.find((p) => p.name === `${layer}/moving_mean`)!.variable.dataSync(),
      );
    const before = { stem: stat('stem_bn'), block: stat('block_1_bn') };
    const x = quadrantBatch({ size: 8, batch: 4, seed: 2 }).x;
    const inference = new Map([
      ['stem_bn', 'inference' as const],
      ['block_1_bn', 'inference' as const],
    ]);
    model.forward(x, { training: true, batchNormModes: inference });
    expect([stat('stem_bn'), stat('block_1_bn')]).toEqual([before.stem, before.block]);
    const mixed = new Map([
      ['stem_bn', 'inference' as const],
      ['block_1_bn', 'train' as const],
    ]);
    model.forward(x, { training: true, batchNormModes: mixed });
    expect(stat('stem_bn')).toEqual(before.stem);
    expect(stat('block_1_bn')).not.toEqual(before.block);
  });

  it('thresholds: defaults, tuned on validation data, carried by describe()', async () => {
    const model = build();
    expect(model.thresholds('quad')).toEqual([0.5, 0.5, 0.5, 0.5]);
    const data = [quadrantBatch({ size: 8, batch: 32, seed: 7 })];
    const tuned = await tuneThresholds(model, data);
    expect(tuned.quad?.length).toBe(4);
    expect(model.thresholds('quad')).toEqual(tuned.quad?.map((t) => t.threshold));
    // Tuned F1 can only match or beat the default threshold's on the same data.
    const metrics = model.metrics();
    const out = model.forward(data[0]?.x as tf.Tensor, { training: false });
    metrics.update(out, data[0] as Batch);
    const meanF1 = metrics.result().scalars['quad/meanF1'] as number;
    const tunedMean = (tuned.quad ?? []).reduce((s, t) => s + t.f1, 0) / 4;
    expect(meanF1).toBeCloseTo(tunedMean, 6);
    const described = model.describe();
    expect(described.tasks.quad?.thresholds).toEqual(model.thresholds('quad'));
    expect(described.tasks.amount).toMatchObject({
      kind: 'regression',
      attachedTo: 'stem',
      outputs: 1,
    });
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
    disposeBatches(data);
  });

  describe('bad input', () => {
    it('a head attached to a missing layer', () => {
      expectGraftError(
        () => build({ tasks: { amount: regression({ outputs: 1, attachAt: 'block_9' }) } }),
        'LAYER_NOT_FOUND',
        /Head "amount" attaches at "block_9", which the backbone does not have.*Attach at a block \(stem, block_1\)/,
      );
    });

    it('targets whose shape does not match the head', () => {
      const model = build();
      const b = quadrantBatch({ size: 8, batch: 4, seed: 3 });
      const out = model.forward(b.x, { training: false });
      const wrong = { ...b, targets: { ...b.targets, quad: tf.zeros([4, 3]) } };
      expectGraftError(
        () => model.loss(out, wrong),
        'TARGET_MISMATCH',
        /Multi-label targets should be \[4, 4\] \(labels topLeft, topRight, bottomLeft, bottomRight\), got \[4, 3\]/,
      );
      const oneHot = {
        ...b,
        targets: { ...b.targets, brightest: tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3) },
      };
      expectGraftError(
        () => model.loss(out, oneHot),
        'TARGET_MISMATCH',
        /one class index per example/,
      );
    });

    it('a label set that does not match the head: out-of-range class, non-binary label, dataset specs', () => {
      const model = build();
      const b = quadrantBatch({ size: 8, batch: 4, seed: 5 });
      const out = model.forward(b.x, { training: false });
      const badClass = { ...b, targets: { ...b.targets, brightest: tf.tensor1d([0, 3, 1, 2]) } };
      expectGraftError(
        () => model.loss(out, badClass),
        'TARGET_MISMATCH',
        /class index 3, but the head has 3 classes \(red, green, blue\)/,
      );
      const badLabel = { ...b, targets: { ...b.targets, quad: tf.fill([4, 4], 2) } };
      expectGraftError(
        () => model.loss(out, badLabel),
        'TARGET_MISMATCH',
        /Label "topLeft" of example 0 is 2/,
      );
      const specs = {
        quad: {
          kind: 'multiLabel' as const,
          labels: ['topLeft', 'topRight', 'bottomRight', 'bottomLeft'],
        },
        brightest: { kind: 'classification' as const, classes: ['red', 'green', 'blue'] },
        amount: { kind: 'regression' as const, outputs: 1 },
      };
      expectGraftError(
        () => model.checkTasks(specs),
        'LABELS_MISMATCH',
        /labels \(topLeft, topRight, bottomRight, bottomLeft\) differ from the head's \(topLeft, topRight, bottomLeft, bottomRight\)/,
      );
      expect(() =>
        model.checkTasks({
          ...specs,
          quad: { kind: 'multiLabel', labels: QUADS },
          extra: { kind: 'regression', outputs: 2 },
        }),
      ).not.toThrow();
      expectGraftError(
        () => model.checkTasks({ quad: { kind: 'multiLabel', labels: QUADS } }),
        'TASK_NOT_FOUND',
        /The data has no task "brightest"/,
      );
    });

    it('a task name that does not exist; a batch without a model task', () => {
      const model = build();
      expectGraftError(
        () => model.thresholds('lanes'),
        'TASK_NOT_FOUND',
        /No task named "lanes".*quad, brightest, amount/,
      );
      expectGraftError(() => model.setThresholds('amount', [0.5]), 'INVALID_ARGUMENT');
      const b = quadrantBatch({ size: 8, batch: 2, seed: 6 });
      const out = model.forward(b.x, { training: false });
      const { amount: _t, ...targets } = b.targets;
      expectGraftError(
        () => model.loss(out, { ...b, targets }),
        'TASK_NOT_FOUND',
        /no targets or mask for task "amount"/,
      );
      expectGraftError(
        () => build({ tasks: { 'bad-name': regression({ outputs: 1 }) } }),
        'INVALID_ARGUMENT',
      );
    });

    it('headsFor builds matching heads from dataset task specs', () => {
      const specs = {
        presence: { kind: 'multiLabel' as const, labels: ['pedestrian', 'car'] },
        lightColour: { kind: 'classification' as const, classes: ['red', 'yellow', 'green'] },
        carCount: { kind: 'regression' as const, outputs: 1 },
      };
      const model = build({ tasks: headsFor(specs, { hidden: [4] }) });
      expect(() => model.checkTasks(specs)).not.toThrow();
      expect(model.heads.lightColour?.units).toBe(3);
      expect(model.heads.presence?.hidden).toEqual([4]);
    });
  });
});

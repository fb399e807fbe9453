import { initBackend } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maskedBinaryCrossEntropy } from './maskedBinaryCrossEntropy';
import { maskedHuber, maskedMeanSquaredError } from './maskedRegressionLosses';
import { maskedSoftmaxCrossEntropy } from './maskedSoftmaxCrossEntropy';

/** Every loss against a direct per-entry computation in plain JS (float64). */

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logits = [
  [0.5, -1.0, 3.0],
  [2.0, 0.3, -0.7],
  [-2.5, 1.5, 0.1],
  [0.0, -0.2, 4.0],
];
const labels = [
  [1, 0, 1],
  [0, 1, 0],
  [1, 1, 0],
  [0, 0, 1],
];
const mask = [
  [1, 0, 1],
  [1, 1, 1],
  [0, 0, 0],
  [1, 1, 0],
];
const cells = logits.flatMap((row, i) =>
  row.map((z, j) => ({ z, y: labels[i]?.[j] as number, m: mask[i]?.[j] as number })),
);
const labelled = cells.filter((c) => c.m === 1);

const value = async (t: tf.Tensor) => (await t.data())[0] as number;
const gradOf = (f: (z: tf.Tensor) => tf.Scalar, z: number[][]) =>
  tf
    .grad(f)(tf.tensor2d(z))
    .data()
    .then((d) => Array.from(d));

function expectAllClose(actual: number[], expected: number[], digits = 6) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a).toBeCloseTo(expected[i] as number, digits);
  });
}

describe('masked losses against direct computations', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  describe('binary cross-entropy', () => {
    const bce = (z: number, y: number) =>
      -(y * Math.log(sigmoid(z)) + (1 - y) * Math.log(1 - sigmoid(z)));

    it('plain: mean BCE over labelled entries; gradient (sigmoid(z) - y) / n there, 0 elsewhere', async () => {
      const f = (z: tf.Tensor) =>
        maskedBinaryCrossEntropy(z, tf.tensor2d(labels), tf.tensor2d(mask));
      const expected = labelled.reduce((s, c) => s + bce(c.z, c.y), 0) / labelled.length;
      expect(await value(f(tf.tensor2d(logits)))).toBeCloseTo(expected, 6);
      expectAllClose(
        await gradOf(f, logits),
        cells.map((c) => (c.m ? (sigmoid(c.z) - c.y) / labelled.length : 0)),
      );
    });

    it('positive weights, per label: w * -log(p) on positives, -log(1-p) on negatives', async () => {
      const w = [3, 1, 0.5];
      const loss = maskedBinaryCrossEntropy(
        tf.tensor2d(logits),
        tf.tensor2d(labels),
        tf.tensor2d(mask),
        {
          positiveWeight: w,
        },
      );
      const expected =
        cells.reduce((s, c, k) => {
          if (!c.m) return s;
          const wk = w[k % 3] as number;
          return s - (wk * c.y * Math.log(sigmoid(c.z)) + (1 - c.y) * Math.log(1 - sigmoid(c.z)));
        }, 0) / labelled.length;
      expect(await value(loss)).toBeCloseTo(expected, 6);
    });

    it('focal: alpha_t (1 - p_t)^gamma BCE, and its gradient matches finite differences', async () => {
      const focal = { gamma: 2, alpha: 0.25 };
      const ref = (z: number, y: number) => {
        const pt = y ? sigmoid(z) : 1 - sigmoid(z);
        const at = y ? 0.25 : 0.75;
        return at * (1 - pt) ** 2 * -Math.log(pt);
      };
      const f = (z: tf.Tensor) =>
        maskedBinaryCrossEntropy(z, tf.tensor2d(labels), tf.tensor2d(mask), { focal });
      const expected = labelled.reduce((s, c) => s + ref(c.z, c.y), 0) / labelled.length;
      expect(await value(f(tf.tensor2d(logits)))).toBeCloseTo(expected, 6);
      const h = 1e-5;
      const numeric = cells.map((c) =>
        c.m ? (ref(c.z + h, c.y) - ref(c.z - h, c.y)) / (2 * h) / labelled.length : 0,
      );
      expectAllClose(await gradOf(f, logits), numeric, 5);
    });

    it('stays finite for huge logits; 0 with no labels; rejects focal gamma in (0, 1)', async () => {
      const big = maskedBinaryCrossEntropy(
        tf.tensor2d([[1000, -1000]]),
        tf.tensor2d([[0, 1]]),
        tf.tensor2d([[1, 1]]),
      );
      expect(await value(big)).toBeCloseTo(1000, 3);
      const none = maskedBinaryCrossEntropy(tf.ones([2, 2]), tf.ones([2, 2]), tf.zeros([2, 2]));
      expect(await value(none)).toBe(0);
      expect(() =>
        maskedBinaryCrossEntropy(tf.ones([1, 1]), tf.ones([1, 1]), tf.ones([1, 1]), {
          focal: { gamma: 0.5 },
        }),
      ).toThrow(/gamma must be 0 or >= 1/);
      expect(() =>
        maskedBinaryCrossEntropy(tf.ones([2, 3]), tf.ones([2, 2]), tf.ones([2, 3])),
      ).toThrow(/targets has shape \[2, 2\] but logits has \[2, 3\]/);
    });
  });

  describe('softmax cross-entropy', () => {
    const classIndex = [2, 0, 1, 1];
    const exampleMask = [1, 1, 0, 1];
    const logSoftmax = (row: number[]) => {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      return row.map((v) => v - lse);
    };

    it('with label smoothing and class weights, mean over labelled examples; gradient (softmax - q) w / n', async () => {
      const eps = 0.1;
      const w = [1, 2, 0.5];
      const f = (z: tf.Tensor) =>
        maskedSoftmaxCrossEntropy(z, tf.tensor1d(classIndex), tf.tensor1d(exampleMask), {
          labelSmoothing: eps,
          classWeights: w,
        });
      const n = 3;
      let expected = 0;
      const grad: number[] = [];
      logits.forEach((row, i) => {
        const ls = logSoftmax(row);
        const y = classIndex[i] as number;
        const q = row.map((_, c) => (c === y ? 1 - eps : 0) + eps / 3);
        const wy = w[y] as number;
        if (exampleMask[i])
          expected += (wy * -q.reduce((s, qc, c) => s + qc * (ls[c] as number), 0)) / n;
        grad.push(
          ...row.map((_, c) =>
            exampleMask[i] ? (wy * (Math.exp(ls[c] as number) - (q[c] as number))) / n : 0,
          ),
        );
      });
      expect(await value(f(tf.tensor2d(logits)))).toBeCloseTo(expected, 6);
      expectAllClose(await gradOf(f, logits), grad);
    });

    it('ignores whatever index a missing example holds (out of range, NaN), and takes [batch, 1]', async () => {
      const a = maskedSoftmaxCrossEntropy(
        tf.tensor2d(logits),
        tf.tensor2d([[2], [0], [Number.NaN], [1]]),
        tf.tensor2d([[1], [1], [0], [1]]),
      );
      const b = maskedSoftmaxCrossEntropy(
        tf.tensor2d(logits),
        tf.tensor1d([2, 0, 17, 1]),
        tf.tensor1d(exampleMask),
      );
      const expected =
        [0, 1, 3].reduce(
          (s, i) => s - (logSoftmax(logits[i] as number[])[classIndex[i] as number] as number),
          0,
        ) / 3;
      expect(await value(a)).toBeCloseTo(expected, 6);
      expect(await value(b)).toBeCloseTo(expected, 6);
    });

    it('rejects a mask of the wrong length and class weights of the wrong size', () => {
      expect(() =>
        maskedSoftmaxCrossEntropy(tf.zeros([4, 3]), tf.zeros([4]), tf.zeros([3])),
      ).toThrow(/mask must be \[4\] or \[4, 1\]/);
      expect(() =>
        maskedSoftmaxCrossEntropy(tf.zeros([4, 3]), tf.zeros([4]), tf.ones([4]), {
          classWeights: [1, 2],
        }),
      ).toThrow(/classWeights has 2 entries for 3 classes/);
    });
  });

  describe('regression', () => {
    const pred = [
      [0.5, 2.0],
      [-1.0, 0.0],
      [3.0, -4.0],
    ];
    const target = [
      [0.0, 4.5],
      [Number.NaN, 0.2],
      [1.0, 100],
    ];
    const m = [
      [1, 1],
      [0, 1],
      [1, 0],
    ];
    const entries = pred.flatMap((row, i) =>
      row.map((p, j) => ({ p, y: target[i]?.[j] as number, m: m[i]?.[j] as number })),
    );
    const known = entries.filter((e) => e.m === 1);

    it('MSE over known entries; gradient 2 (p - y) / n; a NaN target where missing changes nothing', async () => {
      const f = (p: tf.Tensor) => maskedMeanSquaredError(p, tf.tensor2d(target), tf.tensor2d(m));
      expect(await value(f(tf.tensor2d(pred)))).toBeCloseTo(
        known.reduce((s, e) => s + (e.p - e.y) ** 2, 0) / known.length,
        6,
      );
      expectAllClose(
        await gradOf(f, pred),
        entries.map((e) => (e.m ? (2 * (e.p - e.y)) / known.length : 0)),
      );
    });

    it('Huber: quadratic inside delta, linear outside; gradient clip(e, -delta, delta) / n', async () => {
      const delta = 1.5;
      const huber = (e: number) =>
        Math.abs(e) <= delta ? 0.5 * e * e : delta * (Math.abs(e) - 0.5 * delta);
      const f = (p: tf.Tensor) => maskedHuber(p, tf.tensor2d(target), tf.tensor2d(m), delta);
      expect(await value(f(tf.tensor2d(pred)))).toBeCloseTo(
        known.reduce((s, e) => s + huber(e.p - e.y), 0) / known.length,
        6,
      );
      expectAllClose(
        await gradOf(f, pred),
        entries.map((e) => (e.m ? Math.max(-delta, Math.min(delta, e.p - e.y)) / known.length : 0)),
      );
    });
  });

  describe('masking: blanked labels = those examples removed from the task', () => {
    // Rows 1 and 3 are blanked (garbage targets); the reference batch leaves them out.
    const keep = [0, 2, 4];
    const z = [
      [0.3, -1.2],
      [5.0, 2.0],
      [-0.4, 0.9],
      [1.1, -3.0],
      [2.2, 0.05],
    ];
    const kept = keep.map((i) => z[i] as number[]);
    const rowMask = [1, 0, 1, 0, 1];
    const cases: {
      name: string;
      full: (x: tf.Tensor) => tf.Scalar;
      sub: (x: tf.Tensor) => tf.Scalar;
    }[] = [
      {
        name: 'binary cross-entropy (focal, weighted)',
        full: (x) =>
          maskedBinaryCrossEntropy(
            x,
            tf.tensor2d([
              [1, 0],
              [Number.NaN, 9],
              [0, 1],
              [-1, 1],
              [1, 1],
            ]),
            tf.tensor2d(rowMask.map((r) => [r, r])),
            {
              positiveWeight: 2,
              focal: { gamma: 2 },
            },
          ),
        sub: (x) =>
          maskedBinaryCrossEntropy(
            x,
            tf.tensor2d([
              [1, 0],
              [0, 1],
              [1, 1],
            ]),
            tf.ones([3, 2]),
            { positiveWeight: 2, focal: { gamma: 2 } },
          ),
      },
      {
        name: 'softmax cross-entropy',
        full: (x) =>
          maskedSoftmaxCrossEntropy(
            x,
            tf.tensor1d([1, -5, 0, Number.NaN, 1]),
            tf.tensor1d(rowMask),
            { labelSmoothing: 0.2 },
          ),
        sub: (x) =>
          maskedSoftmaxCrossEntropy(x, tf.tensor1d([1, 0, 1]), tf.ones([3]), {
            labelSmoothing: 0.2,
          }),
      },
      {
        name: 'MSE',
        full: (x) =>
          maskedMeanSquaredError(
            x,
            tf.tensor2d([
              [1, 2],
              [Number.NaN, 0],
              [3, 4],
              [1e30, 1],
              [5, 6],
            ]),
            tf.tensor2d(rowMask.map((r) => [r, r])),
          ),
        sub: (x) =>
          maskedMeanSquaredError(
            x,
            tf.tensor2d([
              [1, 2],
              [3, 4],
              [5, 6],
            ]),
            tf.ones([3, 2]),
          ),
      },
      {
        name: 'Huber',
        full: (x) =>
          maskedHuber(
            x,
            tf.tensor2d([
              [1, 2],
              [Number.NaN, 0],
              [3, 4],
              [7, 1],
              [5, 6],
            ]),
            tf.tensor2d(rowMask.map((r) => [r, r])),
            0.5,
          ),
        sub: (x) =>
          maskedHuber(
            x,
            tf.tensor2d([
              [1, 2],
              [3, 4],
              [5, 6],
            ]),
            tf.ones([3, 2]),
            0.5,
          ),
      },
    ];
    for (const c of cases) {
      it(`${c.name}: exactly the same loss, and the same gradient on the kept rows (0 on the blanked)`, async () => {
        expect(await value(c.full(tf.tensor2d(z)))).toBe(await value(c.sub(tf.tensor2d(kept))));
        const full = await gradOf(c.full, z);
        const sub = await gradOf(c.sub, kept);
        const expected: number[] = [];
        rowMask.forEach((r, i) => {
          const k = keep.indexOf(i);
          expected.push(...(r ? sub.slice(2 * k, 2 * k + 2) : [0, 0]));
        });
        // + 0 turns -0 into 0: a blanked entry's gradient may come out as either.
        expect(full.map((g) => g + 0)).toEqual(expected);
      });
    }
  });
});

import {
  createParam,
  type GradientStrategy,
  type GradientStrategyContext,
  initBackend,
  isGraftError,
  type Param,
  ParamOptimizer,
  Trainer,
} from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { multiLabel } from '../heads/multiLabel';
import { regression } from '../heads/regression';
import { multiTaskModel } from '../model/multiTaskModel';
import { disposeBatches, quadrantBatch, seededRandom } from '../testing/syntheticBatches';
import { tinyTrunk } from '../testing/tinyTrunk';
import { projectionCoefficients } from './pcGrad';
import { registerTaskWeighting, taskWeighting, taskWeightingNames } from './registry';

/**
 * A toy problem with known per-task gradients: a shared vector `w` and one scalar head
 * parameter per task; L_t = scale_t * (g_t . w) + a_t^2, so dL_t/dw = scale_t g_t and
 * dL_t/da_t = 2 a_t.
 */
function toy(directions: number[][], scales?: number[]) {
  const tasks = directions.map((_, i) => `t${i}`);
  const shared = createParam({ name: 'shared/kernel', block: 'trunk', kind: 'kernel' }, () =>
    tf.ones([directions[0]?.length ?? 0]),
  );
  const heads = tasks.map((t, i) =>
    createParam({ name: `${t}_output/bias`, block: `head:${t}`, kind: 'bias' }, () =>
      tf.scalar(i + 1),
    ),
  );
  const params: Param[] = [shared, ...heads];
  let step = 0;
  const context = (strategy: GradientStrategy): GradientStrategyContext => {
    step++;
    const own = (strategy.params?.() ?? []) as Param[];
    return {
      tasks,
      shared: [shared],
      taskSpecific: Object.fromEntries(tasks.map((t, i) => [t, [heads[i] as Param]])),
      variables: [...params, ...own].map((p) => p.variable),
      step,
      epoch: 0,
      taskLosses: () =>
        Object.fromEntries(
          tasks.map((t, i) => [
            t,
            tf.tidy(() =>
              tf.add(
                tf.mul(
                  scales?.[i] ?? 1,
                  tf.sum(tf.mul(shared.variable, tf.tensor1d(directions[i] as number[]))),
                ),
                tf.square((heads[i] as Param).variable),
              ),
            ) as tf.Scalar,
          ]),
        ),
    };
  };
  return {
    tasks,
    shared,
    heads,
    context,
    dispose: () => {
      for (const p of params) p.variable.dispose();
    },
  };
}

type Toy = ReturnType<typeof toy>;

/** Runs one step of `strategy` on the toy problem; returns gradients by parameter name. */
function step(problem: Toy, strategy: GradientStrategy) {
  const result = strategy.computeGradients(problem.context(strategy));
  const byName: Record<string, number[]> = {};
  for (const p of [problem.shared, ...problem.heads, ...((strategy.params?.() ?? []) as Param[])]) {
    const g = result.grads[p.variable.name];
    if (g) byName[p.name] = Array.from(g.dataSync());
  }
  const losses = Object.fromEntries(
    Object.entries(result.taskLosses).map(([t, l]) => [t, l.dataSync()[0] as number]),
  );
  const loss = result.loss.dataSync()[0] as number;
  tf.dispose([result.loss, ...Object.values(result.taskLosses), ...Object.values(result.grads)]);
  return { grads: byName, losses, loss };
}

const closeArray = (a: number[] | undefined, b: number[], digits = 5) => {
  expect(a?.length).toBe(b.length);
  b.forEach((v, i) => {
    expect(a?.[i]).toBeCloseTo(v, digits);
  });
};

describe('task weighting and gradient strategies', () => {
  const disposables: { dispose(): void }[] = [];
  const keep = <T extends { dispose(): void }>(x: T) => {
    disposables.push(x);
    return x;
  };
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });
  afterEach(() => {
    for (const d of disposables.splice(0)) d.dispose();
  });

  it('are selected by name; an unknown name lists the known ones; outside strategies register', () => {
    expect(taskWeightingNames()).toEqual([
      'equal',
      'static',
      'uncertainty',
      'dwa',
      'gradnorm',
      'pcgrad',
    ]);
    expect(taskWeighting('dwa', { temperature: 3 }).name).toBe('dwa');
    let caught: unknown;
    try {
      taskWeighting('nash' as string);
    } catch (e) {
      caught = e;
    }
    expect(isGraftError(caught, 'STRATEGY_UNKNOWN')).toBe(true);
    expect(String(caught)).toMatch(/Known: equal, static, uncertainty, dwa, gradnorm, pcgrad/);
    registerTaskWeighting('half', () => ({ ...taskWeighting('equal'), name: 'half' }));
    expect(taskWeighting('half').name).toBe('half');
    expect(() => registerTaskWeighting('half', () => taskWeighting('equal'))).toThrow(
      /exists already/,
    );
  });

  it('equal and static: the gradient of sum_t w_t L_t', () => {
    const problem = keep(
      toy([
        [1, 2],
        [3, -1],
      ]),
    );
    const equal = taskWeighting('equal');
    equal.init?.(problem.tasks);
    closeArray(step(problem, equal).grads['shared/kernel'], [4, 1]);
    const fixed = taskWeighting('static', { weights: { t0: 2, t1: 0.5 } });
    fixed.init?.(problem.tasks);
    const s = step(problem, fixed);
    closeArray(s.grads['shared/kernel'], [2 * 1 + 0.5 * 3, 2 * 2 - 0.5]);
    // Heads: each its own task's gradient, weighted: 2 a_0 w_0 = 4, 2 a_1 w_1 = 2.
    closeArray(s.grads['t0_output/bias'], [4]);
    closeArray(s.grads['t1_output/bias'], [2]);
    expect(fixed.taskWeights()).toEqual({ t0: 2, t1: 0.5 });
  });

  it('static weights name every task, and only tasks that exist', () => {
    const tasks = ['presence', 'lightColour'];
    expect(() =>
      taskWeighting('static', { weights: { presence: 1, lights: 2 } }).init?.(tasks),
    ).toThrow(
      /A weight is given for "lights", which is not a task of the model.*presence, lightColour/,
    );
    expect(() => taskWeighting('static', { weights: { presence: 1 } }).init?.(tasks)).toThrow(
      /No weight for task\(s\) lightColour/,
    );
    expect(() =>
      taskWeighting('static', { weights: { presence: 1, lightColour: -1 } }).init?.(tasks),
    ).toThrow(/>= 0/);
  });

  describe('PCGrad', () => {
    it('removes the conflicting component of two opposed task gradients', () => {
      // g0 = [1, 0], g1 = [-1, 1]: g0 . g1 = -1 < 0.
      // g0' = g0 - (-1/2) g1 = [0.5, 0.5]; g1' = g1 - (-1/1) g0 = [0, 1]; sum [0.5, 1.5].
      const problem = keep(
        toy([
          [1, 0],
          [-1, 1],
        ]),
      );
      const strategy = taskWeighting('pcgrad');
      strategy.init?.(problem.tasks);
      const s = step(problem, strategy);
      closeArray(s.grads['shared/kernel'], [0.5, 1.5]);
      // Each projected gradient is orthogonal to the other task's: no component left that
      // undoes the other task. (The plain sum [0, 1] would have dropped task 0's x entirely.)
      const g = [
        [1, 0],
        [-1, 1],
      ];
      const c = projectionCoefficients(
        [
          [1, -1],
          [-1, 2],
        ],
        [[1], [0]],
      );
      const projected = c.map((row) =>
        [0, 1].map(
          (k) =>
            (row[0] as number) * (g[0]?.[k] as number) + (row[1] as number) * (g[1]?.[k] as number),
        ),
      );
      closeArray(projected[0], [0.5, 0.5], 12);
      closeArray(projected[1], [0, 1], 12);
      const dot = (a: number[] | undefined, b: number[] | undefined) =>
        (a?.[0] as number) * (b?.[0] as number) + (a?.[1] as number) * (b?.[1] as number);
      expect(dot(projected[0], g[1])).toBeCloseTo(0, 12);
      expect(dot(projected[1], g[0])).toBeCloseTo(0, 12);
      closeArray(s.grads['t0_output/bias'], [2]);
      closeArray(s.grads['t1_output/bias'], [4]);
      expect(s.loss).toBeCloseTo((s.losses.t0 as number) + (s.losses.t1 as number), 5);
    });

    it('leaves agreeing gradients alone: the plain sum', () => {
      const problem = keep(
        toy([
          [1, 0],
          [1, 1],
        ]),
      );
      const strategy = taskWeighting('pcgrad');
      strategy.init?.(problem.tasks);
      closeArray(step(problem, strategy).grads['shared/kernel'], [2, 1]);
    });

    it('projects in coefficient form exactly as the sequential definition, in any order', () => {
      const random = seededRandom(3);
      const g = Array.from({ length: 3 }, () => Array.from({ length: 5 }, () => random() * 2 - 1));
      const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * (b[i] as number), 0);
      const gram = g.map((a) => g.map((b) => dot(a, b)));
      const orders = [
        [2, 1],
        [0, 2],
        [1, 0],
      ];
      // The definition: project each g_i in turn onto the normal plane of every conflicting original g_j.
      const expected = new Array(5).fill(0);
      g.forEach((gi, i) => {
        const p = [...gi];
        for (const j of orders[i] as number[]) {
          const gj = g[j] as number[];
          const d = dot(p, gj);
          if (d < 0) {
            gj.forEach((v, k) => {
              p[k] = (p[k] as number) - (d / dot(gj, gj)) * v;
            });
          }
        }
        p.forEach((v, k) => {
          expected[k] += v;
        });
      });
      const c = projectionCoefficients(gram, orders);
      const a = [0, 1, 2].map((k) => c.reduce((s, row) => s + (row[k] as number), 0));
      const combined = new Array(5)
        .fill(0)
        .map((_, k) => g.reduce((s, gi, i) => s + (a[i] as number) * (gi[k] as number), 0));
      closeArray(combined, expected, 10);
    });
  });

  it('uncertainty: learned log-variances settle at log L_t, so a noisier (higher-loss) task weighs less', () => {
    // Fixed losses 0.2 and 4 (a noisy task): the optimum is exp(s_t) = L_t, weight 0.5 / L_t.
    const problem = keep(
      toy([
        [0, 0],
        [0, 0],
      ]),
    );
    const strategy = taskWeighting('uncertainty');
    keep({ dispose: () => strategy.dispose?.() });
    strategy.init?.(problem.tasks);
    const optimizer = keep(new ParamOptimizer({ type: 'adam', learningRate: 0.05 }));
    const constant: GradientStrategyContext = {
      ...problem.context(strategy),
      variables: (strategy.params?.() ?? []).map((p) => p.variable),
      taskLosses: () => ({ t0: tf.scalar(0.2), t1: tf.scalar(4) }),
    };
    for (let i = 0; i < 400; i++) {
      const r = strategy.computeGradients(constant);
      optimizer.step(
        (strategy.params?.() ?? []).map((param) => ({
          param,
          grad: r.grads[param.variable.name] as tf.Tensor,
          lrScale: 1,
        })),
        { learningRate: 0.05 },
      );
      tf.dispose([r.loss, ...Object.values(r.taskLosses), ...Object.values(r.grads)]);
    }
    const w = strategy.taskWeights();
    expect(w.t0).toBeCloseTo(0.5 / 0.2, 1);
    expect(w.t1).toBeCloseTo(0.5 / 4, 2);
  });

  it('uncertainty, trained with a model: the task with noisy targets ends with the lower weight', async () => {
    const backbone = keep(tinyTrunk());
    const model = keep(
      multiTaskModel({
        backbone,
        tasks: { clean: regression({ outputs: 1 }), noisy: regression({ outputs: 1 }) },
        seed: 1,
      }),
    );
    const random = seededRandom(9);
    const data = [0, 1, 2, 3].map((i) => {
      const b = quadrantBatch({ size: 8, batch: 16, seed: 200 + i });
      const amount = b.targets.amount as tf.Tensor;
      const noise = tf.tensor2d(
        Array.from({ length: 16 }, () => 3 * (random() - 0.5) * 2),
        [16, 1],
      );
      return {
        x: b.x,
        targets: { clean: amount, noisy: tf.add(amount, noise) },
        mask: { clean: b.mask.amount as tf.Tensor, noisy: b.mask.amount as tf.Tensor },
      };
    });
    const strategy = taskWeighting('uncertainty');
    const trainer = keep(
      new Trainer({ model, strategy, optimizer: { type: 'adam', learningRate: 0.03 } }),
    );
    const history = await trainer.fit(data, { epochs: 15 });
    const w = history.epochs[14]?.taskWeights ?? {};
    // Both start at 0.5 (s = 0); the noisy task's weight falls, the clean one's rises.
    expect(w.noisy as number).toBeLessThan(0.3);
    expect(w.clean as number).toBeGreaterThan(1);
    expect(w.noisy as number).toBeLessThan(0.25 * (w.clean as number));
    disposeBatches(data);
  });

  it('DWA: equal for two epochs, then w_t = K softmax(r_t / T) of the loss ratios', () => {
    const problem = keep(
      toy([
        [1, 0],
        [0, 1],
      ]),
    );
    const strategy = taskWeighting('dwa', { temperature: 2 });
    strategy.init?.(problem.tasks);
    strategy.onEpochEnd?.({ t0: 1, t1: 1 }, 0);
    expect(strategy.taskWeights()).toEqual({ t0: 1, t1: 1 });
    strategy.onEpochEnd?.({ t0: 0.5, t1: 0.9 }, 1);
    // r = [0.5, 0.9]: task 1 learns more slowly, so it gets more weight.
    const e0 = Math.exp(0.25);
    const e1 = Math.exp(0.45);
    const w = strategy.taskWeights();
    expect(w.t0).toBeCloseTo((2 * e0) / (e0 + e1), 12);
    expect(w.t1).toBeCloseTo((2 * e1) / (e0 + e1), 12);
    expect(w.t1 as number).toBeGreaterThan(w.t0 as number);
    // And the gradients use them.
    closeArray(step(problem, strategy).grads['shared/kernel'], [w.t0 as number, w.t1 as number]);
    // A task without labels in an epoch counts as unchanged (r = 1).
    strategy.onEpochEnd?.({ t0: 0.25 }, 2);
    const x0 = Math.exp(0.25 / 0.5 / 2);
    const x1 = Math.exp(1 / 2);
    expect(strategy.taskWeights().t0).toBeCloseTo((2 * x0) / (x0 + x1), 12);
  });

  it('GradNorm: moves the weights until the weighted gradient norms on the shared layer match', () => {
    // Task 0's gradient on the shared kernel is 10x task 1's; losses do not change (the toy
    // never updates w), so the training rates are equal and the targets are the mean norm.
    const problem = keep(
      toy([
        [3, 4],
        [0.3, 0.4],
      ]),
    );
    const strategy = taskWeighting('gradnorm', { learningRate: 0.02 });
    strategy.init?.(problem.tasks);
    const norms = [5, 0.5];
    const ratio = () => {
      const w = strategy.taskWeights();
      return ((w.t0 as number) * (norms[0] as number)) / ((w.t1 as number) * (norms[1] as number));
    };
    expect(ratio()).toBeCloseTo(10, 6);
    for (let i = 0; i < 150; i++) step(problem, strategy);
    const w = strategy.taskWeights();
    expect((w.t0 as number) + (w.t1 as number)).toBeCloseTo(2, 6);
    expect(w.t0 as number).toBeLessThan(w.t1 as number);
    expect(Math.abs(Math.log(ratio()))).toBeLessThan(Math.log(1.25));
  });

  it('every strategy trains a real model through the Trainer without leaking tensors', async () => {
    const data = [0, 1].map((i) =>
      quadrantBatch({ size: 8, batch: 8, seed: 300 + i, missing: 0.3 }),
    );
    for (const name of taskWeightingNames().filter((n) => n !== 'half')) {
      const backbone = keep(tinyTrunk());
      const model = keep(
        multiTaskModel({
          backbone,
          tasks: {
            quad: multiLabel({ labels: ['a', 'b', 'c', 'd'] }),
            amount: regression({ outputs: 1 }),
          },
          seed: 4,
        }),
      );
      const strategy =
        name === 'static'
          ? taskWeighting('static', { weights: { quad: 1, amount: 2 } })
          : taskWeighting(name);
      const trainer = keep(
        new Trainer({ model, strategy, optimizer: { type: 'adam', learningRate: 0.01 } }),
      );
      const counts: number[] = [];
      const history = await trainer.fit(data, {
        epochs: 4,
        callbacks: [{ onEpochEnd: () => void counts.push(tf.memory().numTensors) }],
      });
      expect([name, new Set(counts.slice(1)).size]).toEqual([name, 1]);
      expect([name, history.epochs.every((e) => Number.isFinite(e.loss))]).toEqual([name, true]);
      expect(Object.keys(history.epochs[3]?.taskWeights ?? {})).toEqual(['quad', 'amount']);
    }
    disposeBatches(data);
  });

  it('GradNorm names a missing balance parameter clearly', () => {
    const problem = keep(
      toy([
        [1, 0],
        [0, 1],
      ]),
    );
    const strategy = taskWeighting('gradnorm', { param: 'block_16_project/kernel' });
    strategy.init?.(problem.tasks);
    expect(() => step(problem, strategy)).toThrow(
      /gradNorm balances "block_16_project\/kernel", which is not a trainable shared parameter.*shared\/kernel/,
    );
  });
});

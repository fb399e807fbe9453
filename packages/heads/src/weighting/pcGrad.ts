import type {
  GradientStrategy,
  GradientStrategyContext,
  GradientStrategyResult,
  Param,
} from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { type TaskGradients, taskGradients } from './perTaskGradients';

/**
 * Options of {@link pcGrad}: the seed of the random projection order.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, strategy: pcGrad({ seed: 1 } satisfies PcGradOptions) });
 * ```
 */
export interface PcGradOptions {
  /** Seeds the per-step random order in which each task's gradient is projected. Default 0. */
  seed?: number;
}

/**
 * PCGrad, gradient surgery (Yu et al. 2020): on the shared parameters, each task's gradient
 * g_i loses its component along any other task's gradient g_j that it conflicts with
 * (g_i . g_j < 0): g_i -= (g_i . g_j / |g_j|^2) g_j, over the other tasks in random order;
 * the projected gradients are summed. Head parameters get their own task's gradient.
 *
 * Cost: one forward and backward pass per task (tfjs keeps no tape between gradient calls).
 * The projections are done on the T x T Gram matrix of the task gradients (one matmul and
 * one read), then one weighted sum per shared parameter.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, strategy: pcGrad({ seed: 1 }) });
 * ```
 */
export function pcGrad(options: PcGradOptions = {}): GradientStrategy {
  const seed = options.seed ?? 0;
  let tasks: readonly string[] = [];
  return {
    name: 'pcgrad',
    init(names) {
      tasks = names;
    },
    computeGradients: (context) => surgery(context, seed),
    taskWeights: () => Object.fromEntries(tasks.map((t) => [t, 1])),
  };
}

function surgery(context: GradientStrategyContext, seed: number): GradientStrategyResult {
  const { tasks, shared } = context;
  const perTask: TaskGradients[] = tasks.map((task) =>
    taskGradients(context, task, [...shared, ...(context.taskSpecific[task] ?? [])]),
  );
  try {
    const gram = gramMatrix(perTask, shared);
    // The summed projected gradients: a_k = sum_i c[i][k] times each original g_k.
    const c = projectionCoefficients(gram, shuffledOrders(tasks.length, seed, context.step));
    const coefficients = tasks.map((_, k) => c.reduce((s, row) => s + (row[k] as number), 0));
    const grads: tf.NamedTensorMap = {};
    for (const p of shared) {
      const name = p.variable.name;
      grads[name] = tf.tidy(() => {
        const terms = perTask.flatMap((g, k) => {
          const gk = g.grads[name];
          const a = coefficients[k] as number;
          return gk && a !== 0 ? [tf.mul(gk, a)] : [];
        });
        return terms.length > 0 ? tf.addN(terms) : tf.zerosLike(p.variable);
      });
    }
    tasks.forEach((task, t) => {
      for (const p of context.taskSpecific[task] ?? []) {
        const g = (perTask[t] as TaskGradients).grads[p.variable.name];
        if (g) grads[p.variable.name] = tf.clone(g);
      }
    });
    const taskLosses = Object.fromEntries(
      tasks.map((t, i) => [t, tf.clone((perTask[i] as TaskGradients).loss)]),
    );
    const loss = tf.addN(perTask.map((g) => g.loss)) as tf.Scalar;
    return { loss, taskLosses, grads };
  } finally {
    for (const g of perTask) tf.dispose([g.loss, ...Object.values(g.grads)]);
  }
}

/** G[i][j] = g_i . g_j over all shared parameters: flatten, stack, one matmul, one read. */
function gramMatrix(perTask: readonly TaskGradients[], shared: readonly Param[]): number[][] {
  const t = perTask.length;
  if (shared.length === 0) return Array.from({ length: t }, () => new Array<number>(t).fill(0));
  const flat = tf.tidy(() => {
    const rows = perTask.map((g) =>
      tf.concat(
        shared.map((p) => tf.reshape(g.grads[p.variable.name] ?? tf.zerosLike(p.variable), [-1])),
      ),
    );
    const m = tf.stack(rows) as tf.Tensor2D;
    return tf.matMul(m, m, false, true);
  });
  const values = flat.dataSync();
  flat.dispose();
  return Array.from({ length: t }, (_, i) =>
    Array.from({ length: t }, (_, j) => values[i * t + j] as number),
  );
}

/**
 * PCGrad's projections in coefficient form: projected g_i = sum_k c[i][k] g_k, so every dot
 * product comes from the Gram matrix. `orders[i]` is the order in which g_i meets the other
 * tasks' (original) gradients.
 */
export function projectionCoefficients(
  gram: readonly (readonly number[])[],
  orders: readonly (readonly number[])[],
): number[][] {
  const t = gram.length;
  return Array.from({ length: t }, (_, i) => {
    const c = new Array<number>(t).fill(0);
    c[i] = 1;
    for (const j of orders[i] ?? []) {
      const norm = gram[j]?.[j] as number;
      if (!(norm > 0)) continue;
      // (projected g_i) . g_j = sum_k c_k (g_k . g_j)
      let dot = 0;
      for (let k = 0; k < t; k++) dot += (c[k] as number) * (gram[k]?.[j] as number);
      if (dot < 0) c[j] = (c[j] as number) - dot / norm;
    }
    return c;
  });
}

/** For each task, the other tasks in a random order drawn from (seed, step). */
function shuffledOrders(t: number, seed: number, step: number): number[][] {
  let s = (seed * 0x9e3779b1 + step * 0x85ebca6b) >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: t }, (_, i) => {
    const others = Array.from({ length: t }, (_, j) => j).filter((j) => j !== i);
    for (let k = others.length - 1; k > 0; k--) {
      const r = Math.floor(random() * (k + 1));
      [others[k], others[r]] = [others[r] as number, others[k] as number];
    }
    return others;
  });
}

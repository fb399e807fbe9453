import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../../errors';
import type { Param, ParamKind } from '../../nn/param';
import type { HostTensor, OptimizerState } from '../trainingState';
import type { OptimizerSpec } from './optimizerSpec';
import {
  inputName,
  OPTIMIZER_STEP_KERNEL,
  type OptimizerStepAttrs,
  optimizerStepBackends,
  registerOptimizerStepKernel,
  stateSlots,
  type UpdateRule,
} from './optimizerStepKernel';

/**
 * One parameter's share of a step.
 *
 * @example
 * ```ts
 * const entries: OptimizerEntry[] = params.map((param) => ({ param, grad: grads[param.variable.name] as tf.Tensor, lrScale: 1 }));
 * optimizer.step(entries, { learningRate: 1e-3 });
 * ```
 */
export interface OptimizerEntry {
  readonly param: Param;
  readonly grad: tf.Tensor;
  /** The plan's learning-rate scale for this parameter. */
  readonly lrScale: number;
}

/**
 * What one optimizer step needs besides the gradients: the learning rate, and an optional
 * global-norm clip.
 *
 * @example
 * ```ts
 * optimizer.step(entries, { learningRate: 1e-3, clipNorm: 1 } satisfies OptimizerStepOptions);
 * ```
 */
export interface OptimizerStepOptions {
  /** This step's base learning rate (the spec's rate x the schedule). */
  learningRate: number;
  /** Clip the global gradient norm to this. Default: no clipping. */
  clipNorm?: number;
}

interface Resolved {
  rule: UpdateRule;
  decoupled: boolean;
  weightDecay: number;
  decayKinds: ReadonlySet<ParamKind>;
  beta1: number;
  beta2: number;
  epsilon: number;
  momentum: number;
  nesterov: boolean;
}

/**
 * Adam, AdamW or SGD (with momentum) over parameter groups: every parameter has its own
 * learning-rate scale (from the plan) and weight decay (by kind), and one step is one kernel
 * call (see `optimizerStepKernel.ts`). State is kept per parameter name, so a parameter a
 * plan unfreezes later starts with fresh state.
 *
 * @example
 * ```ts
 * const optimizer = new ParamOptimizer({ type: 'adam', learningRate: 1e-3 });
 * optimizer.step(entries, { learningRate: 1e-3 }); // one kernel call for the whole step
 * optimizer.dispose();
 * ```
 */
export class ParamOptimizer {
  readonly spec: OptimizerSpec;
  private readonly config: Resolved;
  private readonly state = new Map<string, tf.Tensor[]>();
  private updates = 0;

  constructor(spec: OptimizerSpec) {
    this.spec = spec;
    this.config = resolve(spec);
  }

  /** Updates applied so far (Adam's t). */
  get stepCount(): number {
    return this.updates;
  }

  /**
   * Applies one update and returns the global gradient norm (before clipping). When that norm
   * is not finite nothing changes: parameters and state keep their last good values.
   *
   * @example
   * ```ts
   * const norm = optimizer.step(entries, { learningRate: 1e-3, clipNorm: 1 });
   * if (!Number.isFinite(norm)) console.warn('skipped: the gradient was not finite');
   * ```
   */
  step(entries: readonly OptimizerEntry[], options: OptimizerStepOptions): number {
    if (entries.length === 0) return 0;
    const backend = tf.getBackend();
    if (!optimizerStepBackends.includes(backend)) {
      throw new GraftError(
        'BACKEND_UNSUPPORTED',
        `graft's optimizers run on wasm and cpu, not "${backend}"`,
        {
          where: 'ParamOptimizer.step',
          hint: "Call initBackend() (wasm) or initBackend({ backend: 'cpu' }) from @graft/core first.",
        },
      );
    }
    registerOptimizerStepKernel();
    const c = this.config;
    const slots = stateSlots(c.rule, c.momentum);
    const t = this.updates + 1;
    const inputs: tf.NamedTensorMap = {};
    const attrs: OptimizerStepAttrs = {
      rule: c.rule,
      count: entries.length,
      learningRates: [],
      l2: [],
      decoupled: [],
      beta1: c.beta1,
      beta2: c.beta2,
      epsilon: c.epsilon,
      correction1: 1 - c.beta1 ** t,
      correction2: 1 - c.beta2 ** t,
      momentum: c.momentum,
      nesterov: c.nesterov,
      clipNorm: options.clipNorm ?? 0,
    };
    entries.forEach(({ param, grad, lrScale }, i) => {
      inputs[inputName.param(i)] = param.variable;
      inputs[inputName.grad(i)] = grad;
      this.stateOf(param, slots).forEach((s, slot) => {
        inputs[inputName.state(slot, i)] = s;
      });
      const lr = options.learningRate * lrScale;
      const decay = c.decayKinds.has(param.kind) ? c.weightDecay : 0;
      attrs.learningRates.push(lr);
      attrs.l2.push(c.decoupled ? 0 : decay);
      attrs.decoupled.push(c.decoupled ? lr * decay : 0);
    });
    const outputs = tf
      .engine()
      .runKernel(OPTIMIZER_STEP_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    const normTensor = outputs[outputs.length - 1] as tf.Tensor;
    const norm = normTensor.dataSync()[0] as number;
    normTensor.dispose();
    if (!Number.isFinite(norm)) {
      tf.dispose(outputs);
      return norm;
    }
    // The kernel updated the state tensors in place; the parameters get their new values.
    entries.forEach(({ param }, i) => {
      const value = outputs[i] as tf.Tensor;
      param.variable.assign(value);
      value.dispose();
    });
    this.updates = t;
    return norm;
  }

  /**
   * Tensors held as optimizer state (for leak checks).
   *
   * @example
   * ```ts
   * const before = optimizer.stateTensorCount(); // two moments per trained parameter for Adam
   * ```
   */
  stateTensorCount(): number {
    let n = 0;
    for (const s of this.state.values()) n += s.length;
    return n;
  }

  /**
   * A host copy of the state (moments per parameter, update count), for a checkpoint.
   *
   * @example
   * ```ts
   * const saved = optimizer.readState(); // host copies: safe to keep after dispose()
   * ```
   */
  readState(): OptimizerState {
    const slots = new Map<string, HostTensor[]>();
    for (const [name, tensors] of this.state) {
      slots.set(
        name,
        tensors.map((t) => ({
          shape: [...t.shape],
          values: Float32Array.from(t.dataSync() as Float32Array),
        })),
      );
    }
    return { updates: this.updates, slots };
  }

  /**
   * Replaces the whole state with a saved one (see `readState`).
   *
   * @example
   * ```ts
   * const fresh = new ParamOptimizer({ type: 'adam', learningRate: 1e-3 });
   * fresh.writeState(optimizer.readState()); // continues with the same moments and step count
   * ```
   */
  writeState(saved: OptimizerState): void {
    this.dispose();
    for (const [name, slots] of saved.slots) {
      this.state.set(
        name,
        slots.map((s) => tf.keep(tf.tensor(s.values, [...s.shape], 'float32'))),
      );
    }
    this.updates = saved.updates;
  }

  /**
   * Releases the optimizer state's tensors; the parameters stay.
   *
   * @example
   * ```ts
   * optimizer.dispose();
   * ```
   */
  dispose(): void {
    for (const s of this.state.values()) tf.dispose(s);
    this.state.clear();
  }

  private stateOf(param: Param, slots: number): tf.Tensor[] {
    let s = this.state.get(param.name);
    if (!s || s.length !== slots) {
      if (s) tf.dispose(s);
      s = Array.from({ length: slots }, () => tf.zerosLike(param.variable));
      this.state.set(param.name, s);
    }
    return s;
  }
}

function resolve(spec: OptimizerSpec): Resolved {
  const where = `optimizer ${spec.type}`;
  if (!['adam', 'adamw', 'sgd'].includes(spec.type)) {
    throw new GraftError('INVALID_ARGUMENT', `Unknown optimizer type "${spec.type}"`, {
      where: 'optimizer spec',
      hint: "Use 'adam', 'adamw' or 'sgd'.",
    });
  }
  const positive = (value: number, name: string) => {
    if (!(value > 0 && Number.isFinite(value))) {
      throw new GraftError('INVALID_ARGUMENT', `${name} must be a positive number, got ${value}`, {
        where,
      });
    }
  };
  const inUnit = (value: number, name: string) => {
    if (!(value >= 0 && value < 1)) {
      throw new GraftError('INVALID_ARGUMENT', `${name} must be in [0, 1), got ${value}`, {
        where,
      });
    }
  };
  positive(spec.learningRate, 'learningRate');
  const weightDecay = spec.weightDecay ?? (spec.type === 'adamw' ? 0.01 : 0);
  if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) {
    throw new GraftError('INVALID_ARGUMENT', `weightDecay must be >= 0, got ${weightDecay}`, {
      where,
    });
  }
  const decayKinds = new Set<ParamKind>(spec.decayKinds ?? ['kernel', 'depthwiseKernel']);
  if (spec.type === 'sgd') {
    const momentum = spec.momentum ?? 0;
    inUnit(momentum, 'momentum');
    if (spec.nesterov && momentum === 0) {
      throw new GraftError('INVALID_ARGUMENT', 'Nesterov momentum needs momentum > 0', { where });
    }
    return {
      rule: 'sgd',
      decoupled: false,
      weightDecay,
      decayKinds,
      beta1: 0,
      beta2: 0,
      epsilon: 0,
      momentum,
      nesterov: spec.nesterov ?? false,
    };
  }
  const beta1 = spec.beta1 ?? 0.9;
  const beta2 = spec.beta2 ?? 0.999;
  const epsilon = spec.epsilon ?? 1e-7;
  inUnit(beta1, 'beta1');
  inUnit(beta2, 'beta2');
  positive(epsilon, 'epsilon');
  return {
    rule: 'adam',
    decoupled: spec.type === 'adamw',
    weightDecay,
    decayKinds,
    beta1,
    beta2,
    epsilon,
    momentum: 0,
    nesterov: false,
  };
}

import type { ParamKind } from '../../nn/param';

interface CommonOptimizerOptions {
  /** Base learning rate; each parameter's is this x the plan's lrScale x the schedule. */
  learningRate: number;
  /**
   * Weight decay: coupled L2 (added to the gradient) for `adam` and `sgd`, decoupled (Loshchilov
   * & Hutter) for `adamw`. Default 0, except 0.01 for `adamw`.
   */
  weightDecay?: number;
  /**
   * Parameter kinds weight decay applies to. Default kernels only: decaying biases and
   * batch-norm gamma/beta pulls them to zero for no regularisation benefit.
   */
  decayKinds?: readonly ParamKind[];
}

/**
 * Adam or AdamW settings: learning rate, betas, epsilon and weight decay.
 *
 * @example
 * ```ts
 * const optimizer: AdamSpec = { type: 'adamw', learningRate: 3e-3, weightDecay: 1e-4 };
 * const trainer = new Trainer({ model, plan, optimizer });
 * ```
 */
export interface AdamSpec extends CommonOptimizerOptions {
  type: 'adam' | 'adamw';
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7, as in tfjs and Keras. */
  epsilon?: number;
}

/**
 * SGD settings: learning rate, momentum (plain SGD at 0), Nesterov, and weight decay.
 *
 * @example
 * ```ts
 * const optimizer: SgdSpec = { type: 'sgd', learningRate: 0.05, momentum: 0.9 };
 * ```
 */
export interface SgdSpec extends CommonOptimizerOptions {
  type: 'sgd';
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** Nesterov momentum. Default false. */
  nesterov?: boolean;
}

/**
 * Which optimizer the Trainer builds; the same rule updates every parameter group.
 *
 * @example
 * ```ts
 * const spec: OptimizerSpec = { type: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true };
 * ```
 */
export type OptimizerSpec = AdamSpec | SgdSpec;

import * as tf from '@tensorflow/tfjs-core';

/**
 * One kernel call updates every parameter of a step. tfjs's own optimizers issue about a
 * dozen kernels per variable (2,188 for MobileNetV2-0.35's 156 trainable variables, ~25 ms on
 * wasm, almost all of it per-call overhead on small tensors); this kernel walks the parameters,
 * gradients and optimizer state in place on the backend's memory in one pass (~5 ms). It also
 * computes the global gradient norm (for clipping and the NaN guard) and refuses to update
 * anything when that norm is not finite, so a bad step leaves the last good weights.
 */
export const OPTIMIZER_STEP_KERNEL = 'GraftOptimizerStep';

export type UpdateRule = 'adam' | 'sgd';

/** Attributes of one call; arrays hold one entry per parameter. */
export interface OptimizerStepAttrs {
  rule: UpdateRule;
  count: number;
  /** Per parameter: base rate x schedule x plan lrScale. */
  learningRates: number[];
  /** Per parameter: coupled L2 factor added to the gradient (`g += l2 * p`). */
  l2: number[];
  /** Per parameter: decoupled decay factor applied first (`p *= 1 - decoupled`), AdamW. */
  decoupled: number[];
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Adam's bias corrections for this step: 1 - beta1^t and 1 - beta2^t. */
  correction1: number;
  correction2: number;
  /** SGD momentum; 0 means no velocity state. */
  momentum: number;
  nesterov: boolean;
  /** Clip the global gradient norm to this; 0 leaves gradients as they are. */
  clipNorm: number;
}

/** State tensors per parameter: Adam keeps m and v, SGD with momentum a velocity. */
export function stateSlots(rule: UpdateRule, momentum: number): number {
  if (rule === 'adam') return 2;
  return momentum > 0 ? 1 : 0;
}

/** Input names of parameter `i`: value, gradient, state slots. */
export const inputName = {
  param: (i: number) => `p${i}`,
  grad: (i: number) => `g${i}`,
  state: (slot: number, i: number) => `s${slot}_${i}`,
};

/** Reads and allocates float32 data on one backend without copies. */
interface FloatStorage {
  allocate(shapes: readonly number[][]): tf.TensorInfo[];
  view(info: tf.TensorInfo): Float32Array;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): ArrayLike<number>;
}

interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

function wasmStorage(backend: WasmBackendLike): FloatStorage {
  return {
    // Views are taken after all outputs exist: allocating can grow (and move) the heap.
    allocate: (shapes) => shapes.map((s) => backend.makeOutput([...s], 'float32')),
    view: (info) => backend.typedArrayFromHeap(info) as Float32Array,
  };
}

function cpuStorage(backend: CpuBackendLike): FloatStorage {
  return {
    allocate: (shapes) =>
      shapes.map((s) =>
        backend.makeTensorInfo([...s], 'float32', new Float32Array(tf.util.sizeFromShape(s))),
      ),
    view: (info) => backend.data.get(info.dataId).values as Float32Array,
  };
}

function optimizerStep(
  storage: FloatStorage,
  inputs: tf.NamedTensorInfoMap,
  a: OptimizerStepAttrs,
): tf.TensorInfo[] {
  const slots = stateSlots(a.rule, a.momentum);
  const input = (name: string): tf.TensorInfo => {
    const info = inputs[name];
    if (!info) throw new Error(`${OPTIMIZER_STEP_KERNEL}: missing input ${name}`);
    return info;
  };
  const params = Array.from({ length: a.count }, (_, i) => input(inputName.param(i)));
  const shapes = params.map((p) => p.shape);
  const outputs = storage.allocate([
    ...Array.from({ length: 1 + slots }, () => shapes).flat(),
    [1],
  ]);
  const out = (block: number, i: number) =>
    storage.view(outputs[block * a.count + i] as tf.TensorInfo);
  const grads = params.map((_, i) => storage.view(input(inputName.grad(i))));

  let sumSquares = 0;
  for (const g of grads) for (let j = 0; j < g.length; j++) sumSquares += (g[j] as number) ** 2;
  const norm = Math.sqrt(sumSquares);
  (storage.view(outputs[outputs.length - 1] as tf.TensorInfo) as Float32Array)[0] = norm;

  for (let i = 0; i < a.count; i++) {
    const p = storage.view(params[i] as tf.TensorInfo);
    const g = grads[i] as Float32Array;
    const state = Array.from({ length: slots }, (_, s) =>
      storage.view(input(inputName.state(s, i))),
    );
    const pOut = out(0, i);
    const stateOut = Array.from({ length: slots }, (_, s) => out(1 + s, i));
    if (!Number.isFinite(norm)) {
      // A step with a non-finite gradient changes nothing.
      pOut.set(p);
      stateOut.forEach((o, s) => {
        o.set(state[s] as Float32Array);
      });
      continue;
    }
    const clip = a.clipNorm > 0 && norm > a.clipNorm ? a.clipNorm / (norm + 1e-6) : 1;
    const lr = a.learningRates[i] as number;
    const l2 = a.l2[i] as number;
    const keep = 1 - (a.decoupled[i] as number);
    if (a.rule === 'adam') {
      updateAdam(p, g, state, pOut, stateOut, { clip, lr, l2, keep, a });
    } else {
      updateSgd(p, g, state, pOut, stateOut, { clip, lr, l2, keep, a });
    }
  }
  return outputs;
}

interface Scalars {
  clip: number;
  lr: number;
  l2: number;
  /** 1 - decoupled decay. */
  keep: number;
  a: OptimizerStepAttrs;
}

function updateAdam(
  p: Float32Array,
  g: Float32Array,
  [m, v]: Float32Array[],
  pOut: Float32Array,
  [mOut, vOut]: Float32Array[],
  { clip, lr, l2, keep, a }: Scalars,
): void {
  const { beta1, beta2, epsilon } = a;
  // Hoisted: the loop runs once per scalar of every parameter (~400k for MobileNetV2-0.35).
  const keep1 = 1 - beta1;
  const keep2 = 1 - beta2;
  const unbias1 = 1 / a.correction1;
  const unbias2 = 1 / a.correction2;
  const m0 = m as Float32Array;
  const v0 = v as Float32Array;
  const m1 = mOut as Float32Array;
  const v1 = vOut as Float32Array;
  for (let j = 0; j < p.length; j++) {
    const pj = p[j] as number;
    const gj = (g[j] as number) * clip + l2 * pj;
    const mj = beta1 * (m0[j] as number) + keep1 * gj;
    const vj = beta2 * (v0[j] as number) + keep2 * gj * gj;
    m1[j] = mj;
    v1[j] = vj;
    // Bias-corrected as tfjs and PyTorch do: lr * m_hat / (sqrt(v_hat) + epsilon).
    pOut[j] = pj * keep - (lr * mj * unbias1) / (Math.sqrt(vj * unbias2) + epsilon);
  }
}

function updateSgd(
  p: Float32Array,
  g: Float32Array,
  state: Float32Array[],
  pOut: Float32Array,
  stateOut: Float32Array[],
  { clip, lr, l2, keep, a }: Scalars,
): void {
  const { momentum, nesterov } = a;
  const velocity = state[0];
  const velocityOut = stateOut[0];
  for (let j = 0; j < p.length; j++) {
    const pj = p[j] as number;
    const gj = (g[j] as number) * clip + l2 * pj;
    let step = gj;
    if (velocity && velocityOut) {
      const vj = momentum * (velocity[j] as number) + gj;
      velocityOut[j] = vj;
      step = nesterov ? gj + momentum * vj : vj;
    }
    pOut[j] = pj * keep - lr * step;
  }
}

const configs: tf.KernelConfig[] = [
  {
    kernelName: OPTIMIZER_STEP_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) =>
      optimizerStep(
        wasmStorage(backend as unknown as WasmBackendLike),
        inputs,
        attrs as unknown as OptimizerStepAttrs,
      ),
  },
  {
    kernelName: OPTIMIZER_STEP_KERNEL,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) =>
      optimizerStep(
        cpuStorage(backend as unknown as CpuBackendLike),
        inputs,
        attrs as unknown as OptimizerStepAttrs,
      ),
  },
];

/** Registers the kernel for the backends graft runs on. Idempotent. */
export function registerOptimizerStepKernel(): void {
  for (const config of configs) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
}

/** Backends the kernel runs on. */
export const optimizerStepBackends: readonly string[] = configs.map((c) => c.backendName);

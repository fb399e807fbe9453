import * as tf from '@tensorflow/tfjs-core';
import { type NativeKernels, zeroCopyNativeKernels } from '../../native/nativeKernels';

/**
 * One kernel call updates every parameter of a step. tfjs's own optimizers issue about a
 * dozen kernels per variable (2,188 for MobileNetV2-0.35's 156 trainable variables, ~25 ms on
 * wasm, almost all of it per-call overhead on small tensors); this kernel walks the parameters,
 * gradients and optimizer state in place on the backend's memory in one pass (~2 ms). It also
 * computes the global gradient norm (for clipping and the NaN guard) and refuses to update
 * anything when that norm is not finite, so a bad step leaves the last good weights.
 *
 * Outputs: a new tensor per parameter, then the norm. The state tensors (Adam's m and v, SGD's
 * velocity) are written in place: their owner (`ParamOptimizer`) never shares them, so new
 * ones each step would only cost allocations (312 per MobileNetV2-0.35 step: timed alone on
 * its 156 parameters, `ParamOptimizer.step` took 2.2 ms with them and 1.6 ms without).
 * Parameters get new tensors: a variable's data must be replaced, never written (snapshots
 * and tfjs-wasm's packed-weight caches hold on to it).
 *
 * On wasm with graft's native kernels in zero-copy mode (Node's default, see
 * src/native/nativeKernels.ts) the loops run in C SIMD (native/optimizer_step.c) on the
 * tensors in place, with the same operations as the JavaScript loops below (the cpu
 * backend's and tfjs's threaded build's): Adam in float32, SGD in float64. So the updates are
 * the same bits; only the gradient norm's sum may round differently (its terms are added in
 * another order).
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

/** The O(parameters) work of a step, in JavaScript or native code. */
interface StepLoops {
  /** sum over every gradient of g^2. */
  sumSquares(grads: readonly tf.TensorInfo[]): number;
  update(t: ParamTensors, s: Scalars): void;
}

/** One parameter's inputs and output; `state` is read and written in place. */
interface ParamTensors {
  p: tf.TensorInfo;
  g: tf.TensorInfo;
  state: tf.TensorInfo[];
  pOut: tf.TensorInfo;
}

function jsLoops(storage: FloatStorage): StepLoops {
  return {
    sumSquares(grads) {
      let sum = 0;
      for (const info of grads) {
        const g = storage.view(info);
        for (let j = 0; j < g.length; j++) sum += (g[j] as number) ** 2;
      }
      return sum;
    },
    update(t, s) {
      const p = storage.view(t.p);
      const g = storage.view(t.g);
      const state = t.state.map((info) => storage.view(info));
      const pOut = storage.view(t.pOut);
      if (s.a.rule === 'adam') updateAdam(p, g, state, pOut, s);
      else updateSgd(p, g, state, pOut, s);
    },
  };
}

/**
 * native/optimizer_step.c on the tensors in place in tfjs's heap (the kernels' memory in
 * zero-copy mode): `k.input` / `k.output` without staging are the tensors' addresses.
 */
function nativeLoops(k: NativeKernels, backend: unknown): StepLoops {
  const at = (info: tf.TensorInfo) => k.input(backend, info);
  const size = (info: tf.TensorInfo) => tf.util.sizeFromShape(info.shape);
  return {
    sumSquares(grads) {
      let sum = 0;
      for (const g of grads) sum += k.fns.sum_squares(at(g), size(g));
      return sum;
    },
    update(t, { clip, lr, l2, keep, a }) {
      const n = size(t.p);
      if (a.rule === 'adam') {
        const [m, v] = t.state as [tf.TensorInfo, tf.TensorInfo];
        // The hoisted factors exactly as updateAdam computes them; m and v in place.
        k.fns.adam_update(
          at(t.p),
          at(t.g),
          at(m),
          at(v),
          k.output(backend, t.pOut),
          at(m),
          at(v),
          n,
          clip,
          lr,
          l2,
          keep,
          a.beta1,
          a.beta2,
          1 - a.beta1,
          1 - a.beta2,
          1 / a.correction1,
          1 / a.correction2,
          a.epsilon,
        );
        return;
      }
      const velocity = t.state[0];
      k.fns.sgd_update(
        at(t.p),
        at(t.g),
        velocity ? at(velocity) : 0,
        k.output(backend, t.pOut),
        velocity ? at(velocity) : 0,
        n,
        clip,
        lr,
        l2,
        keep,
        velocity ? 1 : 0,
        a.momentum,
        a.nesterov ? 1 : 0,
      );
    },
  };
}

function optimizerStep(
  storage: FloatStorage,
  loops: (outputs: readonly tf.TensorInfo[]) => StepLoops,
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
  const outputs = storage.allocate([...shapes, [1]]);
  // Created after the outputs: native scratch or views must not precede heap growth.
  const run = loops(outputs);
  const grads = params.map((_, i) => input(inputName.grad(i)));

  const norm = Math.sqrt(run.sumSquares(grads));
  (storage.view(outputs[outputs.length - 1] as tf.TensorInfo) as Float32Array)[0] = norm;

  for (let i = 0; i < a.count; i++) {
    const t: ParamTensors = {
      p: params[i] as tf.TensorInfo,
      g: grads[i] as tf.TensorInfo,
      state: Array.from({ length: slots }, (_, s) => input(inputName.state(s, i))),
      pOut: outputs[i] as tf.TensorInfo,
    };
    if (!Number.isFinite(norm)) {
      // A step with a non-finite gradient changes nothing (the state is left as it is).
      storage.view(t.pOut).set(storage.view(t.p));
      continue;
    }
    const clip = a.clipNorm > 0 && norm > a.clipNorm ? a.clipNorm / (norm + 1e-6) : 1;
    const lr = a.learningRates[i] as number;
    const l2 = a.l2[i] as number;
    const keep = 1 - (a.decoupled[i] as number);
    run.update(t, { clip, lr, l2, keep, a });
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

/**
 * Adam: m and v (`state`) in place, the new parameter into `pOut`. In float32, as tfjs's and
 * PyTorch's Adam: every operation's result is rounded with Math.fround, which for float32
 * operands gives the float32 operation's own result, so native/optimizer_step.c (float32
 * SIMD) gives the same bits.
 */
function updateAdam(
  p: Float32Array,
  g: Float32Array,
  [m, v]: Float32Array[],
  pOut: Float32Array,
  scalars: Scalars,
): void {
  const f = Math.fround;
  const { a } = scalars;
  // Hoisted: the loop runs once per scalar of every parameter (~400k for MobileNetV2-0.35).
  // The factors are computed in float64 and rounded once, as the C kernel receives them.
  const [clip, lr, l2, keep] = [scalars.clip, scalars.lr, scalars.l2, scalars.keep].map(f) as [
    number,
    number,
    number,
    number,
  ];
  const beta1 = f(a.beta1);
  const beta2 = f(a.beta2);
  const epsilon = f(a.epsilon);
  const keep1 = f(1 - a.beta1);
  const keep2 = f(1 - a.beta2);
  const unbias1 = f(1 / a.correction1);
  const unbias2 = f(1 / a.correction2);
  const m0 = m as Float32Array;
  const v0 = v as Float32Array;
  for (let j = 0; j < p.length; j++) {
    const pj = p[j] as number;
    const gj = f(f((g[j] as number) * clip) + f(l2 * pj));
    const mj = f(f(beta1 * (m0[j] as number)) + f(keep1 * gj));
    const vj = f(f(beta2 * (v0[j] as number)) + f(f(keep2 * gj) * gj));
    m0[j] = mj;
    v0[j] = vj;
    // Bias-corrected as tfjs and PyTorch do: lr * m_hat / (sqrt(v_hat) + epsilon).
    const step = f(f(f(lr * mj) * unbias1) / f(f(Math.sqrt(f(vj * unbias2))) + epsilon));
    pOut[j] = f(pj * keep) - step;
  }
}

/** SGD: the velocity (`state[0]`, with momentum) in place, the new parameter into `pOut`. */
function updateSgd(
  p: Float32Array,
  g: Float32Array,
  state: Float32Array[],
  pOut: Float32Array,
  { clip, lr, l2, keep, a }: Scalars,
): void {
  const { momentum, nesterov } = a;
  const velocity = state[0];
  for (let j = 0; j < p.length; j++) {
    const pj = p[j] as number;
    const gj = (g[j] as number) * clip + l2 * pj;
    let step = gj;
    if (velocity) {
      const vj = momentum * (velocity[j] as number) + gj;
      velocity[j] = vj;
      step = nesterov ? gj + momentum * vj : vj;
    }
    pOut[j] = pj * keep - lr * step;
  }
}

const configs: tf.KernelConfig[] = [
  {
    kernelName: OPTIMIZER_STEP_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const storage = wasmStorage(backend as unknown as WasmBackendLike);
      // Native loops where graft's kernels share tfjs's heap, else (threaded build, or the
      // kernels not loaded) the JavaScript loops over heap views.
      const native = zeroCopyNativeKernels(backend);
      const loops = native ? () => nativeLoops(native, backend) : () => jsLoops(storage);
      return optimizerStep(storage, loops, inputs, attrs as unknown as OptimizerStepAttrs);
    },
  },
  {
    kernelName: OPTIMIZER_STEP_KERNEL,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const storage = cpuStorage(backend as unknown as CpuBackendLike);
      return optimizerStep(
        storage,
        () => jsLoops(storage),
        inputs,
        attrs as unknown as OptimizerStepAttrs,
      );
    },
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

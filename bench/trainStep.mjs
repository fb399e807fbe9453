// A full fine-tune step of MobileNetV2 on graft's WASM runtime: the same step as the peers in
// bench/peers (width 0.35, 96x96 RGB, batch 16, 4 sigmoid outputs, Adam, every weight
// trainable). Prints one JSON line: images/s, the kernel-time profile by kernel name, the
// number of kernel calls per step, and tensor counts across steps (leak check).
// usage: node bench/trainStep.mjs [--quick] [--alpha 0.35] [--size 96] [--batch 16] [--steps 5]

import { initBackend, mobileNetV2, Trainer } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = args.includes('--quick');
const alpha = arg('alpha', 0.35);
const size = arg('size', 96);
const batch = arg('batch', 16);
const steps = arg('steps', quick ? 3 : 10);
const backend = args.includes('--cpu') ? 'cpu' : 'wasm';

const info = await initBackend({ backend, fallback: false });
const trunk = mobileNetV2({ alpha, inputShape: [size, size, 3], seed: 1 });
const channels = trunk.outputShape[trunk.outputShape.length - 1];
const headW = tf.variable(
  tf.randomNormal([channels, 4], 0, 0.05, 'float32', 2),
  true,
  'head/kernel',
);
const headB = tf.variable(tf.zeros([4]), true, 'head/bias');
const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3);
const y = tf.cast(tf.greater(tf.randomUniform([batch, 4], 0, 1, 'float32', 4), 0.5), 'float32');
// --optimizer tfjs: tf.train.adam (about 13 kernels per variable); default graft: the Trainer
// with graft's fused Adam (one kernel per step), the way graft trains.
const useTfjsOptimizer =
  args.includes('--optimizer') && args[args.indexOf('--optimizer') + 1] === 'tfjs';
const optimizer = tf.train.adam(1e-3);
const trainable = [...trunk.params.filter((p) => p.trainable).map((p) => p.variable), headW, headB];
const headParams = [
  { name: 'head/kernel', variable: headW, block: 'head:y', kind: 'kernel', trainable: true },
  { name: 'head/bias', variable: headB, block: 'head:y', kind: 'bias', trainable: true },
];
const model = {
  tasks: ['y'],
  params: [...trunk.params, ...headParams],
  taskParams: { y: headParams },
  forward: (input, options) =>
    tf.tidy(() => {
      const pooled = tf.mean(trunk.apply(input, { training: options.training }), [1, 2]);
      return { y: tf.add(tf.matMul(pooled, headW), headB) };
    }),
  loss: (outputs, b) => ({ y: tf.losses.sigmoidCrossEntropy(b.targets.y, outputs.y) }),
};
const trainer = useTfjsOptimizer
  ? null
  : new Trainer({ model, optimizer: { type: 'adam', learningRate: 1e-3 }, onWarning: () => {} });
const fixedBatch = { x, targets: { y }, mask: { y: tf.onesLike(y) } };
let lastLoss = Number.NaN;
const recordLoss = {
  onStepEnd: (s) => {
    lastLoss = s.loss;
  },
};

function step() {
  if (trainer) {
    // fit over one batch is one optimizer step; its loss comes from the step logs.
    return trainer.fit([fixedBatch], { epochs: 1, callbacks: [recordLoss] }).then(() => lastLoss);
  }
  const loss = optimizer.minimize(
    () => {
      const features = trunk.apply(x, { training: true });
      const pooled = tf.mean(features, [1, 2]);
      const logits = tf.add(tf.matMul(pooled, headW), headB);
      return tf.losses.sigmoidCrossEntropy(y, logits);
    },
    true,
    trainable,
  );
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

const losses = [await step()]; // warm-up: XNNPACK operator caches, first-use allocations
const tensorsAfterWarmup = tf.memory().numTensors;
const t0 = performance.now();
for (let i = 0; i < steps; i++) losses.push(await step());
const stepS = (performance.now() - t0) / 1000 / steps;
const tensorsAfter = tf.memory().numTensors;

// Leak check (--leak-steps N): tensors, tfjs-tracked bytes and the WASM heap before and after
// N more steps. The heap may grow while allocations settle; it must not keep growing.
const leakSteps = arg('leak-steps', 0);
let leak;
if (leakSteps > 0) {
  const heapBytes = () => tf.backend().wasm?.HEAPU8?.length ?? Number.NaN;
  const before = {
    tensors: tf.memory().numTensors,
    bytes: tf.memory().numBytes,
    heap: heapBytes(),
  };
  let half;
  for (let i = 0; i < leakSteps; i++) {
    await step();
    if (i === Math.floor(leakSteps / 2)) half = { heap: heapBytes() };
  }
  const after = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, heap: heapBytes() };
  leak = {
    steps: leakSteps,
    before,
    halfway: half,
    after,
    grew:
      after.tensors !== before.tensors || after.bytes !== before.bytes || after.heap !== half.heap,
  };
}

// One profiled step: where the time goes, by kernel.
const profile = await tf.profile(async () => {
  await step();
});
const byKernel = new Map();
for (const k of profile.kernels) {
  const e = byKernel.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
  e.calls += 1;
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  byKernel.set(k.name, e);
}
const top = [...byKernel.values()]
  .sort((a, b) => b.ms - a.ms)
  .slice(0, 15)
  .map((e) => ({ ...e, ms: +e.ms.toFixed(1) }));

console.log(
  JSON.stringify({
    bench: 'mobilenetv2_train_step',
    runtime: 'graft',
    optimizer: trainer ? 'graft Trainer (fused Adam)' : 'tf.train.adam',
    backend: info.name,
    simd: info.simd,
    threads: info.threads,
    alpha,
    size,
    batch,
    params: trunk.params.reduce((n, p) => n + p.variable.size, 0) + headW.size + headB.size,
    steps,
    step_s: +stepS.toFixed(4),
    images_per_s: +(batch / stepS).toFixed(2),
    loss_first: +losses[0].toFixed(4),
    loss_last: +losses[losses.length - 1].toFixed(4),
    kernel_calls_per_step: profile.kernels.length,
    tensors_after_warmup: tensorsAfterWarmup,
    tensors_after_steps: tensorsAfter,
    profile_top_kernels_ms: top,
    ...(leak ? { leak_check: leak } : {}),
  }),
);

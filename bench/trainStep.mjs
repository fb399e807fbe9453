// A full fine-tune step of MobileNetV2 on graft's WASM runtime: the same step as the peers in
// bench/peers (width 0.35, 96x96 RGB, batch 16, 4 sigmoid outputs, Adam, every weight
// trainable). Prints one JSON line: images/s, the kernel-time profile by kernel name, the
// number of kernel calls per step, and tensor counts across steps (leak check).
// usage: node bench/trainStep.mjs [--quick] [--alpha 0.35] [--size 96] [--batch 16] [--steps 5]
//                                [--profile 0] [--leak-steps N] [--optimizer tfjs]
// --profile 0 skips the profiled step (the large configurations of the matrix in run.mjs).

import { initBackend } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { createFineTuneStep } from './fineTuneStep.mjs';

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
// --optimizer tfjs: tf.train.adam (about 13 kernels per variable); default graft: the Trainer
// with graft's fused Adam (one kernel per step), the way graft trains.
const useTfjsOptimizer =
  args.includes('--optimizer') && args[args.indexOf('--optimizer') + 1] === 'tfjs';
const { step, params, optimizerName } = createFineTuneStep({
  alpha,
  size,
  batch,
  optimizer: useTfjsOptimizer ? 'tfjs' : 'graft',
});

const losses = [await step()]; // warm-up: XNNPACK operator caches, first-use allocations
const tensorsAfterWarmup = tf.memory().numTensors;
// CPU time as well as wall time: on a machine shared with other work the wall time of a
// single-threaded step stretches, its CPU time much less (see the docs' performance page).
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < steps; i++) losses.push(await step());
const stepS = (performance.now() - t0) / 1000 / steps;
const cpuUsed = process.cpuUsage(cpu0);
const cpuStepS = (cpuUsed.user + cpuUsed.system) / 1e6 / steps;
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

// One profiled step: where the time goes, by kernel. tf.profile lists a customGrad op (graft's
// batch norm and ReLU6) under the name of the scope it runs in, "unnamed scope" (the model's
// tf.tidy), with a time that includes the kernels inside it, which it also lists on their own:
// those entries are named for what they are here and left out of the kernel-call count.
// bench/profile.mjs breaks the step down without double counting.
const CUSTOM_GRAD = 'customGrad op forward (batch norm, ReLU6; inclusive of its kernels)';
let profile;
if (arg('profile', 1) !== 0) {
  profile = await tf.profile(async () => {
    await step();
  });
}
const byKernel = new Map();
for (const k of profile?.kernels ?? []) {
  const name = k.name === 'unnamed scope' ? CUSTOM_GRAD : k.name;
  const e = byKernel.get(name) ?? { kernel: name, calls: 0, ms: 0 };
  e.calls += 1;
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  byKernel.set(name, e);
}
const top = [...byKernel.values()]
  .sort((a, b) => b.ms - a.ms)
  .slice(0, 15)
  .map((e) => ({ ...e, ms: +e.ms.toFixed(1) }));
const customGradOps = byKernel.get(CUSTOM_GRAD)?.calls ?? 0;

console.log(
  JSON.stringify({
    bench: 'mobilenetv2_train_step',
    runtime: 'graft',
    optimizer: optimizerName,
    backend: info.name,
    simd: info.simd,
    threads: info.threads,
    alpha,
    size,
    batch,
    params,
    steps,
    step_s: +stepS.toFixed(4),
    images_per_s: +(batch / stepS).toFixed(2),
    cpu_s_per_step: +cpuStepS.toFixed(4),
    images_per_cpu_s: +(batch / cpuStepS).toFixed(2),
    loss_first: +losses[0].toFixed(4),
    loss_last: +losses[losses.length - 1].toFixed(4),
    ...(profile
      ? {
          kernel_calls_per_step: profile.kernels.length - customGradOps,
          custom_grad_ops_per_step: customGradOps,
        }
      : {}),
    tensors_after_warmup: tensorsAfterWarmup,
    tensors_after_steps: tensorsAfter,
    ...(profile ? { profile_top_kernels_ms: top } : {}),
    max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(leak ? { leak_check: leak } : {}),
  }),
);

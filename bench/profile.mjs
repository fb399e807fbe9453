// Where the time of one training step goes: the step of bench/trainStep.mjs (MobileNetV2 0.35,
// 96x96, batch 16, graft's Trainer) broken down by phase (forward, backward, optimizer, the
// rest of the step) and by category of work, with kernel-call counts, and what is left over
// for JavaScript and the tfjs engine (wall time minus the time spent inside kernels).
//
// Why not tf.profile: it lists a customGrad op (graft's batch norm and ReLU6) under the name
// of the scope it runs in ("unnamed scope", the model's tf.tidy) with a time that includes the
// kernels inside it, which it lists again on their own; and it does not say which layer or
// phase a kernel belongs to. Here instead:
//   - every kernel registered for the backend is wrapped with a timer; only outermost calls
//     are timed (a graft kernel that calls other kernels' functions directly counts once, its
//     inner calls are counted as nested);
//   - the phase comes from tfjs's own scopes: tf.variableGrads runs the model in
//     tidy('forward') and the gradients in tidy('backward'); the Trainer's optimizer.step is
//     wrapped to mark the optimizer;
//   - every layer's apply() is wrapped to name the layer class a forward kernel belongs to, and
//     every tape node's gradient function is wrapped so that its backward kernels carry the
//     layer class and op of the forward op they differentiate.
// The wrappers cost time themselves (outside the kernel timers), so the step time is also
// measured without recording, alternating with the recorded steps in the same process, and
// the JavaScript / engine overhead is given both ways: recorded wall minus kernel time, and
// plain wall minus kernel time (the estimate the categories use).
// usage: node bench/profile.mjs [--alpha 0.35] [--size 96] [--batch 16] [--steps 5]
//                               [--out bench/results/profile.json]
// Needs the built packages (npm run build).

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { createFineTuneStep } from './fineTuneStep.mjs';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const alpha = Number(arg('alpha', 0.35));
const size = Number(arg('size', 96));
const batch = Number(arg('batch', 16));
const steps = Number(arg('steps', 5));
const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(arg('out', resolve(here, 'results', 'profile.json')));

const git = (...a) =>
  spawnSync('git', a, { cwd: resolve(here, '..'), encoding: 'utf8' }).stdout?.trim();

const info = await initBackend({ fallback: false });
const { trunk, trainer, step, params } = createFineTuneStep({ alpha, size, batch });

// One step before wrapping: kernels that graft registers on first use (the fused optimizer
// step) exist by then and get wrapped too.
await step();

// ---- instrumentation ---------------------------------------------------------------------
const engine = tf.engine();
let recording = false;
const labels = []; // stack of { layer, op } for the code running now
const currentLabel = () => labels[labels.length - 1];
function withLabel(label, fn) {
  labels.push(label);
  try {
    return fn();
  } finally {
    labels.pop();
  }
}

let optimizerDepth = 0;
function phaseNow() {
  if (optimizerDepth > 0) return 'optimizer';
  const stack = engine.state.scopeStack;
  for (let i = stack.length - 1; i >= 0; i--) {
    const name = stack[i].name;
    if (name === 'backward') return 'backward';
    if (name === 'forward') return 'forward';
  }
  return 'rest of step';
}

// Kernel timers: outermost calls only.
const records = []; // { kernel, phase, layer, op, ms }
let nestedCalls = 0;
let kernelDepth = 0;
for (const config of tf.getKernelsForBackend(info.name)) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel({
    ...config,
    kernelFunc: (kernelArgs) => {
      if (!recording) return inner(kernelArgs);
      if (kernelDepth > 0) {
        nestedCalls++;
        kernelDepth++;
        try {
          return inner(kernelArgs);
        } finally {
          kernelDepth--;
        }
      }
      const phase = phaseNow();
      const label = currentLabel();
      kernelDepth++;
      const t0 = performance.now();
      try {
        return inner(kernelArgs);
      } finally {
        const ms = performance.now() - t0;
        kernelDepth--;
        records.push({
          kernel: config.kernelName,
          phase,
          layer: label?.layer ?? (phase === 'optimizer' ? 'optimizer' : 'outside the trunk'),
          op: label?.op ?? config.kernelName,
          ms,
        });
      }
    },
  });
}

// Layer classes for forward kernels.
const layerNames = trunk.blocks.flatMap((b) => b.layerNames);
for (const name of new Set(layerNames)) {
  const layer = trunk.layer(name);
  const apply = layer.apply.bind(layer);
  layer.apply = (x, options) =>
    withLabel({ layer: layer.className, op: null }, () => apply(x, options));
}

// Every tape node's gradient runs under the label of the forward op it belongs to. A
// registered kernel's gradient function returns one closure per input, which tfjs calls
// later: those closures carry the label too. A customGrad op is recorded under its scope's
// name ("unnamed scope"): counted here by layer. engine.clone also records tape nodes with a
// gradient of their own (identity); they are told apart by a flag.
const customGradOps = new Map();
let cloning = 0;
const clone = engine.clone.bind(engine);
engine.clone = (x) => {
  cloning++;
  try {
    return clone(x);
  } finally {
    cloning--;
  }
};
const addTapeNode = engine.addTapeNode.bind(engine);
engine.addTapeNode = (kernelName, inputs, outputs, gradientsFunc, saved, attrs) => {
  addTapeNode(kernelName, inputs, outputs, gradientsFunc, saved, attrs);
  const tape = engine.state.activeTape;
  const node = tape?.[tape.length - 1];
  if (!recording || !node?.gradient) return;
  const forward = currentLabel();
  const isCustom = gradientsFunc != null && cloning === 0;
  const op = isCustom ? `customGrad op (${forward?.layer ?? 'outside the trunk'})` : kernelName;
  if (isCustom) customGradOps.set(op, (customGradOps.get(op) ?? 0) + 1);
  const label = { layer: forward?.layer ?? 'outside the trunk', op: `grad of ${op}` };
  const gradient = node.gradient;
  node.gradient = (dys) =>
    withLabel(label, () => {
      const perInput = gradient(dys);
      const wrapped = {};
      for (const [name, fn] of Object.entries(perInput)) {
        wrapped[name] = () => withLabel(label, fn);
      }
      return wrapped;
    });
};

// The optimizer phase, and wall time per phase.
const phaseWall = { forward: 0, backward: 0, optimizer: 0 };
if (trainer?.optimizer?.step) {
  const optimizer = trainer.optimizer;
  const stepFn = optimizer.step.bind(optimizer);
  optimizer.step = (...a) => {
    const t0 = performance.now();
    optimizerDepth++;
    try {
      return stepFn(...a);
    } finally {
      optimizerDepth--;
      if (recording) phaseWall.optimizer += performance.now() - t0;
    }
  };
}
const scopeStarts = [];
const startScope = engine.startScope.bind(engine);
const endScope = engine.endScope.bind(engine);
engine.startScope = (name) => {
  scopeStarts.push(performance.now());
  startScope(name);
};
engine.endScope = (result) => {
  const name = engine.state.activeScope?.name;
  const t0 = scopeStarts.pop();
  endScope(result);
  if (recording && (name === 'forward' || name === 'backward')) {
    phaseWall[name] += performance.now() - t0;
  }
};

// ---- measure -----------------------------------------------------------------------------
// Plain and recorded steps alternate, so that load from other work on the machine falls on
// both alike. A plain step passes through the wrappers without recording (a flag check per
// kernel call).
await step(); // warm-up
const stepTimes = [];
const plainTimes = [];
for (let i = 0; i < steps; i++) {
  let t0 = performance.now();
  await step();
  plainTimes.push(performance.now() - t0);
  recording = true;
  t0 = performance.now();
  await step();
  stepTimes.push(performance.now() - t0);
  recording = false;
}

// ---- summarise ---------------------------------------------------------------------------
const XNNPACK_CONV = new Set([
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
]);
const MEMORY = new Set([
  'Identity',
  'Slice',
  'StridedSlice',
  'Reshape',
  'Transpose',
  'Concat',
  'Pack',
  'Unpack',
  'Pad',
  'PadV2',
  'MirrorPad',
  'Tile',
  'Fill',
  'ZerosLike',
  'OnesLike',
  'Cast',
  'Reverse',
  'Gather',
  'GatherV2',
]);
const REDUCTION = new Set(['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any', 'ArgMax', 'ArgMin']);
function category(r) {
  if (/batch ?norm/i.test(r.layer) || /BatchNorm/.test(r.kernel)) {
    return 'batch norm (every kernel its layers run, forward and backward)';
  }
  if (r.kernel === 'GraftOptimizerStep' || r.phase === 'optimizer') return 'optimizer (fused Adam)';
  if (XNNPACK_CONV.has(r.kernel)) return 'conv 3x3 / 1x1 (XNNPACK, graft backprop kernels)';
  if (r.kernel === 'DepthwiseConv2dNative') return 'depthwise forward (XNNPACK)';
  if (r.kernel.startsWith('DepthwiseConv2dNativeBackprop')) {
    return 'depthwise backward (graft native kernels)';
  }
  if (MEMORY.has(r.kernel)) return 'memory ops (Identity, Slice, Reshape, Transpose, Concat, ...)';
  if (REDUCTION.has(r.kernel)) return 'reductions (pooling mean, loss sums)';
  if (r.kernel === 'BatchMatMul' || r.kernel === '_FusedMatMul') return 'matmul (head)';
  return 'elementwise / activation (ReLU6, Add, Multiply, loss, ...)';
}

const round = (v, d = 1) => +v.toFixed(d);
const perStep = (v) => v / steps;
function groupBy(keyOf) {
  const m = new Map();
  for (const r of records) {
    const k = keyOf(r);
    const e = m.get(k) ?? { ms: 0, calls: 0 };
    e.ms += r.ms;
    e.calls += 1;
    m.set(k, e);
  }
  return [...m.entries()]
    .map(([k, e]) => ({ key: k, ms: round(perStep(e.ms), 2), calls: round(perStep(e.calls), 0) }))
    .sort((a, b) => b.ms - a.ms);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs) => xs.reduce((a, v) => a + v, 0) / xs.length;
const wallMs = mean(stepTimes);
const plainMs = mean(plainTimes);
const kernelMs = perStep(records.reduce((a, r) => a + r.ms, 0));

const phases = ['forward', 'backward', 'optimizer', 'rest of step'].map((phase) => {
  const mine = records.filter((r) => r.phase === phase);
  const k = perStep(mine.reduce((a, r) => a + r.ms, 0));
  const wall =
    phase === 'rest of step'
      ? wallMs - perStep(phaseWall.forward + phaseWall.backward + phaseWall.optimizer)
      : perStep(phaseWall[phase]);
  return {
    phase,
    wall_ms: round(wall),
    kernel_ms: round(k),
    overhead_ms: round(wall - k),
    kernel_calls: round(perStep(mine.length), 0),
  };
});

// Shares of the plain (unrecorded) step: kernel times do not depend on the recording, the
// JavaScript around them does.
const overheadMs = Math.max(0, plainMs - kernelMs);
const categories = groupBy(category).map((e) => ({
  category: e.key,
  ms: e.ms,
  share: round(e.ms / Math.max(plainMs, kernelMs), 3),
  calls: e.calls,
}));
categories.push({
  category: 'JavaScript / tfjs engine overhead (plain step wall minus kernel time)',
  ms: round(overheadMs, 2),
  share: round(overheadMs / Math.max(plainMs, kernelMs), 3),
  calls: null,
});
categories.sort((a, b) => b.ms - a.ms);

const result = {
  bench: 'profile_train_step',
  backend: info.name,
  simd: info.simd,
  threads: info.threads,
  alpha,
  size,
  batch,
  params,
  steps,
  step_ms_plain: round(plainMs),
  step_ms_plain_median: round(median(plainTimes)),
  step_ms_recorded: round(wallMs),
  step_ms_recorded_median: round(median(stepTimes)),
  images_per_s_plain: round((batch / plainMs) * 1000, 2),
  kernel_ms_per_step: round(kernelMs),
  overhead_ms_per_step: round(overheadMs),
  overhead_ms_per_step_recorded: round(wallMs - kernelMs),
  kernel_calls_per_step: round(perStep(records.length), 0),
  nested_kernel_calls_per_step: round(perStep(nestedCalls), 0),
  phases,
  categories,
  by_layer_class: groupBy(
    (r) =>
      `${r.layer} ${r.phase === 'backward' ? 'backward' : r.phase === 'forward' ? 'forward' : r.phase}`,
  )
    .slice(0, 20)
    .map((e) => ({ layer: e.key, ms: e.ms, calls: e.calls })),
  by_layer_and_kernel: groupBy((r) => `${r.layer}: ${r.kernel} [${r.phase}]`)
    .slice(0, 25)
    .map((e) => ({ key: e.key, ms: e.ms, calls: e.calls })),
  top_kernels: groupBy((r) => `${r.kernel} [${r.phase}]`)
    .slice(0, 25)
    .map((e) => ({ kernel: e.key, ms: e.ms, calls: e.calls })),
  // tf.profile's "unnamed scope": these ops, per step.
  custom_grad_ops_per_step: Object.fromEntries(
    [...customGradOps.entries()].map(([k, v]) => [k, round(perStep(v), 0)]),
  ),
  tensors: tf.memory().numTensors,
  date: new Date().toISOString(),
  // What was measured: the built packages may hold work not yet committed.
  commit: git('rev-parse', 'HEAD'),
  uncommitted_in_packages: (git('status', '--porcelain', '--', 'packages') ?? '')
    .split('\n')
    .filter(Boolean).length,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));

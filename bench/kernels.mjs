// Training kernels graft registers for tfjs's wasm backend, timed against tfjs-backend-cpu
// (and, for Conv2DBackpropInput, against the stock wasm kernel graft replaces) at
// MobileNetV2-0.35 96x96 batch-16 shapes. Prints one JSON object (on its last line) and
// writes it to bench/results/kernels.json.
//
//   cd packages/core && npx tsup && cd ../.. && node bench/kernels.mjs [--quick]
//
// Every kernel runs through tf.engine().runKernel(name, inputs, attrs), as tfjs's gradients
// call it. Kernels that are not registered (yet) are reported as {error} instead of crashing.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, trainingKernelNames } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

const quick = process.argv.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));

// The stock kernel must be taken before initBackend replaces it.
const stockConv2dBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm');

await initBackend({ backend: 'wasm' });
const graftKernels = new Set(trainingKernelNames());

const N = 16;
/** A forward conv: x [N,h,w,cin], filter k x k, stride s, 'same' padding. */
const conv = (h, w, cin, k, s, cout) => ({
  x: [N, h, w, cin],
  f: [k, k, cin, cout],
  s,
  pad: 'same',
});
const dw = (h, w, c, s) => ({ x: [N, h, w, c], f: [3, 3, c, 1], s, pad: 'same' });
const convShapes = [
  conv(96, 96, 3, 3, 2, 16),
  conv(48, 48, 16, 1, 1, 48),
  conv(24, 24, 48, 1, 1, 16),
  conv(6, 6, 112, 1, 1, 1280),
];
const depthwiseShapes = [48, 24, 12].flatMap((h, i) =>
  [1, 2].map((s) => dw(h, h, [48, 96, 192][i], s)),
);

function outShape(c, depthwise) {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad, undefined, depthwise).outShape;
}
const size = (shape) => shape.reduce((a, b) => a * b, 1);
const describeConv = (c) => `x[${c.x}] filter[${c.f}] stride ${c.s} ${c.pad}`;
const convFlops = (c, depthwise) =>
  2 * size(outShape(c, depthwise)) * c.f[0] * c.f[1] * (depthwise ? 1 : c.f[2]);

/** Each case: which kernel, how to make its inputs (on the current backend), its attrs, flops. */
const cases = [];
for (const c of convShapes) {
  const common = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const flops = convFlops(c, false);
  const forward = {
    name: 'Conv2D',
    inputs: () => ({ x: rand(c.x, 1), filter: rand(c.f, 2) }),
    attrs: { ...common, dilations: 1 },
  };
  cases.push({
    kernel: 'Conv2DBackpropFilter',
    shape: describeConv(c),
    flops,
    inputs: () => ({ x: rand(c.x, 1), dy: rand(outShape(c, false), 3) }),
    attrs: { ...common, filterShape: c.f },
    forward,
  });
  cases.push({
    kernel: 'Conv2DBackpropInput',
    shape: describeConv(c),
    flops,
    inputs: () => ({ dy: rand(outShape(c, false), 3), filter: rand(c.f, 2) }),
    attrs: { ...common, inputShape: c.x },
    forward,
    stock: stockConv2dBackpropInput,
  });
}
for (const c of depthwiseShapes) {
  const common = { strides: c.s, pad: c.pad, dilations: 1, dimRoundingMode: undefined };
  const flops = convFlops(c, true);
  const forward = {
    name: 'DepthwiseConv2dNative',
    inputs: () => ({ x: rand(c.x, 1), filter: rand(c.f, 2) }),
    attrs: { ...common, dataFormat: 'NHWC' },
  };
  cases.push({
    kernel: 'DepthwiseConv2dNativeBackpropFilter',
    shape: describeConv(c),
    flops,
    inputs: () => ({ x: rand(c.x, 1), dy: rand(outShape(c, true), 3) }),
    attrs: { ...common, filterShape: c.f },
    forward,
  });
  cases.push({
    kernel: 'DepthwiseConv2dNativeBackpropInput',
    shape: describeConv(c),
    flops,
    inputs: () => ({ dy: rand(outShape(c, true), 3), filter: rand(c.f, 2) }),
    attrs: { ...common, inputShape: c.x },
    forward,
  });
}
cases.push({
  kernel: 'UnsortedSegmentSum',
  shape: 'x[4096,64] into 512 segments',
  flops: 4096 * 64,
  inputs: () => ({
    x: rand([4096, 64], 1),
    segmentIds: tf.tensor1d(
      Int32Array.from({ length: 4096 }, (_, i) => (i * 7919) % 512),
      'int32',
    ),
  }),
  attrs: { numSegments: 512 },
});

function rand(shape, seed) {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/**
 * Median milliseconds of `runKernel(name)` on `backend`, after `warmup` calls; repeats until
 * `reps` calls or until `budgetMs` has passed with at least `minReps` calls. wasm and cpu
 * kernels are synchronous, so the time of the call is the time of the computation; outputs
 * are disposed, never read.
 */
async function timeKernel(backend, name, makeInputs, attrs, { warmup, reps, minReps, budgetMs }) {
  await tf.setBackend(backend);
  const inputs = makeInputs();
  try {
    const once = () => {
      const t0 = performance.now();
      const out = tf.engine().runKernel(name, inputs, attrs);
      const ms = performance.now() - t0;
      tf.dispose(out);
      return ms;
    };
    for (let i = 0; i < warmup; i++) once();
    const times = [];
    const start = performance.now();
    while (
      times.length < reps &&
      (times.length < minReps || performance.now() - start < budgetMs)
    ) {
      times.push(once());
    }
    times.sort((a, b) => a - b);
    // Median, and the fastest call: on a shared machine the minimum is the steadier
    // estimate of what the kernel itself costs.
    return { median: times[Math.floor(times.length / 2)], min: times[0], calls: times.length };
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

const WASM = quick
  ? { warmup: 1, reps: 5, minReps: 3, budgetMs: 300 }
  : { warmup: 2, reps: 15, minReps: 5, budgetMs: 1500 };
// tfjs-backend-cpu takes up to ~20 s for one call of some of these (its Conv2DBackpropFilter
// and UnsortedSegmentSum); one call is timed, more only while they fit in a second.
const CPU = { warmup: 0, reps: quick ? 1 : 3, minReps: 1, budgetMs: quick ? 0 : 1000 };
const STOCK = quick
  ? { warmup: 1, reps: 3, minReps: 1, budgetMs: 300 }
  : { warmup: 1, reps: 5, minReps: 3, budgetMs: 1000 };

const gflops = (flops, ms) => +(flops / ms / 1e6).toFixed(3);
const round = (v, digits = 3) => +v.toFixed(digits);

/** Runs `name` on wasm with `config` registered in place of whatever is registered now. */
async function timeWithKernel(config, name, makeInputs, attrs, opts) {
  const current = tf.getKernel(name, 'wasm');
  await tf.setBackend('wasm');
  // Kernels registered after the backend started have not had their setup (cwrap) run.
  config.setupFunc?.(tf.backend());
  if (current) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(config);
  try {
    return await timeKernel('wasm', name, makeInputs, attrs, opts);
  } finally {
    tf.unregisterKernel(name, 'wasm');
    if (current) tf.registerKernel(current);
  }
}

const rows = [];
for (const c of cases) {
  const row = { kernel: c.kernel, shape: c.shape, flops: c.flops };
  try {
    if (!tf.getKernel(c.kernel, 'wasm')) throw new Error(`${c.kernel} is not registered for wasm`);
    if (!graftKernels.has(c.kernel)) row.note = 'stock tfjs-backend-wasm kernel (not graft)';
    const wasm = await timeKernel('wasm', c.kernel, c.inputs, c.attrs, WASM);
    const cpu = await timeKernel('cpu', c.kernel, c.inputs, c.attrs, CPU);
    Object.assign(row, {
      wasm_ms: round(wasm.median),
      wasm_min_ms: round(wasm.min),
      wasm_gflops: gflops(c.flops, wasm.median),
      cpu_ms: round(cpu.median, 1),
      cpu_calls: cpu.calls,
      cpu_gflops: gflops(c.flops, cpu.median),
      speedup: round(cpu.median / wasm.median, 1),
    });
    if (c.stock) {
      const stock = await timeWithKernel(c.stock, c.kernel, c.inputs, c.attrs, STOCK);
      row.stock_wasm_ms = round(stock.median);
      row.stock_wasm_gflops = gflops(c.flops, stock.median);
      row.speedup_vs_stock = round(stock.median / wasm.median, 1);
    }
    if (c.forward) {
      // The forward op of the same layer on wasm: what a backward kernel can hope to match.
      const fwd = await timeKernel('wasm', c.forward.name, c.forward.inputs, c.forward.attrs, WASM);
      row.forward_wasm_gflops = gflops(c.flops, fwd.median);
    }
  } catch (e) {
    row.error = e instanceof Error ? e.message : String(e);
  }
  process.stderr.write(`[kernels] ${JSON.stringify(row)}\n`);
  rows.push(row);
}

await tf.setBackend('wasm');
const result = {
  kernels: rows,
  env: {
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    tfjs: tf.version_core,
    quick,
    date: new Date().toISOString(),
  },
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'kernels.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);

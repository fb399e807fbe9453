// Inference throughput of graft's MobileNetV2 (inference mode: moving batch-norm statistics)
// with a 4-output sigmoid head, at batch 1 and 32: images per second, reading every result
// back to JavaScript (dataSync) as a caller would. The tfjs-layers peer does the same with
// `model.predict` (bench/peers/mnv2_tfjs_layers.cjs ... infer).
// usage: node bench/inference.mjs [--alpha 0.35] [--size 96] [--batches 1,32] [--cpu]
//                                 [--min-seconds 3]
// Needs the built packages (npm run build).

import { initBackend, mobileNetV2 } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const alpha = Number(arg('alpha', 0.35));
const size = Number(arg('size', 96));
const batches = String(arg('batches', '1,32')).split(',').map(Number);
const minSeconds = Number(arg('min-seconds', 3));
const backend = args.includes('--cpu') ? 'cpu' : 'wasm';

const info = await initBackend({ backend, fallback: false });
const trunk = mobileNetV2({ alpha, inputShape: [size, size, 3], seed: 1 });
const channels = trunk.outputShape[trunk.outputShape.length - 1];
const headW = tf.randomNormal([channels, 4], 0, 0.05, 'float32', 2);
const headB = tf.zeros([4]);

function predict(x) {
  const y = tf.tidy(() => {
    const pooled = tf.mean(trunk.apply(x, { training: false }), [1, 2]);
    return tf.sigmoid(tf.add(tf.matMul(pooled, headW), headB));
  });
  const values = y.dataSync(); // read outside tidy (tidy would walk a returned typed array)
  y.dispose();
  return values;
}

const results = [];
for (const batch of batches) {
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3);
  predict(x); // warm-up: XNNPACK operators are created and weights packed on first use
  const tensorsBefore = tf.memory().numTensors;
  let iterations = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // At least 3 iterations and minSeconds of work: batch 1 runs many times, batch 32 a few.
  while (iterations < 3 || performance.now() - t0 < minSeconds * 1000) {
    predict(x);
    iterations++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  results.push({
    batch,
    iterations,
    ms_per_batch: +((seconds * 1000) / iterations).toFixed(2),
    images_per_s: +((batch * iterations) / seconds).toFixed(1),
    images_per_cpu_s: +((batch * iterations) / cpuSeconds).toFixed(1),
    tensor_leak: tf.memory().numTensors - tensorsBefore,
  });
  x.dispose();
}

console.log(
  JSON.stringify({
    bench: 'mobilenetv2_inference',
    runtime: 'graft',
    backend: info.name,
    simd: info.simd,
    threads: info.threads,
    alpha,
    size,
    results,
    max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);

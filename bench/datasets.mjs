// `node bench/datasets.mjs [--quick]`: @graft/datasets throughput, as one JSON object.
// - generators: synthetic images per second (driving scenes, shapes), rendered straight into a
//   buffer and as batches of tensors;
// - featureCache: an epoch of a small multi-label head trained on a frozen MobileNetV2-0.35
//   trunk (64x64, WASM), recomputing the trunk every epoch vs reading cached trunk features.
// Build first: npx turbo run build --filter=@graft/datasets --filter=@graft/core
import { initBackend, mobileNetV2 } from '@graft/core';
import {
  batches,
  cacheFeatures,
  disposeBatch,
  drivingScenes,
  mapExamples,
  normalize,
  shapes,
} from '@graft/datasets';
import * as tf from '@tensorflow/tfjs-core';

const quick = process.argv.includes('--quick');
const seed = 1;

function timeRender(make, count) {
  const ds = make(count);
  const buffer = new Float32Array(ds.imageSize * ds.imageSize * 3);
  ds.renderInto(0, buffer); // warm-up: JIT
  const t0 = performance.now();
  for (let i = 0; i < count; i++) ds.renderInto(i, buffer);
  const seconds = (performance.now() - t0) / 1000;
  return {
    images: count,
    seconds: +seconds.toFixed(3),
    imagesPerSecond: Math.round(count / seconds),
  };
}

async function timeBatches(ds, batchSize) {
  const t0 = performance.now();
  let n = 0;
  for await (const b of batches(ds, { batchSize, shuffle: true, seed })) {
    n += b.size;
    disposeBatch(b);
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    images: n,
    batchSize,
    seconds: +seconds.toFixed(3),
    imagesPerSecond: Math.round(n / seconds),
  };
}

const backend = await initBackend();
const count = quick ? 1000 : 5000;
const generators = {
  drivingScenes64: timeRender((n) => drivingScenes({ count: n, seed }), count),
  shapes64: timeRender((n) => shapes({ count: n, seed }), count),
  drivingScenes64Batches: await timeBatches(drivingScenes({ count, seed }), 64),
};

// ---- feature cache: frozen trunk, small head ------------------------------------------
const examples = quick ? 128 : 512;
const batchSize = 32;
const trunk = mobileNetV2({ alpha: 0.35, inputShape: [64, 64, 3], seed });
const channels = trunk.outputShape[trunk.outputShape.length - 1];
// The trunk is frozen (inference mode, no gradient into it): pooled features feed the head.
const features = (x) => tf.mean(trunk.apply(x, { training: false }), [1, 2]);
const train = mapExamples(drivingScenes({ count: examples, seed }), [
  normalize({ inputRange: [-1, 1] }),
]);

const headRng = tf.randomNormal([channels, 4], 0, 0.05, 'float32', seed);
const w = tf.variable(headRng);
const b = tf.variable(tf.zeros([4]));
headRng.dispose();
const optimizer = tf.train.adam(1e-3);
function headStep(f, batch) {
  const y = batch.targets.presence;
  const m = batch.mask.presence;
  const loss = optimizer.minimize(
    () => {
      const logits = tf.add(tf.matMul(f, w), b);
      const perLabel = tf.losses.sigmoidCrossEntropy(y, logits, m, 0, tf.Reduction.NONE);
      return tf.div(tf.sum(perLabel), tf.maximum(tf.sum(m), 1));
    },
    true,
    [w, b],
  );
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

async function uncachedEpoch(epoch) {
  const t0 = performance.now();
  let loss = 0;
  for await (const batch of batches(train, { batchSize, shuffle: true, seed, epoch })) {
    const f = tf.tidy(() => features(batch.x));
    loss = headStep(f, batch);
    f.dispose();
    disposeBatch(batch);
  }
  return { ms: performance.now() - t0, loss };
}

async function cachedEpoch(cached, epoch) {
  const t0 = performance.now();
  let loss = 0;
  for await (const batch of batches(cached, { batchSize, shuffle: true, seed, epoch })) {
    loss = headStep(batch.x, batch);
    disposeBatch(batch);
  }
  return { ms: performance.now() - t0, loss };
}

await uncachedEpoch(99); // warm-up: kernels compiled, weights packed
const tensorsBefore = tf.memory().numTensors;
const uncached = [];
for (let e = 0; e < (quick ? 2 : 3); e++) uncached.push((await uncachedEpoch(e)).ms);
const t0 = performance.now();
const cached = await cacheFeatures(train, {
  backboneKey: `mobileNetV2(alpha=0.35,64x64,seed=${seed})`,
  features,
  batchSize,
});
const buildMs = performance.now() - t0;
const cachedTimes = [];
let lastLoss = 0;
for (let e = 0; e < (quick ? 3 : 5); e++) {
  const r = await cachedEpoch(cached, e);
  cachedTimes.push(r.ms);
  lastLoss = r.loss;
}
const mean = (xs) => xs.reduce((a, v) => a + v, 0) / xs.length;
const uncachedMs = mean(uncached);
const stepsPerEpoch = Math.ceil(examples / batchSize);
const cachedMs = mean(cachedTimes);

console.log(
  JSON.stringify({
    bench: 'datasets',
    backend,
    generators,
    featureCache: {
      trunk: 'mobileNetV2 alpha 0.35, 64x64x3, frozen (inference mode), global average pooled',
      head: `dense ${channels} -> 4 (presence, masked sigmoid cross-entropy), adam`,
      examples,
      batchSize,
      stepsPerEpoch,
      uncachedEpochMs: Math.round(uncachedMs),
      cacheBuildMs: Math.round(buildMs),
      cachedEpochMs: +cachedMs.toFixed(1),
      // A heads-only step: trunk forward (inference mode) + head step, vs the head step on
      // cached features; both include batching the epoch's examples.
      uncachedStepMs: +(uncachedMs / stepsPerEpoch).toFixed(2),
      cachedStepMs: +(cachedMs / stepsPerEpoch).toFixed(2),
      speedup: +(uncachedMs / cachedMs).toFixed(1),
      cachedFeatureShape: cached.featureShape,
      headLossAfterCachedEpochs: +lastLoss.toFixed(4),
      tensorLeak: tf.memory().numTensors - tensorsBefore,
    },
    max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);

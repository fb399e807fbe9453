// The Trainer's automatic feature cache (issue 6): heads-only training of the shipped
// backbone on generated driving scenes, once with featureCache 'auto' and once 'off', in the
// same process. Reports seconds per epoch for each, the speed-up of the cached epochs, and
// the largest weight difference between the two runs (the cache must not change results).
// Prints one JSON object and writes bench/results/featureCache.json.
// usage: node bench/featureCache.mjs [--images 1000] [--epochs 3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, pretrainedBackbone, Trainer } from '@graft/core';
import { batches, drivingScenes, fitToBackbone, mapExamples } from '@graft/datasets';
import { headsOnly } from '@graft/freeze';
import { headsFor, multiTaskModel } from '@graft/heads';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const images = arg('images', 1000);
const epochs = arg('epochs', 3);
const batchSize = 32;

const info = await initBackend({ fallback: false });
const scenes = drivingScenes({ count: images, seed: 1, size: 64, missing: { presence: 0.15 } });

async function run(featureCache) {
  const backbone = pretrainedBackbone();
  const pre = backbone.preprocessing;
  const data = mapExamples(
    scenes,
    fitToBackbone({ inputRange: pre.inputRange, mean: pre.mean, std: pre.std, size: [64, 64] }),
  );
  const model = multiTaskModel({ backbone, tasks: headsFor(scenes.tasks), seed: 1 });
  const notes = [];
  const trainer = new Trainer({
    model,
    plan: headsOnly().plan(model),
    optimizer: { type: 'adamw', learningRate: 2e-3, weightDecay: 1e-4 },
    featureCache,
    onWarning: () => {},
    onInfo: (m) => notes.push(m),
  });
  const started = performance.now();
  const history = await trainer.fit(
    {
      batchCount: Math.ceil(images / batchSize),
      batches: (epoch) => batches(data, { batchSize, shuffle: true, seed: 2, epoch }),
    },
    { epochs },
  );
  const seconds = (performance.now() - started) / 1000;
  const weights = model.params.map((p) => Float32Array.from(p.variable.dataSync()));
  trainer.dispose();
  model.dispose();
  backbone.dispose();
  return {
    featureCache,
    notes,
    seconds: +seconds.toFixed(2),
    epochSeconds: history.epochs.map((e) => +e.seconds.toFixed(2)),
    losses: history.epochs.map((e) => +e.loss.toFixed(5)),
    weights,
  };
}

// Off first, then auto, then off again: the load on a shared machine drifts, so the cached run
// is compared with the mean of the two uncached ones around it.
const off1 = await run('off');
const auto = await run('auto');
const off2 = await run('off');
let maxWeightDiff = 0;
auto.weights.forEach((w, i) => {
  w.forEach((v, k) => {
    maxWeightDiff = Math.max(maxWeightDiff, Math.abs(v - off1.weights[i][k]));
  });
});
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const laterOff = mean([...off1.epochSeconds.slice(1), ...off2.epochSeconds.slice(1)]);
const laterAuto = mean(auto.epochSeconds.slice(1));
const strip = ({ weights: _w, ...r }) => r;
const result = {
  benchmark: 'Trainer feature cache: heads-only training, shipped MobileNetV2-0.35 trunk, 64x64',
  backend: info,
  images,
  epochs,
  batchSize,
  runs: [strip(off1), strip(auto), strip(off2)],
  firstEpochSeconds: {
    off: mean([off1.epochSeconds[0], off2.epochSeconds[0]]),
    auto: auto.epochSeconds[0],
  },
  laterEpochSeconds: { off: +laterOff.toFixed(2), auto: +laterAuto.toFixed(2) },
  laterEpochSpeedup: +(laterOff / laterAuto).toFixed(1),
  wholeRunSpeedup: +(mean([off1.seconds, off2.seconds]) / auto.seconds).toFixed(2),
  maxWeightDiff,
  at: new Date().toISOString(),
};
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'featureCache.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));

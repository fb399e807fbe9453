// The freeze-policy experiment (issue 6): how much of the shipped backbone to retrain, at
// several training-set sizes, on generated driving scenes — does it show the source notes'
// rule of thumb (transfer beats scratch most at small sizes; retraining more pays off as data
// grows), and does ruleOfThumb land near the best policy? Prints one JSON object and writes
// bench/results/freezeExperiment.json.
// usage: node bench/freezeExperiment.mjs [--sizes 50,200,1000,5000] [--epochs 6] [--validation 300]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, mobileNetV2, pretrainedBackbone, Trainer } from '@graft/core';
import {
  batches,
  drivingSceneObjects,
  drivingScenes,
  fitToBackbone,
  labelStats,
  mapExamples,
  subset,
  trafficLightColours,
} from '@graft/datasets';
import { all, fineTune, headsOnly, lastBlocks, ruleOfThumb } from '@graft/freeze';
import { classification, multiLabel, multiTaskModel, regression } from '@graft/heads';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const sizes = arg('sizes', '50,200,1000,5000').split(',').map(Number);
const epochs = Number(arg('epochs', 6));
const nValidation = Number(arg('validation', 300));
const seed = 1;
const batchSize = 32;

const info = await initBackend({ fallback: false });
const maxTrain = Math.max(...sizes);
const scenes = drivingScenes({
  count: maxTrain + nValidation,
  seed,
  size: 64,
  missing: { presence: 0.15, carCount: 0.2 },
});
const range = (from, n) => Array.from({ length: n }, (_, i) => from + i);
const preprocess = (ds, pre) =>
  mapExamples(
    ds,
    fitToBackbone({ inputRange: pre.inputRange, mean: pre.mean, std: pre.std, size: [64, 64] }),
  );

function heads() {
  return {
    presence: multiLabel({ labels: drivingSceneObjects, pooling: 'max', hidden: [64] }),
    lightColour: classification({ classes: trafficLightColours, pooling: 'max', hidden: [32] }),
    carCount: regression({ outputs: 1, hidden: [32] }),
  };
}

const policies = {
  headsOnly: () => headsOnly(),
  'lastBlocks(2)': () => lastBlocks(2),
  all: () => all(),
  fineTune: () => fineTune(),
  ruleOfThumb: (labelled) => ruleOfThumb({ labelled }),
  scratch: () => all(),
};

const runs = [];
for (const size of sizes) {
  const trainRaw = subset(scenes, range(0, size));
  const validationRaw = subset(scenes, range(maxTrain, nValidation));
  const stats = await labelStats(trainRaw);
  const labelled = Object.fromEntries(Object.entries(stats.tasks).map(([t, s]) => [t, s.labelled]));
  for (const [policyName, makePolicy] of Object.entries(policies)) {
    const started = performance.now();
    const backbone =
      policyName === 'scratch'
        ? mobileNetV2({ alpha: 0.35, inputShape: [64, 64, 3], seed: 5, batchNormMomentum: 0.9 })
        : pretrainedBackbone();
    const pre = backbone.preprocessing;
    const train = preprocess(trainRaw, pre);
    const validation = preprocess(validationRaw, pre);
    const model = multiTaskModel({ backbone, tasks: heads(), seed });
    const plan = makePolicy(labelled).plan(model);
    const source = (ds, shuffle) => ({
      batchCount: Math.ceil(ds.size / batchSize),
      batches: (epoch) => batches(ds, { batchSize, shuffle, seed, epoch }),
    });
    const trainer = new Trainer({
      model,
      plan,
      optimizer: { type: 'adamw', learningRate: 2e-3, weightDecay: 1e-4 },
      onWarning: () => {},
    });
    // Small sets get more epochs so every run sees at least ~40 steps.
    const runEpochs = Math.max(epochs, Math.ceil(40 / Math.ceil(size / batchSize)));
    await trainer.fit(source(train, true), { epochs: runEpochs });
    const evaluation = await trainer.evaluate(source(validation, false));
    const t = evaluation.report.tasks;
    const row = {
      size,
      policy: policyName,
      plan: plan.policy,
      epochs: runEpochs,
      presenceAuc: +t.presence.mean.auc.toFixed(4),
      presenceMap: +t.presence.mean.mAP.toFixed(4),
      lightColourAccuracy: +t.lightColour.accuracy.toFixed(4),
      carCountR2: +t.carCount.mean.r2.toFixed(4),
      seconds: +((performance.now() - started) / 1000).toFixed(1),
    };
    runs.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
    trainer.dispose();
    model.dispose();
    backbone.dispose();
  }
}

// The questions, answered from the rows (presence mean AUC on validation as the key metric).
const bySize = Object.fromEntries(
  sizes.map((size) => {
    const rows = runs.filter((r) => r.size === size);
    const best = rows.reduce((a, b) => (b.presenceAuc > a.presenceAuc ? b : a));
    const get = (p) => rows.find((r) => r.policy === p);
    return [
      size,
      {
        best: best.policy,
        bestAuc: best.presenceAuc,
        ruleOfThumbPlan: get('ruleOfThumb').plan,
        ruleOfThumbGap: +(best.presenceAuc - get('ruleOfThumb').presenceAuc).toFixed(4),
        transferMinusScratch: +(
          Math.max(...rows.filter((r) => r.policy !== 'scratch').map((r) => r.presenceAuc)) -
          get('scratch').presenceAuc
        ).toFixed(4),
      },
    ];
  }),
);
const result = {
  experiment: 'freeze policies x training-set size (generated driving scenes, shipped backbone)',
  backend: info,
  metric: 'validation presence mean ROC-AUC (4 labels)',
  validationImages: nValidation,
  runs,
  bySize,
};
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', 'freezeExperiment.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(JSON.stringify(result));

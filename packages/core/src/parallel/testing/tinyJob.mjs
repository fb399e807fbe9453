// A job for fitDataParallel's tests (plain ESM: worker threads load it as is). Dense(4->8) +
// batch norm + ReLU trunk and one regression head, on seeded random rows; `options` picks the
// batch size and count, a failure to inject ({ fail: { rank, at: 'build' | 'step' } }), and
// `unlabelled: true` masks every target, so the Trainer warns at each epoch's end (the job's
// own onWarning drops those, unless `jobWarnings: false`).
import { BatchNorm, Dense } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function tinyModel({ batchNorm = true } = {}) {
  const trunk = new Dense({ name: 'trunk', inputUnits: 4, units: 8, seed: 1 });
  const norm = new BatchNorm({ name: 'trunk_bn', block: 'trunk', channels: 8 });
  const head = new Dense({ name: 'level', block: 'head:level', inputUnits: 8, units: 1, seed: 2 });
  const params = [...trunk.params(), ...(batchNorm ? norm.params() : []), ...head.params()];
  return {
    tasks: ['level'],
    params,
    taskParams: { level: head.params() },
    forward: (x, o) =>
      tf.tidy(() => {
        const h = trunk.apply(x, o);
        return { level: head.apply(tf.relu(batchNorm ? norm.apply(h, o) : h), o) };
      }),
    loss: (outputs, batch) => ({
      level: tf.tidy(() =>
        tf.div(
          tf.sum(
            tf.mul(tf.squaredDifference(outputs.level, batch.targets.level), batch.mask.level),
          ),
          tf.maximum(tf.sum(batch.mask.level), 1),
        ),
      ),
    }),
  };
}

export function tinyBatches({ batches = 6, batchSize = 8, seed = 1, unlabelled = false } = {}) {
  const r = random(seed);
  return Array.from({ length: batches }, () => {
    const x = Array.from({ length: batchSize * 4 }, () => 2 * r() - 1);
    const y = Array.from({ length: batchSize }, (_, i) => x[i * 4] - 0.5 * x[i * 4 + 3]);
    return {
      x: tf.tensor2d(x, [batchSize, 4]),
      targets: { level: tf.tensor2d(y, [batchSize, 1]) },
      mask: { level: unlabelled ? tf.zeros([batchSize, 1]) : tf.ones([batchSize, 1]) },
    };
  });
}

export default async function job({ rank, options = {} }) {
  if (options.fail?.rank === rank && options.fail.at === 'build') {
    throw new Error(`replica ${rank} could not build its job`);
  }
  const model = tinyModel(options);
  const data = tinyBatches(options);
  const callbacks = [];
  if (options.fail?.rank === rank && options.fail.at === 'step') {
    callbacks.push({
      onStepEnd: (logs) => {
        if (logs.step === 2) throw new Error(`replica ${rank} failed after step 2`);
      },
    });
  }
  if (options.slowSteps) {
    callbacks.push({ onStepEnd: () => new Promise((resolve) => setTimeout(resolve, 20)) });
  }
  return {
    trainer: {
      model,
      optimizer: { type: 'adam', learningRate: 0.05 },
      // The job hears (and drops) its warnings, unless told to leave them to the caller.
      ...(options.jobWarnings === false ? {} : { onWarning: () => {} }),
    },
    data,
    fit: { epochs: options.epochs ?? 2, callbacks },
  };
}

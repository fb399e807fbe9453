// The benchmarked training step, shared by bench/trainStep.mjs and bench/profile.mjs: a full
// fine-tune of MobileNetV2 (every weight trainable) with a 4-output sigmoid head and Adam on a
// fixed random batch, the same step as the peers in bench/peers. `optimizer: 'graft'` runs it
// through graft's Trainer (fused Adam, the way graft trains); 'tfjs' through tf.train.adam.
import { mobileNetV2, Trainer } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';

export function createFineTuneStep({ alpha, size, batch, optimizer = 'graft' }) {
  const parts = stepParts({ alpha, size, batch });
  const { trunk, headW, headB, x, y } = parts;
  const params = trunk.params.reduce((n, p) => n + p.variable.size, 0) + headW.size + headB.size;

  if (optimizer === 'tfjs') {
    const adam = tf.train.adam(1e-3);
    const trainable = [
      ...trunk.params.filter((p) => p.trainable).map((p) => p.variable),
      headW,
      headB,
    ];
    const step = async () => {
      const loss = adam.minimize(
        () => {
          const pooled = tf.mean(trunk.apply(x, { training: true }), [1, 2]);
          return tf.losses.sigmoidCrossEntropy(y, tf.add(tf.matMul(pooled, headW), headB));
        },
        true,
        trainable,
      );
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    };
    return { trunk, params, step, trainer: undefined, optimizerName: 'tf.train.adam' };
  }

  const { model, batch: fixedBatch } = fineTuneModel(parts);
  const trainer = new Trainer({
    model,
    optimizer: { type: 'adam', learningRate: 1e-3 },
    onWarning: () => {},
  });
  let lastLoss = Number.NaN;
  const recordLoss = {
    onStepEnd: (s) => {
      lastLoss = s.loss;
    },
  };
  // fit over one batch is one optimizer step; its loss comes from the step logs.
  const step = () =>
    trainer.fit([fixedBatch], { epochs: 1, callbacks: [recordLoss] }).then(() => lastLoss);
  return { trunk, params, step, trainer, optimizerName: 'graft Trainer (fused Adam)' };
}

/** The step's model (trunk + 4-output head, sigmoid cross-entropy) and its one fixed batch. */
function fineTuneModel({ trunk, headW, headB, headParams, x, y }) {
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
  return { model, batch: { x, targets: { y }, mask: { y: tf.onesLike(y) } } };
}

/** MobileNetV2 (seeded), a 4-output head and one random batch with 0/1 targets. */
function stepParts({ alpha, size, batch }) {
  const trunk = mobileNetV2({ alpha, inputShape: [size, size, 3], seed: 1 });
  const channels = trunk.outputShape[trunk.outputShape.length - 1];
  const headW = tf.variable(tf.randomNormal([channels, 4], 0, 0.05, 'float32', 2), true);
  const headB = tf.variable(tf.zeros([4]), true);
  const headParams = [
    { name: 'head/kernel', variable: headW, block: 'head:y', kind: 'kernel', trainable: true },
    { name: 'head/bias', variable: headB, block: 'head:y', kind: 'bias', trainable: true },
  ];
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3);
  const y = tf.cast(tf.greater(tf.randomUniform([batch, 4], 0, 1, 'float32', 4), 0.5), 'float32');
  return { trunk, headW, headB, headParams, x, y };
}

/**
 * The same model and batch for `fitDataParallel` (bench/dataParallelJob.mjs): built the same
 * way in every replica, seeded, so every replica starts from the same weights.
 */
export function fineTuneJobParts({ alpha, size, batch }) {
  return fineTuneModel(stepParts({ alpha, size, batch }));
}

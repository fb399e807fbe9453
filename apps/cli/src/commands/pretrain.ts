import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Dense, decodeParamsInto, encodeParams, initBackend, mobileNetV2 } from '@graft/core';
import { shapes, shapeTasks } from '@graft/datasets';
import * as tf from '@tensorflow/tfjs-core';
import type { Reporter } from '../reporter';

export interface PretrainOptions {
  steps: number;
  batch: number;
  size: number;
  alpha: number;
  seed: number;
  learningRate: number;
  /** Held-out images for the final task-A accuracy. */
  evalImages: number;
  /** Where to write the TypeScript module that embeds the weights (the shipped backbone). */
  emit: string;
}

/** The input normalisation the shipped backbone is trained with: [0, 1] -> [-1, 1]. */
const PREPROCESSING = {
  inputRange: [0, 1] as [number, number],
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

/**
 * `graft pretrain`: task-A pre-training of the backbone graft ships. A MobileNetV2 trunk learns
 * the generated shapes task (main shape's class, 20-way, and texture, 6-way, on cluttered
 * backgrounds) from images rendered on the fly, so every step sees new images. The trunk's
 * weights are then written, quantised, as a TypeScript module `pretrainedBackbone()` loads.
 */
export async function runPretrain(options: PretrainOptions, reporter: Reporter): Promise<void> {
  const info = await initBackend();
  const { steps, batch, size, seed } = options;
  const trunk = mobileNetV2({
    alpha: options.alpha,
    inputShape: [size, size, 3],
    seed,
    batchNormMomentum: 0.99,
  });
  const channels = trunk.outputShape[2] as number;
  const nShapes = shapeTasks.shape.classes.length;
  const nTextures = shapeTasks.texture.classes.length;
  const shapeHead = new Dense({
    name: 'shape',
    inputUnits: channels,
    units: nShapes,
    seed: seed + 1,
  });
  const textureHead = new Dense({
    name: 'texture',
    inputUnits: channels,
    units: nTextures,
    seed: seed + 2,
  });
  const variables = [...trunk.params, ...shapeHead.params(), ...textureHead.params()]
    .filter((p) => p.trainable)
    .map((p) => p.variable);
  const data = shapes({ count: steps * batch + options.evalImages, seed, size });
  reporter.info(
    `pretrain: MobileNetV2 alpha ${options.alpha} at ${size}x${size} on generated shapes (${nShapes} classes x ${nTextures} textures), ${steps} steps of ${batch}, on ${info.name}`,
  );

  const pixels = new Float32Array(batch * size * size * 3);
  const shapeLabels = new Int32Array(batch);
  const textureLabels = new Int32Array(batch);
  const fill = (start: number, n: number) => {
    for (let i = 0; i < n; i++) {
      const labels = data.renderInto(start + i, pixels, i * size * size * 3);
      shapeLabels[i] = labels.targets.shape as number;
      textureLabels[i] = labels.targets.texture as number;
    }
  };
  const normalise = (x: tf.Tensor) => tf.div(tf.sub(x, 0.5), 0.5);

  const optimizer = tf.train.adam(options.learningRate);
  const started = performance.now();
  let smoothed = 0;
  for (let step = 0; step < steps; step++) {
    // Cosine decay to 5% of the base rate: large early steps, fine late ones.
    const progress = step / Math.max(1, steps - 1);
    (optimizer as unknown as { learningRate: number }).learningRate =
      options.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * progress)));
    fill(step * batch, batch);
    const loss = tf.tidy(() => {
      const x = normalise(tf.tensor4d(pixels, [batch, size, size, 3]));
      const yShape = tf.oneHot(tf.tensor1d(shapeLabels, 'int32'), nShapes);
      const yTexture = tf.oneHot(tf.tensor1d(textureLabels, 'int32'), nTextures);
      return optimizer.minimize(
        () => {
          const f = tf.mean(trunk.apply(x, { training: true }), [1, 2]);
          const l1 = tf.losses.softmaxCrossEntropy(yShape, shapeHead.apply(f, { training: true }));
          const l2 = tf.losses.softmaxCrossEntropy(
            yTexture,
            textureHead.apply(f, { training: true }),
          );
          return tf.add(l1, tf.mul(l2, 0.5)) as tf.Scalar;
        },
        true,
        variables,
      ) as tf.Scalar;
    });
    const value = (await loss.data())[0] as number;
    loss.dispose();
    if (!Number.isFinite(value))
      throw new Error(`pretrain: loss became ${value} at step ${step + 1}`);
    smoothed = step === 0 ? value : 0.98 * smoothed + 0.02 * value;
    if ((step + 1) % 50 === 0 || step === steps - 1) {
      const s = (performance.now() - started) / 1000;
      reporter.progress(
        { step: step + 1, steps, loss: smoothed, seconds: s },
        `step ${step + 1}/${steps}  loss ${smoothed.toFixed(3)}  ${(((step + 1) * batch) / s).toFixed(0)} images/s`,
      );
    }
  }
  const trainSeconds = (performance.now() - started) / 1000;

  // Task-A accuracy on images no step saw, in inference mode (moving statistics).
  const evaluate = async () => {
    let correctShape = 0;
    let correctTexture = 0;
    for (let start = 0; start < options.evalImages; start += batch) {
      const n = Math.min(batch, options.evalImages - start);
      fill(steps * batch + start, n);
      const [ps, pt] = tf.tidy(() => {
        const x = normalise(
          tf.tensor4d(pixels.subarray(0, n * size * size * 3), [n, size, size, 3]),
        );
        const f = tf.mean(trunk.apply(x, { training: false }), [1, 2]);
        return [
          tf.argMax(shapeHead.apply(f, { training: false }), 1),
          tf.argMax(textureHead.apply(f, { training: false }), 1),
        ];
      });
      const [as, at] = [await ps.data(), await pt.data()];
      tf.dispose([ps, pt]);
      for (let i = 0; i < n; i++) {
        if (as[i] === shapeLabels[i]) correctShape++;
        if (at[i] === textureLabels[i]) correctTexture++;
      }
    }
    return {
      shape: correctShape / options.evalImages,
      texture: correctTexture / options.evalImages,
    };
  };
  const accuracy = await evaluate();
  // What quantising the shipped weights costs: the same evaluation with the trunk's weights
  // replaced by their uint8 round trip (the heads stay float32; they are not shipped).
  const { manifest, data: blob } = encodeParams(trunk.params);
  decodeParamsInto(trunk.params, manifest, blob, 'quantised round trip');
  const quantisedAccuracy = await evaluate();
  reporter.info(
    `quantised (uint8) trunk: shape ${(100 * quantisedAccuracy.shape).toFixed(1)}%, texture ${(100 * quantisedAccuracy.texture).toFixed(1)}%`,
  );
  reporter.summary(
    { accuracy, trainSeconds },
    `task-A accuracy on ${options.evalImages} held-out images: shape ${(100 * accuracy.shape).toFixed(1)}% (chance ${(100 / nShapes).toFixed(1)}%), texture ${(100 * accuracy.texture).toFixed(1)}% (chance ${(100 / nTextures).toFixed(1)}%); trained in ${trainSeconds.toFixed(0)} s`,
  );

  const record = {
    id: `mobilenetv2-${options.alpha}`,
    architecture: { name: 'mobileNetV2', alpha: options.alpha, trainedInputShape: [size, size, 3] },
    preprocessing: PREPROCESSING,
    training: {
      task: 'generated shapes (@graft/datasets shapes): main-shape class (20) + texture (6), softmax CE, texture weighted 0.5',
      steps,
      batch,
      images: steps * batch,
      optimizer: `adam, lr ${options.learningRate} cosine to 5%`,
      seed,
      seconds: Math.round(trainSeconds),
      backend: `${info.name} simd=${info.simd} threads=${info.threads}`,
      heldOutAccuracy: accuracy,
      heldOutAccuracyQuantised: quantisedAccuracy,
      heldOutImages: options.evalImages,
      command: `graft pretrain --steps ${steps} --batch ${batch} --size ${size} --alpha ${options.alpha} --seed ${seed} --lr ${options.learningRate}`,
    },
  };
  const base64 = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('base64');
  const source = `// Generated by \`graft pretrain\` (apps/cli/src/commands/pretrain.ts). Do not edit.
// The backbone graft ships: ${record.training.command}
export const shippedBackbone = ${JSON.stringify({ ...record, manifest }, null, 1)} as const;
export const shippedBackboneWeights = '${base64}';
`;
  await mkdir(dirname(options.emit), { recursive: true });
  const tmp = `${options.emit}.tmp-${process.pid}`;
  await writeFile(tmp, source);
  await rename(tmp, options.emit);
  reporter.info(`wrote ${options.emit} (${(blob.byteLength / 1024).toFixed(0)} KiB of weights)`);
  trunk.dispose();
  optimizer.dispose();
}

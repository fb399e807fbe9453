import { Dense, initBackend, mobileNetV2 } from '@graft/core';
import { quadrantShapes } from '@graft/datasets';
import * as tf from '@tensorflow/tfjs-core';
import type { Reporter } from '../reporter';

export interface DemoOptions {
  steps: number;
  batch: number;
  size: number;
  alpha: number;
  backend: 'wasm' | 'cpu';
  seed: number;
}

export interface DemoResult {
  backend: string;
  simd: boolean;
  threads: number;
  losses: number[];
  imagesPerSecond: number;
}

/**
 * The smallest real graft run: a MobileNetV2 trunk and a 4-label sigmoid head trained on a
 * generated multi-label task (which quadrants hold a shape), on WASM, every weight trainable.
 * Prints the backend it used and the loss as it goes down.
 */
export async function runDemo(options: DemoOptions, reporter: Reporter): Promise<DemoResult> {
  const info = await initBackend({ backend: options.backend });
  reporter.info(
    `backend: ${info.name} (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`,
    { backend: info.name, simd: info.simd, threads: info.threads },
  );

  const { size, batch, steps, seed } = options;
  const trunk = mobileNetV2({ alpha: options.alpha, inputShape: [size, size, 3], seed });
  const channels = trunk.outputShape[trunk.outputShape.length - 1] as number;
  const head = new Dense({ name: 'quadrants', inputUnits: channels, units: 4, seed: seed + 1 });
  const params = [...trunk.params, ...head.params()];
  const variables = params.filter((p) => p.trainable).map((p) => p.variable);
  reporter.info(
    `model: MobileNetV2 alpha ${options.alpha}, ${size}x${size} input, ${countValues(params)} parameters, all trainable`,
  );

  // A fixed pool of four batches, revisited: the loss must fall as the network fits them.
  const batchesInPool = 4;
  const data = quadrantShapes({ count: batch * batchesInPool, size, seed });
  const images = tf.tensor4d(data.images, [batch * batchesInPool, size, size, 3]);
  const labels = tf.tensor2d(data.labels, [batch * batchesInPool, 4]);
  const optimizer = tf.train.adam(2e-3);

  const losses: number[] = [];
  const started = performance.now();
  for (let step = 0; step < steps; step++) {
    const start = (step % batchesInPool) * batch;
    const loss = tf.tidy(() => {
      const x = tf.slice(images, [start, 0, 0, 0], [batch, size, size, 3]);
      const y = tf.slice(labels, [start, 0], [batch, 4]);
      return optimizer.minimize(
        () => {
          const features = trunk.apply(x, { training: true });
          const logits = head.apply(tf.mean(features, [1, 2]), { training: true });
          return tf.losses.sigmoidCrossEntropy(y, logits) as tf.Scalar;
        },
        true,
        variables,
      ) as tf.Scalar;
    });
    const value = (await loss.data())[0] as number;
    loss.dispose();
    if (!Number.isFinite(value)) {
      throw new Error(`loss became ${value} at step ${step + 1}; lower the learning rate`);
    }
    losses.push(value);
    const elapsed = (performance.now() - started) / 1000;
    reporter.progress(
      { step: step + 1, steps, loss: value, imagesPerSecond: ((step + 1) * batch) / elapsed },
      `step ${String(step + 1).padStart(String(steps).length)}/${steps}  loss ${value.toFixed(4)}  ${(((step + 1) * batch) / elapsed).toFixed(1)} images/s`,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const imagesPerSecond = (steps * batch) / seconds;
  const first = mean(losses.slice(0, batchesInPool));
  const last = mean(losses.slice(-batchesInPool));
  reporter.summary(
    { backend: info.name, firstLoss: first, lastLoss: last, seconds, imagesPerSecond },
    `loss ${first.toFixed(4)} -> ${last.toFixed(4)} (mean of first and last ${batchesInPool} steps) in ${seconds.toFixed(1)} s on ${info.name}, ${imagesPerSecond.toFixed(1)} images/s`,
  );

  tf.dispose([images, labels]);
  optimizer.dispose();
  trunk.dispose();
  for (const p of head.params()) p.variable.dispose();
  return { backend: info.name, simd: info.simd, threads: info.threads, losses, imagesPerSecond };
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
}

function countValues(params: readonly { variable: tf.Variable }[]): number {
  return params.reduce((n, p) => n + p.variable.size, 0);
}

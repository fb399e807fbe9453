import { readFile } from 'node:fs/promises';
import { GraftError, initBackend } from '@graft/core';
import { createRng, decodeImage, type ExampleInput } from '@graft/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { inputTransforms } from '../pipeline/data';
import { loadRunModel } from '../pipeline/graftModel';

export interface PredictOptions {
  model: string;
  images: readonly string[];
  backend: 'wasm' | 'cpu';
  /** Images per forward pass. */
  batch: number;
}

/** One image's outputs, per task. */
export interface Prediction {
  image: string;
  tasks: Record<string, TaskPrediction>;
}

export type TaskPrediction =
  | { kind: 'multiLabel'; probabilities: Record<string, number>; labels: string[] }
  | { kind: 'classification'; probabilities: Record<string, number>; class: string }
  | { kind: 'regression'; values: Record<string, number> };

/**
 * `graft predict <model-dir> <images...>`: each image decoded, fitted to the model's input
 * and preprocessing as graft.json records them, and every task's output: multi-label
 * probabilities and the labels at or above the stored (tuned) thresholds, the most probable
 * class, or the regressed values.
 */
export async function runPredict(options: PredictOptions): Promise<Prediction[]> {
  await initBackend({ backend: options.backend });
  const model = await loadRunModel(options.model);
  try {
    const { sidecar } = model;
    const inputShape = sidecar.trunk.inputShape;
    const transforms = inputTransforms({ inputShape, preprocessing: sidecar.preprocessing });
    const channels = inputShape[2] === 1 ? 1 : 3;
    const inputs: ExampleInput[] = [];
    for (const image of options.images) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(image));
      } catch (cause) {
        throw new GraftError('DATASET_FILE_NOT_FOUND', 'Cannot read the image', {
          where: image,
          hint: 'Pass paths to PNG or JPEG files.',
          cause,
        });
      }
      let input = await decodeImage(bytes, { channels, where: image });
      for (const t of transforms) input = t.apply(input, { rng: createRng(0) });
      inputs.push(input);
    }
    const out: Prediction[] = [];
    for (let start = 0; start < inputs.length; start += options.batch) {
      const chunk = inputs.slice(start, start + options.batch);
      const first = chunk[0] as ExampleInput;
      const data = new Float32Array(chunk.length * first.data.length);
      chunk.forEach((c, k) => {
        data.set(c.data, k * first.data.length);
      });
      const x = tf.tensor(data, [chunk.length, ...first.shape]);
      const byTask = model.predict(x);
      const values: Record<string, Float32Array> = {};
      for (const [task, t] of Object.entries(byTask)) values[task] = t.dataSync() as Float32Array;
      tf.dispose([x, ...Object.values(byTask)]);
      chunk.forEach((_, i) => {
        const tasks: Record<string, TaskPrediction> = {};
        for (const task of model.tasks) {
          const v = values[task.name] as Float32Array;
          const names = task.labels ?? [];
          const width = v.length / chunk.length;
          const row = Array.from(v.subarray(i * width, (i + 1) * width));
          const named = Object.fromEntries(row.map((p, k) => [names[k] ?? String(k), p]));
          if (task.kind === 'multiLabel') {
            const thresholds = task.thresholds ?? [];
            tasks[task.name] = {
              kind: 'multiLabel',
              probabilities: named,
              labels: row
                .map((p, k) =>
                  p >= (thresholds[k] ?? thresholds[0] ?? 0.5) ? names[k] : undefined,
                )
                .filter((l): l is string => l !== undefined),
            };
          } else if (task.kind === 'classification') {
            const best = row.indexOf(Math.max(...row));
            tasks[task.name] = {
              kind: 'classification',
              probabilities: named,
              class: names[best] ?? String(best),
            };
          } else {
            tasks[task.name] = { kind: 'regression', values: named };
          }
        }
        out.push({ image: options.images[start + i] as string, tasks });
      });
    }
    return out;
  } finally {
    model.dispose();
  }
}

/** One line per image: `img.png  colour: red (0.91), blue (0.12 < 0.40)  shape: round (0.80)`. */
export function formatPrediction(p: Prediction): string {
  const parts = Object.entries(p.tasks).map(([task, t]) => {
    if (t.kind === 'multiLabel') {
      const probs = Object.entries(t.probabilities)
        .map(([l, v]) => `${l} ${v.toFixed(2)}`)
        .join(', ');
      return `${task}: [${t.labels.join(', ')}] (${probs})`;
    }
    if (t.kind === 'classification') {
      return `${task}: ${t.class} (${(t.probabilities[t.class] ?? 0).toFixed(2)})`;
    }
    return `${task}: ${Object.entries(t.values)
      .map(([n, v]) => `${n} ${v.toFixed(3)}`)
      .join(', ')}`;
  });
  return `${p.image}  ${parts.join('  ')}`;
}

// Runs in headless Chromium (see run.mjs): the generators must give the same bytes as in
// Node, and the manifest adapter must read PNG and JPEG over fetch with the browser's own
// decoder, then batch them into tensors.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { batches, disposeBatch, drivingScenes, manifest, shapes } from '../src/index';
import { fingerprint } from './fingerprint';

async function run(): Promise<unknown> {
  await tf.setBackend('cpu');
  const scenes = drivingScenes({ count: 24, seed: 5 });
  const shapeImages = shapes({ count: 24, seed: 5 });
  const ds = await manifest('/data/labels.csv', {
    tasks: { flag: { kind: 'multiLabel', columns: ['flag'] } },
  });
  const decoded = [];
  for (let i = 0; i < ds.size; i++) {
    const e = await ds.get(i);
    decoded.push({ id: e.id, shape: e.input.shape, data: Array.from(e.input.data) });
  }
  const shapesSeen = [];
  for await (const b of batches(drivingScenes({ count: 10, seed: 1 }), { batchSize: 4 })) {
    shapesSeen.push([b.x.shape, b.targets.presence?.shape, b.mask.lightColour?.shape]);
    disposeBatch(b);
  }
  return {
    scenes: await fingerprint(scenes),
    shapes: await fingerprint(shapeImages),
    labels: Array.from({ length: 24 }, (_, i) => scenes.labelsAt(i).targets),
    decoded,
    batchShapes: shapesSeen,
    tensorsLeft: tf.memory().numTensors,
  };
}

const out = document.createElement('pre');
run().then(
  (result) => {
    out.id = 'result';
    out.textContent = JSON.stringify(result);
    document.body.append(out);
  },
  (error: unknown) => {
    out.id = 'error';
    out.textContent = String((error as Error).stack ?? error);
    document.body.append(out);
  },
);

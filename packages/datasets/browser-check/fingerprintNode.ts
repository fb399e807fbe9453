// What the browser page computes, computed in Node for run.mjs to compare against.
import { drivingScenes, shapes } from '../src/index';
import { fingerprint } from './fingerprint';

export async function fingerprints() {
  const scenes = drivingScenes({ count: 24, seed: 5 });
  return {
    scenes: await fingerprint(scenes),
    shapes: await fingerprint(shapes({ count: 24, seed: 5 })),
    labels: Array.from({ length: 24 }, (_, i) => scenes.labelsAt(i).targets),
  };
}

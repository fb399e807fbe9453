import { readFileSync } from 'node:fs';
import { initBackend, mobileNetV2, Trainer } from '@graft/core';
import { batches, drivingScenes } from '@graft/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { headsFor, multiTaskModel } from './index';

/** The README's first example is this test's body, word for word, and it runs. */
describe('README', () => {
  it('opens with an example that runs', async () => {
    await initBackend(); // also the example's first line; the count below needs a backend
    const before = tf.memory().numTensors;
    // README example start
    await initBackend();
    const scenes = drivingScenes({ count: 64, seed: 1, size: 32, missing: 0.2 });
    const backbone = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 1 });
    const model = multiTaskModel({ backbone, tasks: headsFor(scenes.tasks) });
    const trainer = new Trainer({ model, optimizer: { type: 'adamw', learningRate: 1e-3 } });
    const data = { batches: () => batches(scenes, { batchSize: 16 }) };
    await trainer.fit(data, { epochs: 2 });
    const { metrics } = await trainer.evaluate(data); // presence/mAP, lightColour/accuracy, ...
    // README example end
    expect(Object.keys(metrics)).toContain('presence/mAP');
    trainer.dispose();
    model.dispose();
    backbone.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const body = source
      .split('// README example start\n')[1]
      ?.split('    // README example end')[0]
      ?.split('\n')
      .map((line) => line.replace(/^ {4}/, ''))
      .join('\n')
      .trim();
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = readme.split('```ts\n')[1]?.split('```')[0] ?? '';
    const lines = block.trim().split('\n');
    const imports = lines.filter((l) => l.startsWith('import '));
    expect(lines.slice(imports.length).join('\n').trim()).toBe(body);
    for (const line of imports)
      expect(source.replace("'./index'", "'@graft/heads'")).toContain(line);
  });
});

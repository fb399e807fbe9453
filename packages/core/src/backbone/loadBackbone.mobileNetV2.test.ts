import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { mobileNetV2 } from '../models/mobileNetV2';
import { countParams } from '../nn/paramList';
import { maxAbsDiff, seededTensor } from '../nn/testHelpers';
import { kerasMobileNetV2Fixture } from '../testing/fixtures/kerasMobileNetV2';
import { toArtifacts } from '../testing/fixtures/kerasModelWriter';
import { loadBackbone } from './loadBackbone';

beforeAll(async () => {
  await initBackend();
});

/** tfjs-layers' own reading of the same files: the reference graft must agree with. */
async function reference(files: ReturnType<typeof kerasMobileNetV2Fixture>, cutAt: string) {
  const model = await tfl.loadLayersModel(tf.io.fromMemory(toArtifacts(files)));
  const cut = tfl.model({ inputs: model.inputs, outputs: model.getLayer(cutAt).output });
  return { model, cut };
}

describe('loadBackbone: Keras MobileNetV2 with uint8 weights (acceptance)', () => {
  it('loads, cuts at out_relu, and gives the features tfjs-layers gives (1e-4)', async () => {
    const files = kerasMobileNetV2Fixture({ alpha: 0.35, inputShape: [32, 32, 3], classes: 5 });
    expect(Object.keys(files.shards).length).toBeGreaterThan(1);
    const trunk = await loadBackbone(files, { cutAt: 'out_relu' });
    const { model, cut } = await reference(files, 'out_relu');
    const x = tf.tidy(() => tf.mul(seededTensor([2, 32, 32, 3], 7), 1));
    const ours = trunk.apply(x, { training: false });
    const theirs = cut.predict(x) as tf.Tensor;
    expect(ours.shape).toEqual([2, 1, 1, 1280]);
    expect(theirs.shape).toEqual(ours.shape);
    const diff = maxAbsDiff(ours.dataSync(), theirs.dataSync());
    expect(diff).toBeLessThan(1e-4);
    // Not a trivial agreement: the features vary.
    expect(Math.max(...ours.dataSync()) - Math.min(...ours.dataSync())).toBeGreaterThan(0.1);
    tf.dispose([x, ours, theirs]);
    model.dispose();
    trunk.dispose();
  });

  it('agrees at odd sizes (both correct_pad cases), inside the graph and through the classifier', async () => {
    const files = kerasMobileNetV2Fixture({
      alpha: 0.5,
      inputShape: [33, 46, 3],
      classes: 7,
      seed: 9,
    });
    const x = seededTensor([2, 33, 46, 3], 8);
    for (const cutAt of ['block_6_depthwise_relu', 'block_12_add', 'predictions']) {
      const trunk = await loadBackbone(files, { cutAt });
      const { model, cut } = await reference(files, cutAt);
      const ours = trunk.apply(x, { training: false });
      const theirs = cut.predict(x) as tf.Tensor;
      expect(ours.shape).toEqual(theirs.shape);
      expect({ cutAt, diff: maxAbsDiff(ours.dataSync(), theirs.dataSync()) < 1e-4 }).toEqual({
        cutAt,
        diff: true,
      });
      tf.dispose([ours, theirs]);
      model.dispose();
      trunk.dispose();
    }
    x.dispose();
  });

  it('has the layers, parameters and blocks of graft’s own mobileNetV2', async () => {
    const files = kerasMobileNetV2Fixture({ alpha: 0.35, inputShape: [32, 32, 3], classes: 5 });
    const loaded = await loadBackbone(files, { cutAt: 'out_relu' });
    const builtIn = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 0 });
    expect(loaded.blocks.map((b) => b.name)).toEqual(builtIn.blocks.map((b) => b.name));
    expect(loaded.blocks).toEqual(builtIn.blocks);
    expect(loaded.params.map((p) => [p.name, p.block, p.kind, p.trainable])).toEqual(
      builtIn.params.map((p) => [p.name, p.block, p.kind, p.trainable]),
    );
    expect(countParams(loaded.params)).toBe(410_208);
    loaded.dispose();
    builtIn.dispose();
  });
});

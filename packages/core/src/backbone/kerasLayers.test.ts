import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { maxAbsDiff, seededTensor } from '../nn/testHelpers';
import { branchesFixture, squeezeExciteFixture } from '../testing/fixtures/kerasLayerZoo';
import { type ModelFiles, toArtifacts } from '../testing/fixtures/kerasModelWriter';
import { loadBackbone } from './loadBackbone';

beforeAll(async () => {
  await initBackend();
});

/** Every layer's output, graft vs tfjs-layers, on the same input. */
async function compareEveryLayer(files: ModelFiles, inputShape: number[], scale: number) {
  const ours = await loadBackbone(files);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(toArtifacts(files)));
  const names = ours.nodes.map((n) => n.layer.name);
  const reference = tfl.model({
    inputs: model.inputs,
    outputs: names.map((n) => model.getLayer(n).output as tfl.SymbolicTensor),
  });
  const x = tf.tidy(() => tf.mul(tf.add(seededTensor([2, ...inputShape], 11), 1), scale));
  const before = tf.memory().numTensors;
  const got = ours.outputsAt(x, names, { training: false });
  // Exactly the returned tensors stay (inference Dropout hands its input back: one tensor).
  expect(tf.memory().numTensors).toBe(before + new Set(Object.values(got)).size);
  const expected = reference.predict(x) as tf.Tensor[];
  const diffs = names.map((name, i) => {
    const a = got[name] as tf.Tensor;
    const b = expected[i] as tf.Tensor;
    expect({ name, shape: a.shape }).toEqual({ name, shape: b.shape });
    return { name, diff: maxAbsDiff(a.dataSync(), b.dataSync()) };
  });
  tf.dispose([x, ...Object.values(got), ...expected]);
  model.dispose();
  return { ours, diffs };
}

describe('Keras layers in functional graphs, against tfjs-layers', () => {
  it('a residual squeeze-excite block: Rescaling, Conv2D(relu), DepthwiseConv2D, BN, swish, GAP, Reshape, Multiply, Dropout, Add, ReLU, GlobalMaxPooling2D, Dense(softmax)', async () => {
    const { ours, diffs } = await compareEveryLayer(squeezeExciteFixture(), [12, 12, 3], 127.5);
    for (const d of diffs) expect(d.diff, d.name).toBeLessThan(1e-4);
    expect(ours.layer('se_excite').className).toBe('Multiply');
    expect(ours.preprocessing.inputRange).toEqual([0, 255]);
    expect(ours.preprocessing.mean).toEqual([0, 0, 0]);
    ours.dispose();
  });

  it('parallel branches: ZeroPadding2D, Conv2D(relu6), MaxPooling2D, AveragePooling2D(same), SeparableConv2D(tanh), Concatenate, BN, Flatten, Dense(sigmoid)', async () => {
    const { ours, diffs } = await compareEveryLayer(branchesFixture(), [10, 10, 3], 1);
    for (const d of diffs) expect(d.diff, d.name).toBeLessThan(1e-4);
    expect(ours.layer('mixed').className).toBe('Concatenate');
    expect(ours.outputShape).toEqual([3]);
    ours.dispose();
  });

  it('uint16 and float16 weights read back as tfjs-layers reads them', async () => {
    for (const quantization of ['uint16', 'float16'] as const) {
      const { ours, diffs } = await compareEveryLayer(
        squeezeExciteFixture(5, { quantization }),
        [12, 12, 3],
        127.5,
      );
      for (const d of diffs) expect(d.diff, `${quantization} ${d.name}`).toBeLessThan(1e-4);
      ours.dispose();
    }
  });
});

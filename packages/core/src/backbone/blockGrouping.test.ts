import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { mobileNetV2 } from '../models/mobileNetV2';
import { seededTensor } from '../nn/testHelpers';
import { kerasMobileNetV2Fixture } from '../testing/fixtures/kerasMobileNetV2';
import { KerasModelWriter, keras } from '../testing/fixtures/kerasModelWriter';
import type { Backbone } from './backbone';
import { loadBackbone } from './loadBackbone';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** conv -> relu -> pool, twice, then flatten -> dense: a plain CNN without naming conventions. */
function plainCnn() {
  const m = new KerasModelWriter('plain', 2);
  let x = m.inputLayer('img', [8, 8, 1]);
  for (const i of [1, 2]) {
    const cin = i === 1 ? 1 : 4;
    m.kernel(`c${i}/kernel`, [3, 3, cin, 4], 9 * cin);
    m.uniform(`c${i}/bias`, [4], 0, 0.1);
    x = m.layer('Conv2D', `c${i}`, keras.conv2d({ filters: 4, kernel: 3, padding: 'same' }), [x]);
    x = m.layer('ReLU', `r${i}`, keras.relu(null), [x]);
    x = m.layer(
      'MaxPooling2D',
      `p${i}`,
      { pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' },
      [x],
    );
  }
  x = m.layer('Flatten', 'flat', { data_format: 'channels_last' }, [x]);
  m.kernel('fc/kernel', [16, 2], 16);
  m.uniform('fc/bias', [2], 0, 0.1);
  x = m.layer('Dense', 'fc', keras.dense({ units: 2 }), [x]);
  return m.write([x]);
}

/** Keras ResNet naming: conv1_*, pool1_*, convS_blockN_*, avg_pool, predictions. */
function resnetNamed() {
  const m = new KerasModelWriter('resnet_like', 3);
  let x = m.inputLayer('input_1', [8, 8, 2]);
  m.kernel('conv1_conv/kernel', [3, 3, 2, 4], 18);
  m.uniform('conv1_conv/bias', [4], 0, 0.1);
  x = m.layer(
    'Conv2D',
    'conv1_conv',
    keras.conv2d({ filters: 4, kernel: 3, strides: 2, padding: 'same' }),
    [x],
  );
  x = m.layer('ReLU', 'conv1_relu', keras.relu(null), [x]);
  for (const [stage, block] of [
    [2, 1],
    [2, 2],
    [3, 1],
  ]) {
    const p = `conv${stage}_block${block}_`;
    m.kernel(`${p}1_conv/kernel`, [1, 1, 4, 4], 4);
    m.uniform(`${p}1_conv/bias`, [4], 0, 0.1);
    const y = m.layer('Conv2D', `${p}1_conv`, keras.conv2d({ filters: 4, kernel: 1 }), [x]);
    x = m.layer('Add', `${p}add`, {}, [x, y]);
    x = m.layer('ReLU', `${p}out`, keras.relu(null), [x]);
  }
  x = m.layer('GlobalAveragePooling2D', 'avg_pool', { data_format: 'channels_last' }, [x]);
  return m.write([x]);
}

function layersOf(net: Backbone) {
  return Object.fromEntries(net.blocks.map((b) => [b.name, b.layerNames]));
}

describe('blocks', () => {
  it('MobileNetV2 names group as the built-in model does, and every param carries its block', async () => {
    const net = await loadBackbone(kerasMobileNetV2Fixture({ classes: 4 }));
    expect(net.blocks.map((b) => b.name)).toEqual([
      'stem',
      ...Array.from({ length: 17 }, (_, i) => `block_${i}`),
      'conv_head',
    ]);
    // The classifier joins the layers after the last numbered block.
    expect(net.blocks.at(-1)?.layerNames).toEqual([
      'Conv_1',
      'Conv_1_bn',
      'out_relu',
      'global_average_pooling2d',
      'predictions',
    ]);
    expect(net.param('predictions/kernel').block).toBe('conv_head');
    for (const block of net.blocks) {
      for (const layer of block.layerNames) {
        for (const p of net.layer(layer).params()) expect(p.block).toBe(block.name);
      }
    }
    net.dispose();
  });

  it('without names: by residual units and downsampling, never splitting a residual unit', async () => {
    const net = await loadBackbone(kerasMobileNetV2Fixture(), { blocks: 'structure' });
    const blocks = layersOf(net);
    expect(blocks.stage_0).toEqual([
      'Conv1',
      'bn_Conv1',
      'Conv1_relu',
      'expanded_conv_depthwise',
      'expanded_conv_depthwise_BN',
      'expanded_conv_depthwise_relu',
      'expanded_conv_project',
      'expanded_conv_project_BN',
      'block_1_expand',
      'block_1_expand_BN',
      'block_1_expand_relu',
      'block_1_pad',
    ]);
    expect(blocks.stage_1?.[0]).toBe('block_1_depthwise');
    expect(blocks.stage_1?.at(-1)).toBe('block_2_add');
    const blockOf = new Map(net.nodes.map((n) => [n.layer.name, n.block]));
    for (const node of net.nodes.filter((n) => n.layer.className === 'Add')) {
      // The Add ends its block; its residual branch is inside that block.
      const block = net.blocks.find((b) => b.name === node.block);
      expect(block?.layerNames.at(-1)).toBe(node.layer.name);
      expect(blockOf.get(node.inputs[1] as string)).toBe(node.block);
    }
    const strides = net.blocks.map((b) => b.stride);
    expect(strides).toEqual([...strides].sort((a, b) => a - b));
    expect(net.blocks.flatMap((b) => b.layerNames)).toEqual(net.nodes.map((n) => n.layer.name));
    net.dispose();
  });

  it('a plain CNN: a stage ends at each pooling layer', async () => {
    const net = await loadBackbone(plainCnn());
    expect(layersOf(net)).toEqual({
      stage_0: ['c1', 'r1', 'p1'],
      stage_1: ['c2', 'r2', 'p2'],
      stage_2: ['flat', 'fc'],
    });
    expect(net.blocks.map((b) => [b.outputChannels, b.stride])).toEqual([
      [4, 2],
      [4, 4],
      [2, 4],
    ]);
    const e = (await loadBackbone(plainCnn(), { blocks: 'names' }).catch(
      (error: unknown) => error,
    )) as GraftError;
    expect(e.code).toBe('INVALID_ARGUMENT');
    net.dispose();
  });

  it('ResNet names: stem, convS_blockN, top', async () => {
    const net = await loadBackbone(resnetNamed());
    expect(net.blocks.map((b) => b.name)).toEqual([
      'stem',
      'conv2_block1',
      'conv2_block2',
      'conv3_block1',
      'top',
    ]);
    expect(layersOf(net).conv2_block2).toEqual([
      'conv2_block2_1_conv',
      'conv2_block2_add',
      'conv2_block2_out',
    ]);
    net.dispose();
  });
});

describe('cut', () => {
  it('keeps the graph up to a layer or block, shares the parameters, and computes the same features', async () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 4 });
    const cut = net.cut('block_5');
    expect(cut.outputLayer).toBe('block_5_add');
    expect(cut.blocks.map((b) => b.name)).toEqual([
      'stem',
      'block_0',
      'block_1',
      'block_2',
      'block_3',
      'block_4',
      'block_5',
    ]);
    expect(cut.param('block_5_expand/kernel').variable).toBe(
      net.param('block_5_expand/kernel').variable,
    );
    expect(() => cut.layer('block_6_expand')).toThrow(GraftError);
    const x = seededTensor([1, 32, 32, 3], 1);
    const a = cut.apply(x, { training: false });
    const b = net.outputsAt(x, ['block_5'], { training: false }).block_5 as tf.Tensor;
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    // Inside a residual unit: the branch output, before the add.
    const branch = net.cut('block_5_project_BN');
    expect(branch.blocks.at(-1)?.layerNames.at(-1)).toBe('block_5_project_BN');
    const e = (() => {
      try {
        net.cut('block_5_projekt_BN');
      } catch (error) {
        return error as GraftError;
      }
    })();
    expect(e?.code).toBe('LAYER_NOT_FOUND');
    expect(e?.hint).toContain('block_5_project_BN');
    tf.dispose([x, a, b]);
    net.dispose();
  });

  it('loadBackbone cuts at a block name too, releasing what it does not keep', async () => {
    const before = tf.memory().numTensors;
    const net = await loadBackbone(kerasMobileNetV2Fixture(), { cutAt: 'block_2' });
    expect(net.outputLayer).toBe('block_2_add');
    const kept = tf.memory().numTensors - before;
    expect(kept).toBe(net.params.length);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { mobileNetV2 } from '../models/mobileNetV2';
import { countParams } from '../nn/paramList';
import { squeezeExciteFixture } from '../testing/fixtures/kerasLayerZoo';
import { formatBackboneSummary, summarizeBlocks } from './backboneSummary';
import { exportModel } from './exportModel';
import { loadBackbone } from './loadBackbone';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('inspecting a backbone', () => {
  it('summarises blocks: layers, shapes, strides, parameter counts that add up', () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [64, 64, 3], seed: 0 });
    for (const p of net.params.filter((q) => q.block === 'stem'))
      if (p.kind === 'kernel') p.trainable = false;
    const rows = summarizeBlocks(net);
    expect(rows[0]).toEqual({
      block: 'stem',
      layers: 3,
      firstLayer: 'Conv1',
      lastLayer: 'Conv1_relu',
      params: 3 * 3 * 3 * 16 + 4 * 16,
      trainableParams: 2 * 16,
      outputShape: [32, 32, 16],
      stride: 2,
    });
    expect(rows.reduce((n, r) => n + r.params, 0)).toBe(countParams(net.params));
    const text = formatBackboneSummary(net);
    expect(text.split('\n')[0]).toBe('input input_1 [64, 64, 3] -> output out_relu [2, 2, 1280]');
    expect(text).toContain('block_16');
    expect(text).toContain('410,208 parameters in 19 blocks');
    net.dispose();
  });

  it('preprocessing: inferred from a Rescaling layer, overridable, and carried by graft exports', async () => {
    const inferred = await loadBackbone(squeezeExciteFixture());
    expect(inferred.preprocessing).toEqual({
      inputRange: [0, 255],
      mean: [0, 0, 0],
      std: [1, 1, 1],
      size: [12, 12, 3],
    });
    const custom = {
      inputRange: [0, 1] as [number, number],
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    };
    const overridden = await loadBackbone(squeezeExciteFixture(), { preprocessing: custom });
    expect(overridden.preprocessing).toEqual({ ...custom, size: [12, 12, 3] });
    await expect(
      loadBackbone(squeezeExciteFixture(), { preprocessing: { std: [0, 1, 1] } }),
    ).rejects.toThrow(/std must be positive/);
    const exported = await exportModel({ backbone: overridden });
    const back = await loadBackbone({
      modelJson: exported.modelJson,
      shards: exported.shards,
      sidecar: exported.sidecar,
    });
    expect(back.preprocessing).toEqual(overridden.preprocessing);
    const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 0 });
    expect(net.preprocessing).toEqual({
      inputRange: [0, 1],
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      size: [32, 32, 3],
    });
    for (const b of [inferred, overridden, back, net]) b.dispose();
  });
});

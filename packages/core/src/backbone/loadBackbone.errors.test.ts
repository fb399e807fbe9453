import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { branchesFixture } from '../testing/fixtures/kerasLayerZoo';
import { kerasMobileNetV2Fixture } from '../testing/fixtures/kerasMobileNetV2';
import { type ModelFiles, writeModelFiles } from '../testing/fixtures/kerasModelWriter';
import { loadBackbone } from './loadBackbone';

let dir: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  dir = await mkdtemp(join(tmpdir(), 'graft-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
/** A fresh copy of a small MobileNetV2 fixture on disk, in several shards. */
async function onDisk(
  files: ModelFiles = small(),
): Promise<{ model: string; folder: string; files: ModelFiles }> {
  counter += 1;
  const folder = join(dir, `m${counter}`);
  const model = await writeModelFiles(folder, files);
  return { model, folder, files };
}

function small(): ModelFiles {
  return kerasMobileNetV2Fixture(
    { alpha: 0.35, inputShape: [32, 32, 3] },
    { quantization: 'uint8', shardBytes: 32 * 1024 },
  );
}

/** The GraftError a promise rejects with (fails the test when it resolves or throws another error). */
async function failure(promise: Promise<unknown>): Promise<GraftError> {
  try {
    const value = await promise;
    (value as { dispose?: () => void })?.dispose?.();
  } catch (e) {
    if (e instanceof GraftError) return e;
    throw e;
  }
  throw new Error('expected a GraftError');
}

describe('loadBackbone from files and URLs', () => {
  it('loads a path, its folder and a file URL alike, leaking nothing', async () => {
    const { model, folder } = await onDisk();
    const before = tf.memory().numTensors;
    const a = await loadBackbone(model, { cutAt: 'block_5_add' });
    const b = await loadBackbone(folder, { cutAt: 'block_5_add' });
    const c = await loadBackbone(new URL(`file://${model}`), { cutAt: 'block_5_add' });
    for (const net of [b, c]) {
      expect(net.params.map((p) => Array.from(p.variable.dataSync().slice(0, 4)))).toEqual(
        a.params.map((p) => Array.from(p.variable.dataSync().slice(0, 4))),
      );
    }
    expect(a.outputLayer).toBe('block_5_add');
    expect(a.blocks.at(-1)?.name).toBe('block_5');
    for (const net of [a, b, c]) net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads over http, and a missing shard there is MODEL_NOT_FOUND naming the URL', async () => {
    const { folder, files } = await onDisk();
    const server: Server = createServer(async (req, res) => {
      try {
        const body = await readFile(join(folder, (req.url ?? '/').slice(1)));
        res.writeHead(200).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const net = await loadBackbone(`${base}/model.json`, { cutAt: 'out_relu' });
      expect(net.outputShape).toEqual([1, 1, 1280]);
      net.dispose();
      const shard = Object.keys(files.shards)[1] as string;
      await unlink(join(folder, shard));
      const e = await failure(loadBackbone(`${base}/model.json`));
      expect(e.code).toBe('MODEL_NOT_FOUND');
      expect(e.message).toContain(`${base}/${shard}`);
    } finally {
      server.close();
    }
  });
});

describe('loadBackbone rejects bad input with GraftErrors that say what and where', () => {
  it('a missing model.json', async () => {
    const e = await failure(loadBackbone(join(dir, 'nowhere', 'model.json')));
    expect(e.code).toBe('MODEL_NOT_FOUND');
    expect(e.where).toContain(join(dir, 'nowhere', 'model.json'));
  });

  it('a missing shard', async () => {
    const { model, folder, files } = await onDisk();
    const shard = Object.keys(files.shards)[2] as string;
    await unlink(join(folder, shard));
    const e = await failure(loadBackbone(model));
    expect(e.code).toBe('MODEL_NOT_FOUND');
    expect(e.where).toContain(join(folder, shard));
    expect(e.where).toContain('weightsManifest[0].paths');
  });

  it('a truncated shard: names the first weight cut off', async () => {
    const { model, folder, files } = await onDisk();
    const last = Object.keys(files.shards).at(-1) as string;
    await truncate(join(folder, last), 100);
    const e = await failure(loadBackbone(model));
    expect(e.code).toBe('WEIGHTS_MISMATCH');
    expect(e.message).toMatch(/cut off/);
    expect(e.message).toMatch(/"[^"]+\/[^"]+"/);
    expect(e.where).toContain(last);
  });

  it('a manifest that describes other bytes than the shards hold', async () => {
    const { model, folder, files } = await onDisk();
    const last = Object.keys(files.shards).at(-1) as string;
    const bytes = files.shards[last] as Uint8Array;
    await writeFile(join(folder, last), Buffer.concat([bytes, new Uint8Array(12)]));
    const e = await failure(loadBackbone(model));
    expect(e.code).toBe('WEIGHTS_MISMATCH');
    expect(e.message).toContain('12 more');
    // A weight whose manifest shape no longer matches the layer.
    const edited = small();
    const weights =
      (edited.modelJson.weightsManifest as { weights: { name: string; shape: number[] }[] }[])[0]
        ?.weights ?? [];
    const conv = weights.find((w) => w.name === 'Conv1/kernel');
    if (conv) conv.shape = [3, 3, 3, 8, 2];
    const e2 = await failure(loadBackbone(edited));
    expect(e2.code).toBe('WEIGHTS_MISMATCH');
    expect(e2.message).toContain('Conv1/kernel');
    expect(e2.where).toContain('layer "Conv1"');
  });

  it('malformed JSON, and JSON that is not a layers model', async () => {
    const { model } = await onDisk();
    await writeFile(model, '{"modelTopology": {"class_name": "Functional", "config": ');
    const e = await failure(loadBackbone(model));
    expect(e.code).toBe('MODEL_MALFORMED');
    expect(e.where).toBe(model);
    expect(
      (
        await failure(
          loadBackbone({ modelJson: { format: 'graph-model', modelTopology: {} }, shards: {} }),
        )
      ).message,
    ).toMatch(/graph model/);
    const noLayers = small();
    const config = (
      noLayers.modelJson.modelTopology as { model_config: { config: Record<string, unknown> } }
    ).model_config.config;
    config.layers = 'oops';
    const e2 = await failure(loadBackbone(noLayers));
    expect(e2.code).toBe('MODEL_MALFORMED');
    expect(e2.where).toContain('.layers');
  });

  it('an unknown layer class, named with its layer', async () => {
    const files = small();
    const layers = (
      files.modelJson.modelTopology as {
        model_config: { config: { layers: { class_name: string; name: string }[] } };
      }
    ).model_config.config.layers;
    const victim = layers.find((l) => l.name === 'block_16_depthwise_relu');
    if (victim) victim.class_name = 'LayerNormalization';
    // Unknown even beyond the cut: the class is checked for the layers the cut keeps only.
    const kept = await loadBackbone(files, { cutAt: 'block_15_add' });
    kept.dispose();
    const e = await failure(loadBackbone(files));
    expect(e.code).toBe('LAYER_UNSUPPORTED');
    expect(e.message).toContain('LayerNormalization');
    expect(e.where).toContain('block_16_depthwise_relu');
    expect(e.hint).toContain('DepthwiseConv2D');
  });

  it('a cutAt that does not exist, suggesting near names', async () => {
    const e = await failure(loadBackbone(small(), { cutAt: 'out_reul' }));
    expect(e.code).toBe('LAYER_NOT_FOUND');
    expect(e.message).toContain('out_reul');
    expect(e.hint).toContain('out_relu');
    const e2 = await failure(loadBackbone(small(), { cutAt: 'block_3_expnd' }));
    expect(e2.hint).toContain('block_3_expand');
  });

  it('an input shape the model cannot take', async () => {
    const channels = await failure(loadBackbone(small(), { inputShape: [32, 32, 1] }));
    expect(channels.code).toBe('SHAPE_MISMATCH');
    expect(channels.message).toContain('[32, 32, 3]');
    const tiny = await failure(loadBackbone(small(), { inputShape: [4, 4, 3] }));
    expect(tiny.code).toBe('SHAPE_MISMATCH');
    expect(tiny.message).toMatch(/too small: layer "[^"]+"/);
    // Flatten + Dense fix the spatial size: another size fails at the Dense weights.
    const dense = await failure(loadBackbone(branchesFixture(), { inputShape: [12, 12, 3] }));
    expect(dense.code).toBe('SHAPE_MISMATCH');
    expect(dense.where).toContain('layer "hidden"');
    // ... but cutting before the Flatten takes any size.
    const cut = await loadBackbone(branchesFixture(), {
      inputShape: [16, 14, 3],
      cutAt: 'mixed_bn',
    });
    expect(cut.outputShape).toEqual([8, 7, 17]);
    // A tensor of the wrong shape at apply time.
    const x = tf.zeros([1, 20, 20, 3]);
    expect(() => cut.apply(x, { training: false })).toThrow(/Expected input \[batch, 16, 14, 3\]/);
    x.dispose();
    cut.dispose();
  });

  it('a layer whose weights are missing from the manifest', async () => {
    const files = small();
    const group = (files.modelJson.weightsManifest as { weights: { name: string }[] }[])[0];
    const w = group?.weights.find((v) => v.name === 'block_2_project_BN/moving_mean');
    if (w) w.name = 'something_else/moving_mean';
    const e = await failure(loadBackbone(files));
    expect(e.code).toBe('WEIGHTS_MISMATCH');
    expect(e.message).toContain('block_2_project_BN/moving_mean');
  });
});

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { GraftError } from '../errors';
import { mobileNetV2 } from '../models/mobileNetV2';
import { Activation } from '../nn/activation';
import { Dense } from '../nn/dense';
import type { AnyLayer, Layer } from '../nn/module';
import { GlobalAveragePooling2D } from '../nn/pooling';
import { maxAbsDiff, seededTensor } from '../nn/testHelpers';
import { branchesFixture, squeezeExciteFixture } from '../testing/fixtures/kerasLayerZoo';
import type { Backbone } from './backbone';
import { type ExportedModel, type ExportHead, exportModel } from './exportModel';
import { GlobalAveragePooling2DKeepdims } from './layers/globalPooling2d';
import { loadBackbone } from './loadBackbone';
import { loadGraftModel } from './loadGraftModel';
import { saveModel } from './saveModel';

let dir: string;
beforeAll(async () => {
  await initBackend();
  dir = await mkdtemp(join(tmpdir(), 'graft-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Graft's own prediction per task: trunk features at the attach point, then the head layers. */
function graftPredictions(
  backbone: Backbone,
  heads: readonly ExportHead[],
  x: tf.Tensor,
): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const at = backbone.outputsAt(
      x,
      heads.map((h) => h.attachAt ?? backbone.outputLayer),
      { training: false },
    );
    const out: Record<string, tf.Tensor> = {};
    for (const h of heads) {
      let y = at[h.attachAt ?? backbone.outputLayer] as tf.Tensor;
      for (const layer of h.layers) y = (layer as Layer).apply(y, { training: false });
      out[h.task] = y;
    }
    return out;
  });
}

/** tfjs-layers reading the exported files: one output per task, in task order. */
async function tfjsLayersPredictions(exported: ExportedModel, x: tf.Tensor): Promise<tf.Tensor[]> {
  const manifest = exported.modelJson.weightsManifest as unknown as {
    paths: string[];
    weights: tf.io.WeightsManifestEntry[];
  }[];
  const bytes = manifest.flatMap((g) => g.paths.map((p) => exported.shards[p] as Uint8Array));
  const data = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of bytes) {
    data.set(b, offset);
    offset += b.byteLength;
  }
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: exported.modelJson.modelTopology as object,
      weightSpecs: manifest.flatMap((g) => g.weights),
      weightData: data.buffer,
    }),
  );
  const y = model.predict(x);
  const list = Array.isArray(y) ? y : [y];
  const kept = list.map((t) => tf.clone(t));
  tf.dispose(list);
  model.dispose();
  return kept;
}

function twoHeads(): ExportHead[] {
  return [
    {
      task: 'shape',
      kind: 'classification',
      labels: ['circle', 'square', 'triangle'],
      layers: [
        new GlobalAveragePooling2D({ name: 'shape_pool' }),
        new Dense({
          name: 'shape_logits',
          inputUnits: 1280,
          units: 3,
          activation: 'softmax',
          seed: 5,
        }),
      ],
    },
    {
      task: 'colour',
      kind: 'multiLabel',
      attachAt: 'block_13',
      labels: ['red', 'green'],
      thresholds: [0.5, 0.4],
      layers: [
        new GlobalAveragePooling2D({ name: 'colour_pool' }),
        new Dense({
          name: 'colour_logits',
          inputUnits: 56,
          units: 2,
          activation: 'sigmoid',
          seed: 6,
        }),
      ],
    },
  ];
}

function disposeHeads(heads: readonly ExportHead[]): void {
  for (const h of heads) for (const l of h.layers) for (const p of l.params()) p.variable.dispose();
}

describe('exportModel', () => {
  it('writes a built-in MobileNetV2 with two heads that tfjs-layers loads and predicts identically', async () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 2 });
    // Moving statistics away from their initial values, so inference batch norm is not trivial.
    const warm = seededTensor([4, 32, 32, 3], 3);
    net.apply(warm, { training: true }).dispose();
    const heads = twoHeads();
    const exported = await exportModel({
      backbone: net,
      heads,
      metrics: { validation: { 'shape/accuracy': 0.5 } },
    });
    const x = seededTensor([2, 32, 32, 3], 4);
    const ours = graftPredictions(net, heads, x);
    const theirs = await tfjsLayersPredictions(exported, x);
    expect(theirs.map((t) => t.shape)).toEqual([
      [2, 3],
      [2, 2],
    ]);
    expect(
      maxAbsDiff((ours.shape as tf.Tensor).dataSync(), (theirs[0] as tf.Tensor).dataSync()),
    ).toBeLessThan(1e-4);
    expect(
      maxAbsDiff((ours.colour as tf.Tensor).dataSync(), (theirs[1] as tf.Tensor).dataSync()),
    ).toBeLessThan(1e-4);

    const { sidecar } = exported;
    expect(sidecar.format).toBe('graft-model');
    expect(sidecar.tasks).toEqual([
      {
        name: 'shape',
        output: 'shape_logits',
        attachAt: 'out_relu',
        kind: 'classification',
        labels: ['circle', 'square', 'triangle'],
      },
      {
        name: 'colour',
        output: 'colour_logits',
        attachAt: 'block_13_project_BN',
        kind: 'multiLabel',
        labels: ['red', 'green'],
        thresholds: [0.5, 0.4],
      },
    ]);
    expect(sidecar.trunk.output).toBe('out_relu');
    expect(sidecar.trunk.blocks).toEqual(net.blocks);
    expect(sidecar.preprocessing).toEqual(net.preprocessing);
    expect(sidecar.metrics).toEqual({ validation: { 'shape/accuracy': 0.5 } });
    expect(sidecar.weightFiles).toEqual(Object.keys(exported.shards));

    // graft reads the pair back: heads, trunk and blocks.
    const loaded = await loadGraftModel({
      modelJson: exported.modelJson,
      shards: exported.shards,
      sidecar: exported.sidecar,
    });
    const again = loaded.predict(x);
    expect(
      maxAbsDiff((again.shape as tf.Tensor).dataSync(), (ours.shape as tf.Tensor).dataSync()),
    ).toBeLessThan(1e-6);
    expect(
      maxAbsDiff((again.colour as tf.Tensor).dataSync(), (ours.colour as tf.Tensor).dataSync()),
    ).toBeLessThan(1e-6);
    expect(loaded.trunk.blocks).toEqual(net.blocks);
    expect(loaded.trunk.params.map((p) => p.name)).toEqual(net.params.map((p) => p.name));
    expect(loaded.params.filter((p) => p.block === 'head:colour').map((p) => p.name)).toEqual([
      'colour_logits/kernel',
      'colour_logits/bias',
    ]);
    const trunkOnly = await loadBackbone({
      modelJson: exported.modelJson,
      shards: exported.shards,
      sidecar: exported.sidecar,
    });
    expect(trunkOnly.outputLayer).toBe('out_relu');
    const f1 = trunkOnly.apply(x, { training: false });
    const f2 = net.apply(x, { training: false });
    expect(maxAbsDiff(f1.dataSync(), f2.dataSync())).toBeLessThan(1e-6);

    tf.dispose([warm, x, f1, f2, ...Object.values(ours), ...theirs, ...Object.values(again)]);
    loaded.dispose();
    trunkOnly.dispose();
    disposeHeads(heads);
    net.dispose();
  });

  it('every loaded layer class writes a config tfjs-layers reads back to the same outputs', async () => {
    for (const [files, shape, scale] of [
      [squeezeExciteFixture(), [12, 12, 3], 127.5],
      [branchesFixture(), [10, 10, 3], 1],
    ] as const) {
      const net = await loadBackbone(files);
      const exported = await exportModel({ backbone: net });
      const x = tf.tidy(() => tf.mul(tf.add(seededTensor([2, ...shape], 5), 1), scale));
      const ours = net.apply(x, { training: false });
      const [theirs] = await tfjsLayersPredictions(exported, x);
      expect(maxAbsDiff(ours.dataSync(), (theirs as tf.Tensor).dataSync())).toBeLessThan(1e-4);
      tf.dispose([x, ours, theirs as tf.Tensor]);
      net.dispose();
    }
  });

  it('a trunk alone exports and reloads, loaded Keras models too; hard_swish and keepdims pooling are expanded for tfjs-layers', async () => {
    const se = await loadBackbone(squeezeExciteFixture(), { cutAt: 'out_relu' });
    const heads: ExportHead[] = [
      {
        task: 't',
        layers: [
          new Activation({ name: 't_hswish', activation: 'hard_swish' }),
          new GlobalAveragePooling2DKeepdims({ name: 't_pool', keepdims: true }),
          new Activation({ name: 't_silu', activation: 'silu' }),
        ],
      },
    ];
    const x = tf.tidy(() => tf.mul(tf.add(seededTensor([2, 12, 12, 3], 9), 1), 127.5));
    for (const h of [[], heads]) {
      const exported = await exportModel({ backbone: se, heads: h });
      const ours =
        h.length > 0
          ? (graftPredictions(se, h, x).t as tf.Tensor)
          : se.apply(x, { training: false });
      const [theirs] = await tfjsLayersPredictions(exported, x);
      expect(theirs?.shape).toEqual(ours.shape);
      expect(maxAbsDiff(ours.dataSync(), (theirs as tf.Tensor).dataSync())).toBeLessThan(1e-4);
      tf.dispose([ours, theirs as tf.Tensor]);
    }
    expect(se.preprocessing.inputRange).toEqual([0, 255]);
    const fused = [
      {
        task: 'f',
        layers: [
          new Dense({
            name: 'f',
            inputUnits: 8,
            units: 2,
            activation: 'hard_swish',
            seed: 1,
          }) as AnyLayer,
        ],
      },
    ];
    await expect(exportModel({ backbone: se, heads: fused })).rejects.toThrow(/no hard_swish/);
    disposeHeads(fused);
    tf.dispose(x);
    se.dispose();
  });

  it('rejects heads that collide with trunk names or attach nowhere', async () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 0 });
    const code = async (heads: ExportHead[]) => {
      try {
        await exportModel({ backbone: net, heads });
      } catch (e) {
        return (e as GraftError).code;
      }
      return 'none';
    };
    expect(
      await code([{ task: 'a', layers: [new GlobalAveragePooling2D({ name: 'Conv1' })] }]),
    ).toBe('LAYER_DUPLICATE');
    expect(
      await code([
        { task: 'a', attachAt: 'nowhere', layers: [new GlobalAveragePooling2D({ name: 'p' })] },
      ]),
    ).toBe('LAYER_NOT_FOUND');
    net.dispose();
  });
  it('keeps frozen layers frozen (Keras trainable: false), and tfjs-layers agrees', async () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 3 });
    for (const name of ['Conv1', 'bn_Conv1'])
      for (const p of net.layer(name).params()) if (p.trainable) p.trainable = false;
    const exported = await exportModel({ backbone: net });
    const layers = (
      exported.modelJson.modelTopology as {
        config: { layers: { name: string; config: { trainable: boolean } }[] };
      }
    ).config.layers;
    const trainable = Object.fromEntries(layers.map((l) => [l.name, l.config.trainable]));
    expect([
      trainable.Conv1,
      trainable.bn_Conv1,
      trainable.Conv1_relu,
      trainable.expanded_conv_depthwise,
    ]).toEqual([false, false, true, true]);
    const x = seededTensor([1, 32, 32, 3], 2);
    const [theirs] = await tfjsLayersPredictions(exported, x);
    // In memory through tfjs's own IOHandler, as a browser app would hand it over.
    const back = await loadBackbone(
      tf.io.fromMemory({
        modelTopology: exported.modelJson.modelTopology as object,
        weightSpecs:
          (
            exported.modelJson.weightsManifest as unknown as {
              weights: tf.io.WeightsManifestEntry[];
            }[]
          )[0]?.weights ?? [],
        weightData: Object.values(exported.shards)[0]?.slice().buffer as ArrayBuffer,
      }),
    );
    expect(
      back.params
        .filter((p) => !p.trainable && p.kind !== 'movingMean' && p.kind !== 'movingVariance')
        .map((p) => p.name),
    ).toEqual(['Conv1/kernel', 'bn_Conv1/gamma', 'bn_Conv1/beta']);
    const ours = back.apply(x, { training: false });
    expect(maxAbsDiff(ours.dataSync(), (theirs as tf.Tensor).dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, ours, theirs as tf.Tensor]);
    back.dispose();
    net.dispose();
  });
});

describe('saveModel', () => {
  it('writes model.json, graft.json and hashed shards atomically; a second save replaces the first and removes its shards', async () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 7 });
    const folder = join(dir, 'saved');
    const first = await saveModel(folder, { backbone: net, shardBytes: 256 * 1024 });
    const firstShards = Object.keys(first.exported.shards);
    expect(firstShards.length).toBeGreaterThan(1);
    expect((await readdir(folder)).sort()).toEqual(
      ['graft.json', 'model.json', ...firstShards].sort(),
    );
    // Change one weight and save again into the same folder.
    net.param('Conv1/kernel').variable.assign(tf.onesLike(net.param('Conv1/kernel').variable));
    const second = await saveModel(folder, { backbone: net, shardBytes: 256 * 1024 });
    const secondShards = Object.keys(second.exported.shards);
    expect(secondShards[0]).not.toBe(firstShards[0]);
    expect((await readdir(folder)).sort()).toEqual(
      ['graft.json', 'model.json', ...secondShards].sort(),
    );
    const back = await loadBackbone(first.modelPath);
    expect(Array.from(back.param('Conv1/kernel').variable.dataSync().slice(0, 3))).toEqual([
      1, 1, 1,
    ]);
    expect(back.blocks).toEqual(net.blocks);
    back.dispose();
    // A graft.json from another save is reported, not trusted.
    const sidecar = JSON.parse(await readFile(join(folder, 'graft.json'), 'utf8')) as {
      weightFiles: string[];
    };
    const stale = { ...sidecar, weightFiles: firstShards };
    const e = await loadBackbone({
      modelJson: JSON.parse(await readFile(first.modelPath, 'utf8')) as object,
      shards: second.exported.shards,
      sidecar: stale,
    }).catch((error: unknown) => error);
    expect(e).toBeInstanceOf(GraftError);
    expect((e as GraftError).message).toMatch(/other weight files/);
    net.dispose();
  });

  it('quantized exports are smaller and close', async () => {
    const net = mobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 8 });
    const full = await exportModel({ backbone: net });
    const small = await exportModel({ backbone: net, quantization: 'uint8' });
    const size = (e: ExportedModel) =>
      Object.values(e.shards).reduce((n, b) => n + b.byteLength, 0);
    expect(size(small) * 4).toBe(size(full));
    const back = await loadBackbone({ modelJson: small.modelJson, shards: small.shards });
    const a = Array.from(back.param('Conv_1/kernel').variable.dataSync());
    const b = Array.from(net.param('Conv_1/kernel').variable.dataSync());
    const range =
      b.reduce((m, v) => Math.max(m, v), -Infinity) - b.reduce((m, v) => Math.min(m, v), Infinity);
    const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(range / 255 / 2 + 1e-6);
    back.dispose();
    net.dispose();
  });
});

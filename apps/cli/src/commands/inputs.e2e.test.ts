import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, graft } from '../testing/graftProcess';

// The inputs `graft train` reads besides a CSV manifest (commands.e2e.test.ts): an image
// folder, MNIST IDX files, and a backbone that is a Keras-converted model.json, given as a
// path and as a URL (served by this test, on 127.0.0.1). Everything is written here.

interface ModelFiles {
  modelJson: unknown;
  shards: Record<string, Uint8Array>;
}
type KerasMobileNetV2Fixture = (options: {
  alpha?: number;
  inputShape?: [number, number, number];
  seed?: number;
}) => ModelFiles;

/** A PNG whose colour says its class: cats reddish, dogs bluish, with per-image texture. */
function png(size: number, cls: 'cat' | 'dog', i: number): Buffer {
  const image = new PNG({ width: size, height: size });
  for (let p = 0; p < size * size; p++) {
    const texture = (p * 7 + i * 13) % 90;
    image.data.set(
      cls === 'cat' ? [200 + (texture % 50), texture, 30] : [30, texture, 200 + (texture % 50)],
      p * 4,
    );
    image.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(image);
}

/** MNIST-style IDX files: `n` 28x28 bytes images of a bar whose width is the digit. */
function writeIdx(dir: string, n: number): void {
  const images = Buffer.alloc(16 + n * 784);
  images.writeUInt32BE(0x0803, 0);
  images.writeUInt32BE(n, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const labels = Buffer.alloc(8 + n);
  labels.writeUInt32BE(0x0801, 0);
  labels.writeUInt32BE(n, 4);
  for (let k = 0; k < n; k++) {
    const digit = k % 10;
    labels[8 + k] = digit;
    for (let p = 0; p < 784; p++) images[16 + k * 784 + p] = p % 28 < 2 * (digit + 1) ? 230 : 10;
  }
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
}

async function writeKerasModel(dir: string): Promise<void> {
  // Core's fixture writes keras.applications.MobileNetV2 as tensorflowjs_converter would
  // (uint8-quantised, several shards). Imported by path at run time: another package's
  // sources are outside this one's tsconfig rootDir (vitest compiles it anyway).
  const fixture = resolve(__dirname, '../../../../packages/core/src/testing/fixtures');
  const { kerasMobileNetV2Fixture } = (await import(join(fixture, 'kerasMobileNetV2.ts'))) as {
    kerasMobileNetV2Fixture: KerasMobileNetV2Fixture;
  };
  const files = kerasMobileNetV2Fixture({ alpha: 0.35, inputShape: [32, 32, 3], seed: 5 });
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files.shards)) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(files.modelJson));
}

describe('graft train / eval / predict / inspect on an image folder, IDX files and a Keras backbone', () => {
  let dir: string;
  let server: Server;
  let url: string;
  const served: string[] = [];

  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'graft-e2e-inputs-'));
    for (const cls of ['cat', 'dog'] as const) {
      mkdirSync(join(dir, 'pets', cls), { recursive: true });
      for (let i = 0; i < 12; i++)
        writeFileSync(join(dir, 'pets', cls, `${i}.png`), png(20, cls, i));
    }
    writeIdx(dir, 40);
    await writeKerasModel(join(dir, 'keras'));
    // The same model.json and shards over HTTP, from this process (no external network).
    server = createServer((req, res) => {
      const name = (req.url ?? '/').replace(/^\//, '');
      served.push(name);
      readFile(join(dir, 'keras', name)).then(
        (bytes) => res.writeHead(200).end(bytes),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;

    writeFileSync(
      join(dir, 'pets.yaml'),
      `data: { adapter: imageFolder, path: pets, task: animal }
backbone: { source: keras/model.json }
tasks:
  animal: { kind: classification, classes: [cat, dog] }
epochs: 2
batchSize: 8
output: run-pets
`,
    );
    writeFileSync(
      join(dir, 'digits.yaml'),
      `data: { adapter: idx, images: train-images-idx3-ubyte, labels: train-labels-idx1-ubyte }
backbone: { source: shipped, inputSize: 32 }
tasks:
  digit: { kind: classification, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] }
epochs: 1
batchSize: 8
output: run-digits
`,
    );
    writeFileSync(
      join(dir, 'remote.yaml'),
      readFileSync(join(dir, 'pets.yaml'), 'utf8')
        .replace('keras/model.json', url)
        .replace('run-pets', 'run-remote'),
    );
  });
  afterAll(async () => {
    await new Promise((closed) => server?.close(closed));
    rmSync(dir, { recursive: true, force: true });
  });

  it('image folder + Keras model.json path: trains, then eval / predict / inspect read the run', async () => {
    const r = await graft(['train', 'pets.yaml'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/data: 24 examples \(\d+ train \/ \d+ validation \/ \d+ test\)/);
    expect(r.stdout).toMatch(
      /backbone: keras\/model\.json, input \[32, 32, 3\], 19 blocks, [\d,]+ parameters/,
    );
    expect(r.stdout).toMatch(/epoch 2\/2 {2}loss \d/);
    const run = join(dir, 'run-pets');
    const sidecar = JSON.parse(readFileSync(join(run, 'graft.json'), 'utf8'));
    expect(sidecar.tasks).toMatchObject([
      { name: 'animal', kind: 'classification', labels: ['cat', 'dog'] },
    ]);
    // The saved model (a Keras-made trunk plus graft's head) gives back the test numbers.
    const trained = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')).test.metrics;
    const again = await graft(
      ['eval', 'run-pets', 'run-pets/config.json', '--json', '--quiet'],
      dir,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).metrics['animal/accuracy']).toBeCloseTo(
      trained['animal/accuracy'],
      6,
    );
    // An image folder is also a dataset eval takes directly: every image, labelled by folder.
    const folder = await graft(['eval', 'run-pets', 'pets'], dir);
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.stdout).toMatch(/animal: accuracy \d\.\d{3}/);
    expect(folder.stdout).toMatch(/evaluated 24 examples/);

    const predicted = await graft(
      ['predict', 'run-pets', 'pets/cat/0.png', 'pets/dog/0.png', '--json'],
      dir,
    );
    expect(predicted.code, predicted.stderr).toBe(0);
    const lines = predicted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((p) => p.image)).toEqual(['pets/cat/0.png', 'pets/dog/0.png']);
    for (const p of lines) {
      expect(Object.keys(p.tasks.animal.probabilities)).toEqual(['cat', 'dog']);
      expect(['cat', 'dog']).toContain(p.tasks.animal.class);
    }

    const inspected = JSON.parse((await graft(['inspect', 'run-pets', '--json'], dir)).stdout);
    expect(inspected.blocks).toHaveLength(19);
    expect(inspected.heads).toMatchObject([{ task: 'animal', labels: ['cat', 'dog'] }]);
    const bare = await graft(['inspect', 'keras/model.json'], dir);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toMatch(/input input_1 \[32, 32, 3\] -> output out_relu/);
    expect(bare.stdout).toMatch(/no heads \(a bare backbone\)/);
  });

  it('MNIST IDX files: trains a digit classifier on one-channel images, eval reads the config', async () => {
    const r = await graft(['train', 'digits.yaml'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/data: 40 examples/);
    expect(r.stdout).toMatch(/labelled in train: digit \d+/);
    const sidecar = JSON.parse(readFileSync(join(dir, 'run-digits', 'graft.json'), 'utf8'));
    expect(sidecar.tasks[0].labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    // The one-channel digits became the backbone's three channels, at its size.
    expect(sidecar.trunk.inputShape).toEqual([32, 32, 3]);
    const all = await graft(
      ['eval', 'run-digits', 'digits.yaml', '--split', 'all', '--json', '--quiet'],
      dir,
    );
    expect(all.code, all.stderr).toBe(0);
    const summary = JSON.parse(all.stdout);
    expect(summary.examples).toBe(40);
    expect(summary.metrics['digit/accuracy']).toBeGreaterThanOrEqual(0);
    expect(summary.metrics['digit/accuracy']).toBeLessThanOrEqual(1);
  });

  it('a backbone given as a URL: fetched from the server (model.json and every shard), trained, inspected', async () => {
    const r = await graft(['train', 'remote.yaml'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`backbone: ${url}, input [32, 32, 3], 19 blocks`);
    const manifest = JSON.parse(readFileSync(join(dir, 'keras', 'model.json'), 'utf8'));
    const shards = manifest.weightsManifest[0].paths as string[];
    expect(shards.length).toBeGreaterThan(1);
    expect(served).toContain('model.json');
    for (const shard of shards) expect(served).toContain(shard);
    expect(existsSync(join(dir, 'run-remote', 'model.json'))).toBe(true);
    // The same weights as from the path: the two runs (same seed) end with the same loss.
    const loss = (run: string) =>
      JSON.parse(readFileSync(join(dir, run, 'metrics.json'), 'utf8')).history.at(-1).loss;
    expect(loss('run-remote')).toBeCloseTo(loss('run-pets'), 6);

    const inspected = await graft(['inspect', url, '--json'], dir);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout).blocks).toHaveLength(19);
  });
});

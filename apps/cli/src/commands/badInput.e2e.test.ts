import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, graft } from '../testing/graftProcess';

// Bad input, as a user meets it: `graft` run as a subprocess on a missing or invalid config,
// a dataset path that does not exist, a corrupt image, a missing label column, an
// incompatible model, an unwritable output, a loss that blows up. Each must end with a
// non-zero exit and one `graft: ...` line naming what and where (no stack trace), and leave
// nothing behind: the fixture folder is listed before and after every case.

/** Files and folders under `dir`, with sizes: what "nothing was written" compares. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string, rel: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const s = statSync(path);
      out.push(`${rel}${name}${s.isDirectory() ? '/' : ` ${s.size}`}`);
      if (s.isDirectory()) walk(path, `${rel}${name}/`);
    }
  };
  walk(dir, '');
  return out;
}

/**
 * The error lines of stderr. A failed `graft train` also says where the removed run's log
 * went (train.ts); that note is not the error, so it is set aside here.
 */
function errorLines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '' && !/^graft: the failed run's folder was removed; /.test(l));
}

function png(i: number, red: boolean): Buffer {
  const image = new PNG({ width: 16, height: 16 });
  for (let p = 0; p < 256; p++) {
    image.data.set([red ? 220 : 20, (p * 7 + i) % 255, red ? 20 : 220, 255], p * 4);
  }
  return PNG.sync.write(image);
}

interface KerasWriter {
  inputLayer(name: string, shape: readonly (number | null)[]): string;
  kernel(name: string, shape: number[], fanIn: number): void;
  uniform(name: string, shape: number[], low: number, high: number): void;
  layer(className: string, name: string, config: unknown, inputs: readonly string[]): string;
  write(outputs: readonly string[]): {
    modelJson: unknown;
    shards: Record<string, Uint8Array>;
  };
}

interface KerasFixtures {
  KerasModelWriter: new (name: string, seed: number) => KerasWriter;
  keras: { dense(options: { units: number }): unknown };
  writeModelFiles(
    dir: string,
    files: { modelJson: unknown; shards: Record<string, Uint8Array> },
  ): Promise<string>;
}

async function writeFixture(dir: string): Promise<void> {
  mkdirSync(join(dir, 'img'), { recursive: true });
  const rows = ['image,red'];
  for (let i = 0; i < 16; i++) {
    writeFileSync(join(dir, 'img', `${i}.png`), png(i, i % 2 === 0));
    rows.push(`img/${i}.png,${i % 2 === 0 ? 1 : 0}`);
    mkdirSync(join(dir, 'pets', i % 2 ? 'dog' : 'cat'), { recursive: true });
    writeFileSync(join(dir, 'pets', i % 2 ? 'dog' : 'cat', `${i}.png`), png(i, i % 2 === 0));
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
  // The same folder with one file that only claims to be a PNG.
  mkdirSync(join(dir, 'corrupt'));
  for (const cls of ['cat', 'dog']) {
    mkdirSync(join(dir, 'corrupt', cls));
    for (const f of readdirSync(join(dir, 'pets', cls))) {
      writeFileSync(join(dir, 'corrupt', cls, f), readFileSync(join(dir, 'pets', cls, f)));
    }
  }
  writeFileSync(join(dir, 'corrupt', 'dog', 'broken.png'), 'not a png, whatever its name says');
  // A regression target to blow up (softmax cross-entropy stays finite at any weights).
  writeFileSync(
    join(dir, 'sizes.csv'),
    `image,size\n${Array.from({ length: 16 }, (_, i) => `img/${i}.png,${i - 8}`).join('\n')}\n`,
  );
  // MNIST-style labels file (to be passed where the images belong).
  const labels = Buffer.alloc(8 + 16);
  labels.writeUInt32BE(0x0801, 0);
  labels.writeUInt32BE(16, 4);
  writeFileSync(join(dir, 'labels-idx1-ubyte'), labels);

  const fixtures = (await import(
    resolve(__dirname, '../../../../packages/core/src/testing/fixtures/kerasModelWriter.ts')
  )) as KerasFixtures;
  // A Keras model of the wrong kind for vision: 8 features in, 4 values out.
  const tabular = new fixtures.KerasModelWriter('tabular', 1);
  tabular.inputLayer('features', [8]);
  tabular.kernel('dense/kernel', [8, 4], 8);
  tabular.uniform('dense/bias', [4], 0, 0.1);
  tabular.layer('Dense', 'dense', fixtures.keras.dense({ units: 4 }), ['features']);
  await fixtures.writeModelFiles(join(dir, 'tabular'), tabular.write(['dense']));
  writeFileSync(join(dir, 'notmodel.json'), '{"format": "something else"}');

  const config = (data: string, tasks: string, extra = '') =>
    `data: ${data}\nbackbone: { source: shipped, inputSize: 32 }\ntasks:\n${tasks}\nepochs: 1\nbatchSize: 8\noutput: out\n${extra}`;
  const red = '  colour: { kind: multiLabel, labels: [red] }';
  const animal = '  animal: { kind: classification, classes: [cat, dog] }';
  writeFileSync(join(dir, 'good.yaml'), config('{ adapter: manifest, path: labels.csv }', red));
  writeFileSync(
    join(dir, 'pets.yaml'),
    config('{ adapter: imageFolder, path: pets, task: animal }', animal),
  );
  writeFileSync(
    join(dir, 'digits.yaml'),
    config(
      '{ adapter: idx, images: nowhere-idx3-ubyte, labels: labels-idx1-ubyte }',
      "  digit: { kind: classification, classes: ['0','1','2','3','4','5','6','7','8','9'] }",
    ),
  );
  writeFileSync(
    join(dir, 'blue.yaml'),
    config(
      '{ adapter: manifest, path: labels.csv }',
      '  colour: { kind: multiLabel, labels: [red, blue] }',
    ),
  );
  writeFileSync(
    join(dir, 'explode.yaml'),
    config(
      '{ adapter: manifest, path: sizes.csv }',
      '  size: { kind: regression }',
      'optimizer: { name: sgd, learningRate: 1.0e+9 }\n',
    ).replace('epochs: 1', 'epochs: 3'),
  );
  writeFileSync(join(dir, 'syntax.yaml'), 'data: { adapter: manifest\ntasks: [\n');
  writeFileSync(join(dir, 'empty.yaml'), '');
  writeFileSync(
    join(dir, 'typo.yaml'),
    readFileSync(join(dir, 'good.yaml'), 'utf8').replace('epochs', 'epoch'),
  );
}

describe('bad input: one clear line, a non-zero exit, nothing written', () => {
  let dir: string;
  beforeAll(async () => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'graft-e2e-bad-'));
    await writeFixture(dir);
    // A real run to point eval and predict at, and a Keras trunk with a cut shard.
    const run = await graft(['train', 'pets.yaml', '--output', 'run', '--quiet'], dir);
    expect(run.code, run.stderr).toBe(0);
    mkdirSync(join(dir, 'cut'));
    for (const f of readdirSync(join(dir, 'run'))) {
      if (f === 'model.json' || f.endsWith('.bin')) {
        writeFileSync(join(dir, 'cut', f), readFileSync(join(dir, 'run', f)));
      }
    }
    const shard = readdirSync(join(dir, 'cut')).find((f) => f.endsWith('.bin')) as string;
    truncateSync(join(dir, 'cut', shard), 100);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { name: string; args: string[]; error: RegExp }[] = [
    // The config
    {
      name: 'missing config',
      args: ['train', 'missing.yaml'],
      error: /^graft: Cannot read the config file \(missing\.yaml\)\. /,
    },
    {
      name: 'config that is not YAML',
      args: ['train', 'syntax.yaml'],
      error: /^graft: Config is not valid YAML: .+ \(syntax\.yaml:\d+:\d+\)\.$/,
    },
    {
      name: 'empty config',
      args: ['train', 'empty.yaml'],
      error: /^graft: Config must be a mapping of keys to values \(empty\.yaml\)\.$/,
    },
    {
      name: 'a misspelt key',
      args: ['train', 'typo.yaml'],
      error: /^graft: Invalid config: unknown key "epoch" \(typo\.yaml\)\. /,
    },
    {
      name: 'an invalid value from --set',
      args: ['train', 'good.yaml', '--set', 'optimizer.learningRate=-1'],
      error: /^graft: Invalid config: optimizer\.learningRate: .+ \(good\.yaml\)\. /,
    },
    {
      name: 'an option value commander rejects',
      args: ['train', 'good.yaml', '--epochs', '0'],
      error: /epochs must be a positive integer$/,
    },
    // The dataset
    {
      name: 'a manifest that does not exist',
      args: ['train', 'good.yaml', '--set', 'data.path=nowhere.csv'],
      error: /^graft: The dataset path does not exist: .*nowhere\.csv \(data\.path\)\. /,
    },
    {
      name: 'an image folder that does not exist',
      args: ['train', 'pets.yaml', '--set', 'data.path=no-pets'],
      error: /^graft: The dataset path does not exist: .*no-pets \(data\.path\)\. /,
    },
    {
      name: 'IDX images that do not exist',
      args: ['train', 'digits.yaml'],
      error: /^graft: The dataset path does not exist: .*nowhere-idx3-ubyte \(data\.images\)\. /,
    },
    {
      name: 'an IDX labels file given as the images',
      args: ['train', 'digits.yaml', '--set', 'data.images=labels-idx1-ubyte'],
      error:
        /^graft: IDX file holds one value per item \(dims \[16\]\), not images \(.*labels-idx1-ubyte\)\. /,
    },
    {
      name: 'a label column missing from the manifest',
      args: ['train', 'blue.yaml'],
      error:
        /^graft: Column "blue" \(task "colour"\) does not exist \(.*labels\.csv, column "blue"\)\. Columns: "image", "red"\.$/,
    },
    {
      name: 'a corrupt image in the dataset (met while training)',
      args: ['train', 'pets.yaml', '--set', 'data.path=corrupt'],
      error:
        /^graft: Not a PNG or JPEG image \(.*corrupt\/dog\/broken\.png\)\. .*data\.skipInvalid: true/,
    },
    {
      name: 'data whose classes differ from the config',
      args: ['train', 'pets.yaml', '--set', 'tasks.animal.classes=[cat, cow]'],
      error:
        /^graft: The data's classes \(cat, dog\) differ from the head's \(cat, cow\) \(task "animal"\)\. /,
    },
    // The model
    {
      name: 'a backbone path that does not exist',
      args: ['train', 'good.yaml', '--set', 'backbone.source=nowhere/model.json'],
      error: /^graft: File not found \(.*nowhere\/model\.json/,
    },
    {
      name: 'a backbone that is not a model.json',
      args: ['train', 'good.yaml', '--set', 'backbone.source=notmodel.json'],
      error: /^graft: model\.json has no "modelTopology" object \(.*notmodel\.json\)\. /,
    },
    {
      name: 'an incompatible model (not an image network)',
      args: ['train', 'good.yaml', '--set', 'backbone.source=tabular/model.json'],
      error:
        /^graft: The model's input shape is \[8\]; graft needs \[height, width, channels\] \(.*tabular\/model\.json input "features"\)\. /,
    },
    {
      name: 'a backbone with a cut-off weight shard',
      args: ['train', 'good.yaml', '--set', 'backbone.source=cut/model.json'],
      error:
        /^graft: The weight files hold 100 bytes but the manifest describes \d+; .* \(.*cut\/model\.json weightsManifest\[0\]/,
    },
    {
      name: 'a cut point the backbone does not have',
      args: ['train', 'good.yaml', '--set', 'backbone.cutAt=block_99'],
      error:
        /^graft: backbone\.cutAt: no layer or block "block_99" \(config backbone\.cutAt\)\. Blocks: stem, /,
    },
    {
      name: 'predict with a model graft did not train',
      args: ['predict', 'tabular', 'img/0.png'],
      error: /^graft: Not a model graft train wrote: no graft\.json beside tabular\/model\.json\. /,
    },
    {
      name: 'eval on data with other labels than the model',
      args: ['eval', 'run', 'labels.csv'],
      error:
        /^graft: Column "animal" \(task "animal"\) does not exist \(.*labels\.csv, column "animal"\)\. /,
    },
    {
      name: 'predict on a corrupt image',
      args: ['predict', 'run', 'img/1.png', 'corrupt/dog/broken.png'],
      error: /^graft: Not a PNG or JPEG image \(corrupt\/dog\/broken\.png\)\. /,
    },
    {
      name: 'predict on an image that does not exist',
      args: ['predict', 'run', 'img/99.png'],
      error: /^graft: Cannot read the image \(img\/99\.png\)\. /,
    },
    {
      name: 'eval with an unknown split',
      args: ['eval', 'run', 'pets.yaml', '--split', 'bogus'],
      error: /^graft: --split must be test, validation, train or all$/,
    },
    // The output
    {
      name: 'an output folder that cannot be created',
      args: ['train', 'good.yaml', '--output', 'labels.csv/run'],
      error: /^graft: Cannot create the run directory \(labels\.csv\/run\)\. /,
    },
    {
      name: 'init where the file cannot be written',
      args: ['init', 'labels.csv/graft.yaml'],
      error: /^graft: Cannot write the config file \(labels\.csv\/graft\.yaml\)\. /,
    },
    {
      name: 'init over an existing file',
      args: ['init', 'good.yaml'],
      error: /^graft: The file already exists \(good\.yaml\)\. Pass --force/,
    },
    // Training itself
    {
      name: 'a loss that blows up (learning rate 1e9)',
      args: ['train', 'explode.yaml'],
      error:
        /^graft: Loss became (NaN|Infinity) at epoch \d+, step \d+ .*\. .*Lower the learning rate/,
    },
  ];

  it.each(cases)('$name', async ({ args, error }) => {
    const before = listing(dir);
    const r = await graft(args, dir);
    const lines = errorLines(r.stderr);
    expect(r.code, r.stderr).toBe(1);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(error);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(listing(dir)).toEqual(before);
  });

  it('the corrupt image with data.skipInvalid: true is left out before training; the rest trains', async () => {
    const r = await graft(
      ['train', 'pets.yaml', '--set', 'data.path=corrupt', '--set', 'data.skipInvalid=true'],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^data: 16 examples /m); // 17 files, one of them not an image
    expect(r.stdout).toMatch(
      /^ {2}note: 1 example skipped: 1 DATASET_IMAGE_CORRUPT \(data\.skipInvalid\); first: .*broken\.png/m,
    );
    rmSync(join(dir, 'out'), { recursive: true });
  });

  it('--verbose, GRAFT_DEBUG=1 or DEBUG=graft add the stack and its causes after that line', async () => {
    for (const [args, env] of [
      [['train', 'missing.yaml', '--verbose'], {}],
      [['train', 'missing.yaml'], { GRAFT_DEBUG: '1' }],
      [['train', 'missing.yaml'], { DEBUG: 'graft' }],
    ] as const) {
      const r = await graft(args, dir, env);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^graft: Cannot read the config file \(missing\.yaml\)/);
      expect(lines[1]).toMatch(/^GraftError: Cannot read the config file/);
      expect(r.stderr).toMatch(/^\s+at /m);
      expect(r.stderr).toMatch(/^caused by: Error: ENOENT/m);
    }
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, runGraft, writeLabelledPngs } from '../testing/cliTestKit';

const graft = (args: string[], cwd: string) => runGraft(args, cwd, 60_000);

/** 24 small PNGs (red / blue tint, a shape class, a size value) and a CSV with missing labels. */
function writeFixture(dir: string): void {
  writeLabelledPngs(dir, 24);
  writeFileSync(
    join(dir, 'graft.yaml'),
    `data: { adapter: manifest, path: labels.csv }
backbone: { source: shipped, inputSize: 32 }
tasks:
  colour: { kind: multiLabel, labels: [red, blue] }
  shape: { kind: classification, classes: [round, square], head: { hidden: [8] } }
  size: { kind: regression }
epochs: 1
batchSize: 8
output: run
`,
  );
}

describe('graft train / predict / eval / inspect (built CLI, subprocess)', () => {
  const fixture = fixtureDir('graft-e2e-', writeFixture);

  it('trains from a config on a CSV manifest with missing labels and writes the run directory', async () => {
    const r = await graft(['train', 'graft.yaml', '--set', 'seed=3'], fixture.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/data: 24 examples \(\d+ train \/ \d+ validation \/ \d+ test\)/);
    expect(r.stdout).toMatch(/freeze: ruleOfThumb -> headsOnly/);
    expect(r.stdout).toMatch(/epoch 1\/1 {2}loss \d/);
    const run = join(fixture.dir, 'run');
    for (const f of [
      'model.json',
      'graft.json',
      'metrics.json',
      'config.json',
      'run.log',
      'report.html',
    ]) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config.seed).toBe(3); // the override, in the config actually used
    expect(config.optimizer.name).toBe('adam'); // defaults filled in
    const sidecar = JSON.parse(readFileSync(join(run, 'graft.json'), 'utf8'));
    expect(sidecar.tasks.map((t: { name: string; kind: string }) => `${t.name}:${t.kind}`)).toEqual(
      ['colour:multiLabel', 'shape:classification', 'size:regression'],
    );
    expect(sidecar.tasks[0].thresholds).toHaveLength(2);
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
    expect(metrics.evaluatedOn).toBe('test');
    expect(Object.keys(metrics.test.report.tasks)).toEqual(['colour', 'shape', 'size']);
    expect(readFileSync(join(run, 'report.html'), 'utf8')).toMatch(/<svg/);
    expect(readFileSync(join(run, 'run.log'), 'utf8')).toMatch(/epoch 1\/1/);

    // An existing run directory is refused without --force, in one line.
    const again = await graft(['train', 'graft.yaml'], fixture.dir);
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim()).toMatch(/^graft: The run directory already exists \(run\)/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('evaluates the saved model on the test split of the config the run used, with the numbers training reported', async () => {
    const r = await graft(['eval', 'run', 'run/config.json', '--json', '--quiet'], fixture.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim());
    const trained = JSON.parse(readFileSync(join(fixture.dir, 'run', 'metrics.json'), 'utf8')).test
      .metrics;
    for (const key of ['colour/mAP', 'shape/accuracy', 'size/mae']) {
      expect(summary.metrics[key]).toBeCloseTo(trained[key], 4);
    }
    const all = await graft(['eval', 'run', 'labels.csv'], fixture.dir);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/colour: mAP \d\.\d{3}/);
    expect(all.stdout).toMatch(/evaluated 24 examples/);
  });

  it('predicts per-task outputs for images, as text and as JSON', async () => {
    const text = await graft(['predict', 'run', 'img/1.png', 'img/2.png'], fixture.dir);
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
    expect(text.stdout).toMatch(
      /^img\/1\.png {2}colour: \[.*\] \(red 0\.\d\d, blue 0\.\d\d\) {2}shape: (round|square) \(0\.\d\d\) {2}size: size -?\d/m,
    );
    const json = await graft(['predict', 'run', 'img/3.png', '--json'], fixture.dir);
    const p = JSON.parse(json.stdout.trim());
    expect(p.image).toBe('img/3.png');
    expect(Object.keys(p.tasks.colour.probabilities)).toEqual(['red', 'blue']);
    const probs = Object.values(p.tasks.shape.probabilities) as number[];
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(typeof p.tasks.size.values.size).toBe('number');
  });

  it('inspects a model: blocks, heads and the freeze plan a policy would produce', async () => {
    const r = await graft(['inspect', 'run/model.json', '--policy', 'lastBlocks:2'], fixture.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/block_16 .*\n/);
    expect(r.stdout).toMatch(/parameters in 19 blocks/);
    expect(r.stdout).toMatch(/colour +multiLabel +red, blue/);
    expect(r.stdout).toMatch(/freeze plan: lastBlocks\(2\)/);
    const json = JSON.parse((await graft(['inspect', 'shipped', '--json'], fixture.dir)).stdout);
    expect(json.blocks).toHaveLength(19);
    expect(json.policy).toMatch(/^ruleOfThumb -> /);
  });

  it('bad input: one clear line, non-zero exit, nothing written', async () => {
    const cases: [string[], RegExp][] = [
      [['train', 'missing.yaml'], /^graft: Cannot read the config file \(missing\.yaml\)/],
      [['train', 'bad.yaml'], /^graft: Invalid config: tasks\.colour\.kind: /],
      [
        ['train', 'nodata.yaml'],
        /^graft: The dataset path does not exist: .*nowhere\.csv \(data\.path\)/,
      ],
      [
        ['train', 'graft.yaml', '--output', 'labels.csv/run'],
        /^graft: Cannot create the run directory \(labels\.csv\/run\)/,
      ],
      [['predict', 'nowhere', 'img/1.png'], /^graft: No model.json at nowhere\/model\.json/],
      [['eval', 'run', 'nowhere.csv'], /^graft: The dataset path does not exist/],
      [['inspect', 'labels.csv'], /^graft: /],
    ];
    writeFileSync(
      join(fixture.dir, 'bad.yaml'),
      'data: { adapter: manifest, path: labels.csv }\ntasks: { colour: { kind: multilabel, labels: [red] } }\n',
    );
    writeFileSync(
      join(fixture.dir, 'nodata.yaml'),
      'data: { adapter: manifest, path: nowhere.csv }\ntasks: { colour: { kind: multiLabel, labels: [red] } }\noutput: never\n',
    );
    // An output under a plain file cannot be created, even by root.
    for (const [args, message] of cases) {
      const r = await graft(args, fixture.dir);
      expect(r.code, args.join(' ')).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toMatch(message);
    }
    expect(existsSync(join(fixture.dir, 'never'))).toBe(false);
  });
});

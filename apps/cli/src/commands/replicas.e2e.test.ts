import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectInterruptedRun,
  fixtureDir,
  metricsOf,
  runGraft,
  trainUntilCheckpoint,
  weightsOf,
  writeLabelledPngs,
} from '../testing/cliTestKit';

const graft = (args: string[], cwd: string) => runGraft(args, cwd, 120_000);

/** 48 small PNGs and a config that trains 3 epochs of 2 replicas. */
function writeFixture(dir: string): void {
  writeLabelledPngs(dir, 48);
  // Trunk blocks and batch norm training, DWA, Adam, warm-up + cosine, augmentation and
  // early stopping: every kind of state a resume must carry, across the replicas.
  writeFileSync(
    join(dir, 'graft.yaml'),
    `data: { adapter: manifest, path: labels.csv }
backbone: { source: shipped, inputSize: 32 }
tasks:
  colour: { kind: multiLabel, labels: [red, blue] }
  shape: { kind: classification, classes: [round, square] }
  size: { kind: regression }
freeze: { policy: lastBlocks, n: 2 }
weighting: dwa
schedule: { name: cosine, warmupEpochs: 1 }
augment: { flip: true }
earlyStopping: { patience: 2 }
epochs: 3
batchSize: 8
output: run
`,
  );
  // The same images with no size label at all: the Trainer warns at every epoch's end.
  const [header, ...rows] = readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split('\n');
  const noSize = rows.map((row) => row.replace(/,[^,]*$/, ',NA')); // size is the last column
  writeFileSync(join(dir, 'unlabelled.csv'), `${[header, ...noSize].join('\n')}\n`);
  writeFileSync(
    join(dir, 'unlabelled.yaml'),
    `data: { adapter: manifest, path: unlabelled.csv }
backbone: { source: shipped, inputSize: 32 }
tasks:
  colour: { kind: multiLabel, labels: [red, blue] }
  size: { kind: regression }
freeze: { policy: lastBlocks, n: 2 }
epochs: 2
batchSize: 8
output: unlabelled
`,
  );
}

describe('graft train --replicas (built CLI, subprocess)', () => {
  const fixture = fixtureDir('graft-replicas-', writeFixture);

  it('a bad --replicas is one graft: line and exit 1', async () => {
    for (const bad of ['0', '17', '1.5', 'two']) {
      const out = await graft(['train', 'graft.yaml', '--replicas', bad], fixture.dir);
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(out.stderr).toMatch(/^graft: .*--replicas must be a whole number from 1 to 16/);
    }
    expect(existsSync(join(fixture.dir, 'run'))).toBe(false);
  });

  it('trains on 2 replicas into a complete run; Ctrl-C and --resume end with the same metrics and weights', async () => {
    const straight = await graft(
      ['train', 'graft.yaml', '--replicas', '2', '--output', 'p2'],
      fixture.dir,
    );
    expect(straight.stderr).toBe('');
    expect(straight.code).toBe(0);
    const p2 = join(fixture.dir, 'p2');
    for (const f of ['model.json', 'graft.json', 'metrics.json', 'report.html', 'run.log']) {
      expect(existsSync(join(p2, f)), f).toBe(true);
    }
    expect(existsSync(join(p2, 'checkpoint.bin'))).toBe(false);
    const log = readFileSync(join(p2, 'run.log'), 'utf8');
    expect(log).toMatch(/backend: wasm \(SIMD (on|off), 1 thread\) x 2 replicas/);
    expect(log).toMatch(/checkpoint \(end of epoch 1\)/);
    expect(straight.stdout).toMatch(/epoch 1\/3 {2}loss/);
    const metrics = JSON.parse(readFileSync(join(p2, 'metrics.json'), 'utf8'));
    expect(metrics.replicas).toBe(2);
    expect(metrics.history.length).toBeGreaterThan(0);
    expect(readFileSync(join(p2, 'report.html'), 'utf8')).toMatch(/replicas: 2/);

    const stopped = await trainUntilCheckpoint(
      ['graft.yaml', '--replicas', '2'],
      fixture.dir,
      'run',
    );
    expectInterruptedRun(stopped, fixture.dir, 'run');
    const run = join(fixture.dir, 'run');

    const resumed = await graft(
      ['train', 'graft.yaml', '--resume', '--replicas', '2'],
      fixture.dir,
    );
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^resuming from checkpoint\.bin: epoch \d, batch \d, step \d+/);
    expect(resumed.stdout).not.toMatch(/warning/);
    expect(existsSync(join(run, 'checkpoint.bin'))).toBe(false);
    expect(metricsOf(run)).toEqual(metricsOf(p2));
    expect(weightsOf(run).equals(weightsOf(p2))).toBe(true);
  });

  it('--resume on another replica count than the checkpoint says it will differ, and finishes', async () => {
    const stopped = await trainUntilCheckpoint(
      ['graft.yaml', '--replicas', '2', '--output', 'mixed'],
      fixture.dir,
      'mixed',
    );
    expect(stopped.code).toBe(130);
    const resumed = await graft(
      ['train', 'graft.yaml', '--resume', '--output', 'mixed'],
      fixture.dir,
    );
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    const warnings = resumed.stdout.split('\n').filter((l) => /warning/.test(l));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^ {2}warning: checkpoint\.bin was written by a run on 2 replicas, this one trains on 1: .*will differ from an uninterrupted run/,
      ),
    ]);
    const mixed = join(fixture.dir, 'mixed');
    expect(existsSync(join(mixed, 'checkpoint.bin'))).toBe(false);
    expect(existsSync(join(mixed, 'model.json'))).toBe(true);
    expect(readFileSync(join(mixed, 'run.log'), 'utf8')).toMatch(/warning: checkpoint\.bin/);
  });

  it("prints replica 0's Trainer warnings as one thread prints its own", async () => {
    const notes = async (replicas: string) => {
      const out = await graft(
        ['train', 'unlabelled.yaml', '--replicas', replicas, '--output', `unlabelled-${replicas}`],
        fixture.dir,
      );
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      // The warnings, and the epoch lines they come between (without the numbers).
      return out.stdout
        .split('\n')
        .filter((l) => /^ {2}note: graft:|^epoch /.test(l))
        .map((l) => l.replace(/ {2}loss .*/, ''));
    };
    const one = await notes('1');
    expect(one).toContain(
      '  note: graft: task "size" had no labelled examples in epoch 2; it contributed nothing to training (its loss is 0 there, never a division by zero). Check the task\'s mask, or the dataset\'s missing-label rate.',
    );
    expect(await notes('2')).toEqual(one);
  });
});

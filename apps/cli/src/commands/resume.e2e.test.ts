import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectInterruptedRun,
  fixtureDir,
  metricsOf,
  runGraft,
  type StoppedOutcome,
  trainUntilCheckpoint,
  weightsOf,
  writeLabelledPngs,
} from '../testing/cliTestKit';

const graft = async (args: string[], cwd: string): Promise<StoppedOutcome> => ({
  ...(await runGraft(args, cwd)),
  signal: null,
});

/** 48 small PNGs and a CSV with missing labels; four epochs of nine steps. */
function writeFixture(dir: string): void {
  writeLabelledPngs(dir, 48);
  // Every kind of state a resume must carry: trunk blocks and their batch-norm statistics
  // training, DWA's loss history, Adam's moments, warm-up + cosine, seeded augmentation, early
  // stopping's best weights.
  writeFileSync(
    join(dir, 'graft.yaml'),
    `data: { adapter: manifest, path: labels.csv }
backbone: { source: shipped, inputSize: 32 }
tasks:
  colour: { kind: multiLabel, labels: [red, blue] }
  shape: { kind: classification, classes: [round, square], head: { hidden: [8] } }
  size: { kind: regression }
freeze: { policy: lastBlocks, n: 2 }
weighting: dwa
schedule: { name: cosine, warmupEpochs: 1 }
augment: { flip: true }
earlyStopping: { patience: 2 }
epochs: 4
batchSize: 4
output: run
`,
  );
}

describe('graft train: Ctrl-C checkpoint, --resume, killed runs (built CLI, subprocess)', () => {
  const fixture = fixtureDir('graft-resume-', writeFixture);

  it('Ctrl-C saves a checkpoint and exits 130; --resume ends with the uninterrupted run’s metrics and weights', async () => {
    const straight = await graft(['train', 'graft.yaml', '--output', 'straight'], fixture.dir);
    expect(straight.stderr).toBe('');
    expect(straight.code).toBe(0);
    expect(existsSync(join(fixture.dir, 'straight', 'checkpoint.bin'))).toBe(false);

    const stopped = await trainUntilCheckpoint(['graft.yaml'], fixture.dir, 'run', 'SIGINT');
    // An interrupted run: its config, log and checkpoint, no model, no temp files.
    expectInterruptedRun(stopped, fixture.dir, 'run');
    const run = join(fixture.dir, 'run');
    expect(readFileSync(join(run, 'checkpoint.bin')).subarray(0, 10).toString()).toBe('GRAFTSTATE');

    // Not replaced by accident, and not resumed with another config.
    const again = await graft(['train', 'graft.yaml'], fixture.dir);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toMatch(
      /^graft: The run directory already exists \(run\)\. It holds an interrupted run: add --resume/,
    );
    const otherConfig = await graft(
      ['train', 'graft.yaml', '--resume', '--epochs', '7'],
      fixture.dir,
    );
    expect(otherConfig.code).toBe(1);
    expect(otherConfig.stderr.trim()).toMatch(/^graft: The config differs .*\(epochs\)/);
    expect(otherConfig.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(run).sort()).toEqual(['checkpoint.bin', 'config.json', 'run.log']);

    const resumed = await graft(['train', 'graft.yaml', '--resume'], fixture.dir);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^resuming from checkpoint\.bin: epoch \d, batch \d, step \d+/);
    expect(existsSync(join(run, 'checkpoint.bin'))).toBe(false);
    expect(metricsOf(run)).toEqual(metricsOf(join(fixture.dir, 'straight')));
    expect(weightsOf(run).equals(weightsOf(join(fixture.dir, 'straight')))).toBe(true);
  });

  it('a killed run (SIGKILL) resumes from its last epoch checkpoint to the same result', async () => {
    const killed = await trainUntilCheckpoint(
      ['graft.yaml', '--output', 'killed'],
      fixture.dir,
      'killed',
      'SIGKILL',
    );
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(fixture.dir, 'killed', 'model.json'))).toBe(false);
    const resumed = await graft(
      ['train', 'graft.yaml', '--output', 'killed', '--resume'],
      fixture.dir,
    );
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(metricsOf(join(fixture.dir, 'killed'))).toEqual(
      metricsOf(join(fixture.dir, 'straight')),
    );
    expect(
      weightsOf(join(fixture.dir, 'killed')).equals(weightsOf(join(fixture.dir, 'straight'))),
    ).toBe(true);
  });

  it('a run that fails mid-training leaves no directory; a finished run cannot be resumed', async () => {
    writeFileSync(join(fixture.dir, 'img', '5.png'), 'not an image');
    const failed = await graft(['train', 'graft.yaml', '--output', 'failed'], fixture.dir);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^graft: the failed run's folder was removed; its log is in /);
    expect(failed.stderr).toMatch(/graft: Not a PNG or JPEG image/);
    expect(existsSync(join(fixture.dir, 'failed'))).toBe(false);
    const log = failed.stderr.match(/its log is in (\S+)/)?.[1] as string;
    expect(readFileSync(log, 'utf8')).toMatch(/failed: Not a PNG or JPEG image/);

    const finished = await graft(
      ['train', 'graft.yaml', '--output', 'straight', '--resume'],
      fixture.dir,
    );
    expect(finished.code).toBe(1);
    expect(finished.stderr.trim()).toMatch(/^graft: There is no checkpoint\.bin to resume from/);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAFT_BIN, runGraft, writeLabelledPngs } from '../testing/cliTestKit';

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const graft = async (args: string[], cwd: string): Promise<Outcome> => ({
  ...(await runGraft(args, cwd)),
  signal: null,
});

/** Starts `graft train` and sends `signal` as soon as the run's first checkpoint exists. */
function trainUntilCheckpoint(
  args: string[],
  cwd: string,
  runDir: string,
  signal: NodeJS.Signals,
): Promise<Outcome> {
  return new Promise((done) => {
    const child: ChildProcess = spawn('node', [GRAFT_BIN, 'train', ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    const poll = setInterval(() => {
      if (existsSync(join(cwd, runDir, 'checkpoint.bin'))) {
        clearInterval(poll);
        child.kill(signal);
      }
    }, 10);
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      done({ code, signal: sig, stdout, stderr });
    });
  });
}

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

/** metrics.json without wall-clock times. */
function metricsOf(dir: string): unknown {
  const strip = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(strip);
    if (x !== null && typeof x === 'object') {
      return Object.fromEntries(
        Object.entries(x)
          .filter(([k]) => k !== 'seconds')
          .map(([k, v]) => [k, strip(v)]),
      );
    }
    return x;
  };
  return strip(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')));
}

/** The weight shards' bytes, in manifest order. */
function weightsOf(dir: string): Buffer {
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const paths: string[] = model.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
  return Buffer.concat(paths.map((p) => readFileSync(join(dir, p))));
}

describe('graft train: Ctrl-C checkpoint, --resume, killed runs (built CLI, subprocess)', () => {
  let dir: string;
  beforeAll(() => {
    expect(existsSync(GRAFT_BIN), 'build first: npx turbo run build --filter=@graft/cli...').toBe(
      true,
    );
    dir = mkdtempSync(join(tmpdir(), 'graft-resume-'));
    writeFixture(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Ctrl-C saves a checkpoint and exits 130; --resume ends with the uninterrupted run’s metrics and weights', async () => {
    const straight = await graft(['train', 'graft.yaml', '--output', 'straight'], dir);
    expect(straight.stderr).toBe('');
    expect(straight.code).toBe(0);
    expect(existsSync(join(dir, 'straight', 'checkpoint.bin'))).toBe(false);

    const stopped = await trainUntilCheckpoint(['graft.yaml'], dir, 'run', 'SIGINT');
    expect(stopped.stderr).toBe('');
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toMatch(
      /stopped by SIGINT at epoch \d, step \d+: checkpoint saved in run; continue with: graft train graft\.yaml --resume\n$/,
    );
    const run = join(dir, 'run');
    // An interrupted run: its config, log and checkpoint, no model, no temp files.
    expect(readdirSync(run).sort()).toEqual(['checkpoint.bin', 'config.json', 'run.log']);
    expect(readFileSync(join(run, 'checkpoint.bin')).subarray(0, 10).toString()).toBe('GRAFTSTATE');
    expect(readFileSync(join(run, 'run.log'), 'utf8')).toMatch(/checkpoint \(SIGINT\)/);

    // Not replaced by accident, and not resumed with another config.
    const again = await graft(['train', 'graft.yaml'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toMatch(
      /^graft: The run directory already exists \(run\)\. It holds an interrupted run: add --resume/,
    );
    const otherConfig = await graft(['train', 'graft.yaml', '--resume', '--epochs', '7'], dir);
    expect(otherConfig.code).toBe(1);
    expect(otherConfig.stderr.trim()).toMatch(/^graft: The config differs .*\(epochs\)/);
    expect(otherConfig.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(run).sort()).toEqual(['checkpoint.bin', 'config.json', 'run.log']);

    const resumed = await graft(['train', 'graft.yaml', '--resume'], dir);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^resuming from checkpoint\.bin: epoch \d, batch \d, step \d+/);
    expect(existsSync(join(run, 'checkpoint.bin'))).toBe(false);
    expect(metricsOf(run)).toEqual(metricsOf(join(dir, 'straight')));
    expect(weightsOf(run).equals(weightsOf(join(dir, 'straight')))).toBe(true);
  });

  it('a killed run (SIGKILL) resumes from its last epoch checkpoint to the same result', async () => {
    const killed = await trainUntilCheckpoint(
      ['graft.yaml', '--output', 'killed'],
      dir,
      'killed',
      'SIGKILL',
    );
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(dir, 'killed', 'model.json'))).toBe(false);
    const resumed = await graft(['train', 'graft.yaml', '--output', 'killed', '--resume'], dir);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(metricsOf(join(dir, 'killed'))).toEqual(metricsOf(join(dir, 'straight')));
    expect(weightsOf(join(dir, 'killed')).equals(weightsOf(join(dir, 'straight')))).toBe(true);
  });

  it('a run that fails mid-training leaves no directory; a finished run cannot be resumed', async () => {
    writeFileSync(join(dir, 'img', '5.png'), 'not an image');
    const failed = await graft(['train', 'graft.yaml', '--output', 'failed'], dir);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^graft: the failed run's folder was removed; its log is in /);
    expect(failed.stderr).toMatch(/graft: Not a PNG or JPEG image/);
    expect(existsSync(join(dir, 'failed'))).toBe(false);
    const log = failed.stderr.match(/its log is in (\S+)/)?.[1] as string;
    expect(readFileSync(log, 'utf8')).toMatch(/failed: Not a PNG or JPEG image/);

    const finished = await graft(['train', 'graft.yaml', '--output', 'straight', '--resume'], dir);
    expect(finished.code).toBe(1);
    expect(finished.stderr.trim()).toMatch(/^graft: There is no checkpoint\.bin to resume from/);
  });
});

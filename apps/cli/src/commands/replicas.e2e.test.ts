import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAFT_BIN, runGraft, writeLabelledPngs } from '../testing/cliTestKit';

const graft = (args: string[], cwd: string) => runGraft(args, cwd, 120_000);

/** Starts `graft train` and sends SIGINT as soon as the run's first checkpoint exists. */
function trainUntilCheckpoint(
  args: string[],
  cwd: string,
  runDir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
        child.kill('SIGINT');
      }
    }, 10);
    child.on('exit', (code) => {
      clearInterval(poll);
      done({ code, stdout, stderr });
    });
  });
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

describe('graft train --replicas (built CLI, subprocess)', () => {
  let dir: string;
  beforeAll(() => {
    expect(existsSync(GRAFT_BIN), 'build first: npx turbo run build --filter=@graft/cli...').toBe(
      true,
    );
    dir = mkdtempSync(join(tmpdir(), 'graft-replicas-'));
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
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a bad --replicas is one graft: line and exit 1', async () => {
    for (const bad of ['0', '17', '1.5', 'two']) {
      const out = await graft(['train', 'graft.yaml', '--replicas', bad], dir);
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr.trim().split('\n')).toHaveLength(1);
      expect(out.stderr).toMatch(/^graft: .*--replicas must be a whole number from 1 to 16/);
    }
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  it('trains on 2 replicas into a complete run; Ctrl-C and --resume end with the same metrics and weights', async () => {
    const straight = await graft(['train', 'graft.yaml', '--replicas', '2', '--output', 'p2'], dir);
    expect(straight.stderr).toBe('');
    expect(straight.code).toBe(0);
    const p2 = join(dir, 'p2');
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

    const stopped = await trainUntilCheckpoint(['graft.yaml', '--replicas', '2'], dir, 'run');
    expect(stopped.stderr).toBe('');
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toMatch(
      /stopped by SIGINT at epoch \d, step \d+: checkpoint saved in run; continue with: graft train graft\.yaml --resume\n$/,
    );
    const run = join(dir, 'run');
    expect(readdirSync(run).sort()).toEqual(['checkpoint.bin', 'config.json', 'run.log']);
    expect(readFileSync(join(run, 'run.log'), 'utf8')).toMatch(/checkpoint \(SIGINT\)/);

    const resumed = await graft(['train', 'graft.yaml', '--resume', '--replicas', '2'], dir);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^resuming from checkpoint\.bin: epoch \d, batch \d, step \d+/);
    expect(existsSync(join(run, 'checkpoint.bin'))).toBe(false);
    expect(metricsOf(run)).toEqual(metricsOf(p2));
    expect(weightsOf(run).equals(weightsOf(p2))).toBe(true);
  });
});

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect } from 'vitest';

/** The built CLI the end-to-end tests drive (`npx turbo run build --filter=@graft/cli...`). */
export const GRAFT_BIN = resolve(__dirname, '../../dist/bin.js');

/**
 * For a describe block of end-to-end tests: before them, checks that the CLI is built and
 * makes a temp folder holding what `write` puts there; after them, removes it. `fixture.dir`
 * is the folder (inside the tests).
 */
export function fixtureDir(prefix: string, write: (dir: string) => void): { readonly dir: string } {
  let dir = '';
  beforeAll(() => {
    expect(existsSync(GRAFT_BIN), 'build first: npx turbo run build --filter=@graft/cli...').toBe(
      true,
    );
    dir = mkdtempSync(join(tmpdir(), prefix));
    write(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    get dir() {
      return dir;
    },
  };
}

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `graft <args>` in `cwd` as a subprocess; a non-zero exit is an outcome, not an error. */
export function runGraft(args: string[], cwd: string, timeout = 60_000): Promise<CliOutcome> {
  return new Promise((done) => {
    execFile('node', [GRAFT_BIN, ...args], { cwd, timeout }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** How a `graft` subprocess that may be stopped by a signal ended. */
export interface StoppedOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `graft train <args>` and sends `signal` as soon as the run's first checkpoint exists. */
export function trainUntilCheckpoint(
  args: string[],
  cwd: string,
  runDir: string,
  signal: NodeJS.Signals = 'SIGINT',
): Promise<StoppedOutcome> {
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

/**
 * What a `graft train graft.yaml` stopped by Ctrl-C leaves in `cwd/runDir`: exit 130 and
 * nothing on stderr, the one line saying where the checkpoint is and how to go on, and in the
 * folder only its config, its log (noting the checkpoint) and `checkpoint.bin`.
 */
export function expectInterruptedRun(stopped: StoppedOutcome, cwd: string, runDir: string): void {
  expect(stopped.stderr).toBe('');
  expect(stopped.code).toBe(130);
  expect(stopped.stdout).toMatch(
    new RegExp(
      `stopped by SIGINT at epoch \\d, step \\d+: checkpoint saved in ${runDir}; continue with: graft train graft\\.yaml --resume\\n$`,
    ),
  );
  const run = join(cwd, runDir);
  expect(readdirSync(run).sort()).toEqual(['checkpoint.bin', 'config.json', 'run.log']);
  expect(readFileSync(join(run, 'run.log'), 'utf8')).toMatch(/checkpoint \(SIGINT\)/);
}

/** A run folder's metrics.json without wall-clock times, to compare two runs. */
export function metricsOf(dir: string): unknown {
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

/** A saved model's weight shards' bytes, in manifest order. */
export function weightsOf(dir: string): Buffer {
  const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const paths: string[] = model.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
  return Buffer.concat(paths.map((p) => readFileSync(join(dir, p))));
}

/**
 * `count` small PNGs in `dir/img` and `dir/labels.csv` for them: a red and a blue tint
 * (multi-label; some cells '?' or empty = missing), a shape class, and a size value ('NA' =
 * missing). Learnable from the tint in a few steps, so tests can stay short.
 */
export function writeLabelledPngs(dir: string, count: number): void {
  mkdirSync(join(dir, 'img'), { recursive: true });
  const rows = ['image,red,blue,shape,size'];
  for (let i = 0; i < count; i++) {
    const png = new PNG({ width: 24, height: 24 });
    const red = i % 2;
    const blue = (i >> 1) % 2;
    for (let p = 0; p < 24 * 24; p++) {
      png.data[p * 4] = red ? 220 : 20;
      png.data[p * 4 + 1] = (p * 7 + i) % 255;
      png.data[p * 4 + 2] = blue ? 220 : 20;
      png.data[p * 4 + 3] = 255;
    }
    writeFileSync(join(dir, 'img', `${i}.png`), PNG.sync.write(png));
    const redCell = i % 5 === 0 ? '?' : String(red);
    const blueCell = i % 7 === 0 ? '' : String(blue);
    const size = i % 3 === 0 ? 'NA' : (i / count).toFixed(2);
    rows.push(`img/${i}.png,${redCell},${blueCell},${i % 2 ? 'square' : 'round'},${size}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
}

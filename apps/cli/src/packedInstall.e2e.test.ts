import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user gets from npm: every graft package packed (`npm pack`), the tarballs installed
// into a fresh project, and code there that imports them by name, in ESM and in CommonJS,
// trains on WASM, type-checks against the shipped .d.ts, and runs the installed `graft` bin.
// One install serves every check below.

type InstallPacked = (work: string, packages: readonly string[]) => string[];

const repo = resolve(__dirname, '../../..');
const work = mkdtempSync(join(tmpdir(), 'graft-pack-all-'));

/** The training script, written once and wrapped as ESM and as CommonJS. */
const trainBody = `
const info = await initBackend({ fallback: false });
const scenes = drivingScenes({ count: 32, seed: 1, size: 32, missing: 0.2 });
const backbone = pretrainedBackbone(undefined, { inputShape: [32, 32, 3] });
const model = multiTaskModel({ backbone, tasks: headsFor(scenes.tasks), seed: 1 });
const trainer = new Trainer({
  model,
  plan: headsOnly().plan(model),
  optimizer: { type: 'adam', learningRate: 1e-2 },
});
const data = { batches: () => batches(scenes, { batchSize: 16 }) };
const before = (await trainer.evaluate(data)).loss;
const history = await trainer.fit(data, { epochs: 3 });
const after = (await trainer.evaluate(data)).loss;
const error = new GraftError('CONFIG_INVALID', 'probe', { where: 'consumer' });
console.log(JSON.stringify({
  backend: info.name,
  simd: info.simd,
  before,
  after,
  steps: history.epochs.reduce((n, e) => n + e.steps, 0),
  graftError: error instanceof Error && error.code,
}));
`;

const esm = `import { initBackend, pretrainedBackbone, Trainer } from '@graft/core';
import { batches, drivingScenes } from '@graft/datasets';
import { GraftError } from '@graft/errors';
import { headsOnly } from '@graft/freeze';
import { headsFor, multiTaskModel } from '@graft/heads';
${trainBody}`;

const cjs = `const { initBackend, pretrainedBackbone, Trainer } = require('@graft/core');
const { batches, drivingScenes } = require('@graft/datasets');
const { GraftError } = require('@graft/errors');
const { headsOnly } = require('@graft/freeze');
const { headsFor, multiTaskModel } = require('@graft/heads');
(async () => {
${trainBody}
})();`;

/** A consumer's TypeScript, checked under Node16 resolution (exports conditions, .d.cts). */
const typed = `import { type Backbone, initBackend, pretrainedBackbone } from '@graft/core';
import { drivingScenes } from '@graft/datasets';
import { GraftError } from '@graft/errors';
import { headsOnly } from '@graft/freeze';
import { headsFor, multiTaskModel } from '@graft/heads';
export async function planRows(): Promise<number> {
  const info = await initBackend();
  if (info.name !== 'wasm') throw new GraftError('CONFIG_INVALID', 'not wasm', { where: 'consumer' });
  const scenes = drivingScenes({ count: 4, seed: 1, size: 32 });
  const backbone: Backbone = pretrainedBackbone(undefined, { inputShape: [32, 32, 3] });
  const model = multiTaskModel({ backbone, tasks: headsFor(scenes.tasks) });
  return headsOnly().plan(model).explain().length;
}
// Types really arrived (not any): a wrong backend name must not compile.
// @ts-expect-error
initBackend({ backend: 'webgl' });
`;

function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('node', args, { cwd: work, encoding: 'utf8', timeout: 120_000 });
}

describe('every graft package from npm pack tarballs, in a fresh project', () => {
  let tarballs: string[] = [];
  beforeAll(async () => {
    // Shared with @graft/core's own pack tests. Imported by path at run time: another
    // package's sources are outside this one's tsconfig rootDir (vitest compiles it anyway).
    const helper = join(repo, 'packages/core/src/testing/installPackedCore.ts');
    const { installPacked } = (await import(helper)) as { installPacked: InstallPacked };
    tarballs = installPacked(work, [
      '@graft/errors',
      '@graft/core',
      '@graft/datasets',
      '@graft/heads',
      '@graft/freeze',
      '@graft/cli',
    ]);
    writeFileSync(join(work, 'train.mjs'), esm);
    writeFileSync(join(work, 'train.cjs'), cjs);
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('each tarball holds the built package, its README and LICENSE, no sources or tests', () => {
    expect(tarballs).toHaveLength(6);
    for (const tarball of tarballs) {
      const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
      for (const needed of [
        'package/package.json',
        'package/README.md',
        'package/LICENSE',
        'package/dist/index.js',
        'package/dist/index.d.ts',
      ]) {
        expect(files, tarball).toContain(needed);
      }
      expect(
        files.filter((f) => !/^package\/(dist\/|package\.json$|README\.md$|LICENSE$)/.test(f)),
      ).toEqual([]);
      expect(files.filter((f) => /\.test\./.test(f))).toEqual([]);
      const manifest = JSON.parse(
        execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
      );
      expect(manifest.engines, tarball).toEqual({ node: '>=20' });
    }
  });

  it.each(['train.mjs', 'train.cjs'])(
    '%s imports the packages by name and trains a head on WASM (loss decreases)',
    (script) => {
      const r = node([script]);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
      expect(out.backend).toBe('wasm');
      expect(out.simd).toBe(true);
      expect(out.steps).toBe(6);
      expect(out.graftError).toBe('CONFIG_INVALID');
      expect(Number.isFinite(out.before)).toBe(true);
      expect(out.after).toBeLessThan(out.before * 0.9);
    },
  );

  it('the packages resolve from the project, not from this repository', () => {
    const r = node([
      '--input-type=module',
      '-e',
      "for (const p of ['@graft/core', '@graft/datasets', '@graft/heads', '@graft/freeze', '@graft/errors', '@graft/cli']) console.log(import.meta.resolve(p));",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const paths = r.stdout.trim().split('\n');
    expect(paths).toHaveLength(6);
    for (const p of paths) expect(p).toContain(`${work}/node_modules/@graft/`);
  });

  it('type-checks a consumer against the shipped declarations (ESM and CommonJS)', () => {
    writeFileSync(join(work, 'consumer.mts'), typed);
    writeFileSync(join(work, 'consumer.cts'), typed);
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    const r = node([
      tsc,
      '--noEmit',
      '--strict',
      '--module',
      'node16',
      '--moduleResolution',
      'node16',
      // tfjs-core's own .d.ts name a `Long` type it does not declare: not ours to check.
      '--skipLibCheck',
      '--types',
      'node',
      '--typeRoots',
      join(repo, 'node_modules/@types'),
      'consumer.mts',
      'consumer.cts',
    ]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('runs the installed `graft` bin: --help, and a command that loads the WASM backend', () => {
    const help = execFileSync('npx', ['--no-install', 'graft', '--help'], {
      cwd: work,
      encoding: 'utf8',
    });
    expect(help).toMatch(/^Usage: graft /);
    for (const command of ['train', 'eval', 'predict', 'inspect', 'demo', 'init']) {
      expect(help).toMatch(new RegExp(`\\n {2}${command} `));
    }
    const inspect = JSON.parse(
      execFileSync('npx', ['--no-install', 'graft', 'inspect', 'shipped', '--json'], {
        cwd: work,
        encoding: 'utf8',
      }),
    );
    expect(inspect.blocks.length).toBeGreaterThan(10);
    // The library entry is ESM (vega, which renders the report, has top-level await).
    const lib = node([
      '--input-type=module',
      '-e',
      "console.log(typeof (await import('@graft/cli')).renderReport)",
    ]);
    expect(lib.stdout.trim()).toBe('function');
  });

  it('the installed `graft` writes a starter config and trains from it (report charts included)', () => {
    const run = (args: string[]) =>
      execFileSync('npx', ['--no-install', 'graft', ...args], { cwd: work, encoding: 'utf8' });
    run(['init', 'graft.yaml']);
    const out = run([
      'train',
      'graft.yaml',
      '--set',
      'data.count=48',
      '--set',
      'data.size=32',
      '--set',
      'backbone.inputSize=32',
      '--epochs',
      '1',
      '--batch',
      '16',
      '--output',
      'run',
    ]);
    expect(out).toMatch(/backend: wasm \(SIMD on/);
    expect(out).toMatch(/epoch 1\/1 {2}loss \d/);
    expect(readFileSync(join(work, 'run', 'report.html'), 'utf8')).toMatch(/<svg/);
    expect(JSON.parse(readFileSync(join(work, 'run', 'graft.json'), 'utf8')).tasks).toHaveLength(3);
  });
});

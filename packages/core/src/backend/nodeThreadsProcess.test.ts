import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Whole processes: the backend starts once per process, and a process using threads must
// end on its own (pthread workers may not keep it alive). Scripts run this package's
// sources through vite-node (vitest's TypeScript runner).
const require = createRequire(import.meta.url);
const viteNode = join(
  dirname(createRequire(require.resolve('vitest/package.json')).resolve('vite-node/package.json')),
  'vite-node.mjs',
);
const initBackendTs = resolve(__dirname, 'initBackend.ts');
const tfCore = require.resolve('@tensorflow/tfjs-core');
const work = mkdtempSync(join(tmpdir(), 'graft-threads-'));

function runScript(name: string, body: string) {
  const file = join(work, `${name}.ts`);
  writeFileSync(
    file,
    `import { initBackend } from ${JSON.stringify(initBackendTs)};\n` +
      `const tf = await import(${JSON.stringify(tfCore)});\n${body}\n`,
  );
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [viteNode, file], { encoding: 'utf8', timeout: 60_000 });
  const lastLine = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  return { ...r, seconds: (performance.now() - t0) / 1000, lastLine };
}

describe('Node processes using WASM threads', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('exit on their own after training with 2 threads', () => {
    const r = runScript(
      'exits',
      `const warnings = [];
       const info = await initBackend({ threads: 2, onWarning: (m) => warnings.push(m) });
       const w = tf.variable(tf.randomNormal([3, 3, 8, 16], 0, 0.1, 'float32', 1));
       const x = tf.randomNormal([2, 16, 16, 8], 0, 1, 'float32', 2);
       const opt = tf.train.sgd(0.1);
       for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(tf.conv2d(x, w, 1, 'same'))));
       console.log(JSON.stringify({ ...info, warnings }));`,
    );
    // No timeout signal: the process ended by itself, and promptly.
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.lastLine)).toEqual({ name: 'wasm', simd: true, threads: 2, warnings: [] });
  });

  it('fall back to 1 thread with a warning saying why when threads cannot run', () => {
    const r = runScript(
      'no-sab',
      `// As on a platform without shared memory.
       delete globalThis.SharedArrayBuffer;
       const warnings = [];
       const info = await initBackend({ threads: 2, onWarning: (m) => warnings.push(m) });
       console.log(JSON.stringify({ ...info, warnings }));`,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.lastLine)).toEqual({
      name: 'wasm',
      simd: true,
      threads: 1,
      warnings: [
        expect.stringMatching(/1 thread instead of 2: SharedArrayBuffer is not available/),
      ],
    });
  });
});

import { spawn } from 'node:child_process';
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

interface ScriptRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  lastLine: string;
}

/** Runs a script in its own Node process (asynchronously, so that the cases overlap). */
function runScript(name: string, body: string): Promise<ScriptRun> {
  const file = join(work, `${name}.ts`);
  writeFileSync(
    file,
    `import { initBackend } from ${JSON.stringify(initBackendTs)};\n` +
      `const tf = await import(${JSON.stringify(tfCore)});\n${body}\n`,
  );
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [viteNode, file], { timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      resolveRun({ status, signal, stderr, lastLine: stdout.trim().split('\n').pop() ?? '' });
    });
  });
}

describe('Node processes using WASM threads', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('exit on their own, and fall back to 1 thread with a warning saying why', async () => {
    const [trained, noSharedMemory, brokenWorker] = await Promise.all([
      runScript(
        'exits',
        `const warnings = [];
         const info = await initBackend({ threads: 2, onWarning: (m) => warnings.push(m) });
         const w = tf.variable(tf.randomNormal([3, 3, 8, 16], 0, 0.1, 'float32', 1));
         const x = tf.randomNormal([2, 16, 16, 8], 0, 1, 'float32', 2);
         const opt = tf.train.sgd(0.1);
         for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(tf.conv2d(x, w, 1, 'same'))));
         console.log(JSON.stringify({ ...info, warnings }));`,
      ),
      runScript(
        'no-sab',
        `// As on a platform without shared memory.
         delete globalThis.SharedArrayBuffer;
         const warnings = [];
         const info = await initBackend({ threads: 2, onWarning: (m) => warnings.push(m) });
         console.log(JSON.stringify({ ...info, warnings }));`,
      ),
      runScript(
        'broken-worker',
        `// Every pthread worker throws while it loads: the start is abandoned, the process lives.
         const real = URL.createObjectURL;
         URL.createObjectURL = (b) =>
           b.type === 'application/javascript' ? real(new Blob(['throw new Error("broken")'])) : real(b);
         const warnings = [];
         const info = await initBackend({ threads: 2, onWarning: (m) => warnings.push(m) });
         const r = tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).dataSync()[0];
         console.log(JSON.stringify({ ...info, warnings, r }));`,
      ),
    ]);
    // No timeout signal: the process ended by itself.
    expect(trained.signal).toBeNull();
    expect(trained.status, trained.stderr).toBe(0);
    expect(JSON.parse(trained.lastLine)).toEqual({
      name: 'wasm',
      simd: true,
      threads: 2,
      warnings: [],
    });

    expect(noSharedMemory.status, noSharedMemory.stderr).toBe(0);
    expect(JSON.parse(noSharedMemory.lastLine)).toEqual({
      name: 'wasm',
      simd: true,
      threads: 1,
      warnings: [
        expect.stringMatching(/1 thread instead of 2: SharedArrayBuffer is not available/),
      ],
    });

    expect(brokenWorker.status, brokenWorker.stderr).toBe(0);
    expect(JSON.parse(brokenWorker.lastLine)).toEqual({
      name: 'wasm',
      simd: true,
      threads: 1,
      warnings: [
        expect.stringMatching(/threaded WASM backend did not start \(.*broken\); running on 1/),
      ],
      r: 8,
    });
  });
});

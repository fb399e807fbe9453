import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installPackedCore } from '../testing/installPackedCore';

// Threads from an installed tarball: the pthread bootstrap ships inside the package's code
// (no worker file to resolve), and the tfjs bundle it inspects is the consumer's copy.
const work = mkdtempSync(join(tmpdir(), 'graft-pack-threads-'));

describe('@graft/core from an npm pack tarball, with threads', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('starts 2 WASM threads in another project (ESM, CJS, ESM eval) and exits on its own', () => {
    installPackedCore(work);
    const body =
      'const warnings = []; const info = await initBackend({ threads: 2, fallback: false, onWarning: (m) => warnings.push(m) }); const r = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])).dataSync()[0]; console.log(JSON.stringify({ ...info, warnings, r }));';
    writeFileSync(
      join(work, 'check.mjs'),
      `import { initBackend } from '@graft/core'; import * as tf from '@tensorflow/tfjs-core';\n${body}`,
    );
    writeFileSync(
      join(work, 'check.cjs'),
      `const { initBackend } = require('@graft/core'); const tf = require('@tensorflow/tfjs-core');\n(async () => { ${body} })();`,
    );
    // An ES module given with -e: workers inherit --input-type=module, so the pthread
    // bootstrap (eval'd worker code) then runs as a module too.
    const esmEval = ['--input-type=module', '-e', readFileSync(join(work, 'check.mjs'), 'utf8')];
    for (const argv of [['check.mjs'], ['check.cjs'], esmEval]) {
      const r = spawnSync('node', argv, { cwd: work, encoding: 'utf8', timeout: 60_000 });
      expect(r.signal, `node ${argv[0]} did not exit on its own`).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').pop() as string)).toEqual({
        name: 'wasm',
        simd: true,
        threads: 2,
        warnings: [],
        r: 64,
      });
    }
  });
});

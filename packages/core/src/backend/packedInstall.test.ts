import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installPackedCore } from '../testing/installPackedCore';

// A user installs @graft/core from the registry, not from this workspace: the .wasm files
// then live in *their* node_modules. This packs the built package, installs the tarball in
// a throwaway project and checks that initBackend() finds WASM there, in ESM and in CJS.
const work = mkdtempSync(join(tmpdir(), 'graft-pack-'));

describe('@graft/core from an npm pack tarball', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('initialises WASM with SIMD in another project (ESM and CJS)', () => {
    installPackedCore(work);
    const script = (kind: 'esm' | 'cjs') =>
      kind === 'esm'
        ? "import { initBackend } from '@graft/core'; console.log(JSON.stringify(await initBackend({ fallback: false })));"
        : "require('@graft/core').initBackend({ fallback: false }).then((i) => console.log(JSON.stringify(i)));";
    writeFileSync(join(work, 'check.mjs'), script('esm'));
    writeFileSync(join(work, 'check.cjs'), script('cjs'));
    for (const file of ['check.mjs', 'check.cjs']) {
      const out = execFileSync('node', [file], { cwd: work, encoding: 'utf8' });
      expect(JSON.parse(out.trim().split('\n').pop() as string)).toEqual({
        name: 'wasm',
        simd: true,
        threads: 1,
      });
    }
    // The package resolved its wasm files from the consumer's node_modules, not this repo.
    expect(
      existsSync(
        join(work, 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'),
      ),
    ).toBe(true);
  });
});

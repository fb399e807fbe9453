import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// A user installs @graft/core from the registry, not from this workspace: the .wasm files
// then live in *their* node_modules. This packs the built package, installs the tarball in
// a throwaway project and checks that initBackend() finds WASM there, in ESM and in CJS.
const pkgDir = resolve(__dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'graft-pack-'));

describe('@graft/core from an npm pack tarball', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('initialises WASM with SIMD in another project (ESM and CJS)', () => {
    if (!existsSync(join(pkgDir, 'dist/index.js'))) {
      throw new Error(
        'packages/core/dist is missing: run `npm run build` first (turbo does this for `npm test`)',
      );
    }
    // @graft/core depends on @graft/errors, which would come from the registry; pack both.
    const pack = (dir: string) =>
      join(
        work,
        execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
          cwd: dir,
          encoding: 'utf8',
        })
          .trim()
          .split('\n')
          .pop() as string,
      );
    const tarballs = [pack(join(pkgDir, '../errors')), pack(pkgDir)];
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    execFileSync(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs],
      { cwd: work, encoding: 'utf8' },
    );
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

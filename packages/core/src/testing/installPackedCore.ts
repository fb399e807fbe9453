import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const coreDir = resolve(__dirname, '../..');

/**
 * What a user gets from the registry: packs the built @graft/core (and @graft/errors, which
 * it depends on and which would otherwise come from the registry) and installs the tarballs
 * into a fresh consumer project in `work`. Tests then run scripts there.
 */
export function installPackedCore(work: string): void {
  if (!existsSync(join(coreDir, 'dist/index.js'))) {
    throw new Error(
      'packages/core/dist is missing: run `npm run build` first (turbo does this for `npm test`)',
    );
  }
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
  const tarballs = [pack(join(coreDir, '../errors')), pack(coreDir)];
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  execFileSync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs],
    { cwd: work, encoding: 'utf8' },
  );
}

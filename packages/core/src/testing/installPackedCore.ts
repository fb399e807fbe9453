import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../../../..');

/** Where each publishable workspace package lives, in dependency order. */
export const publishedPackages = {
  '@graft/errors': 'packages/errors',
  '@graft/core': 'packages/core',
  '@graft/datasets': 'packages/datasets',
  '@graft/heads': 'packages/heads',
  '@graft/freeze': 'packages/freeze',
  '@graft/cli': 'apps/cli',
} as const;

export type PublishedPackage = keyof typeof publishedPackages;

/**
 * What a user gets from the registry: `npm pack`s the built packages and installs the
 * tarballs, all in one `npm install`, into a fresh consumer project in `work` (so the
 * @graft/* dependencies between them resolve to the tarballs, never to the registry; their
 * third-party dependencies come from the registry, through the npm cache when it has them).
 * Tests then run scripts there. Returns the tarball paths.
 */
export function installPacked(work: string, packages: readonly PublishedPackage[]): string[] {
  for (const name of packages) {
    const dir = join(repo, publishedPackages[name]);
    if (!existsSync(join(dir, 'dist/index.js'))) {
      throw new Error(
        `${publishedPackages[name]}/dist is missing: run \`npm run build\` first (turbo does this for \`npm test\`)`,
      );
    }
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
  const tarballs = packages.map((name) => pack(join(repo, publishedPackages[name])));
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  execFileSync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs],
    { cwd: work, encoding: 'utf8' },
  );
  return tarballs;
}

/** @graft/core and @graft/errors (its one @graft dependency), packed and installed in `work`. */
export function installPackedCore(work: string): void {
  installPacked(work, ['@graft/errors', '@graft/core']);
}

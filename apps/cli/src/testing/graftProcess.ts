import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The built CLI, as `npm install` puts it on a user's PATH. */
export const BIN = resolve(__dirname, '../../dist/bin.js');

export interface GraftOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  if (!existsSync(BIN)) {
    throw new Error(`${BIN} is missing: build first (npx turbo run build --filter=@graft/cli...)`);
  }
}

/**
 * Runs `graft <args>` in `cwd` as a subprocess, asynchronously, so that a server in the test
 * process (a backbone over HTTP) can answer it. Never rejects: the exit code is the outcome.
 */
export function graft(
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>> = {},
): Promise<GraftOutcome> {
  return new Promise((done) => {
    execFile(
      'node',
      [BIN, ...args],
      // A DEBUG set where the tests run would turn every error into a stack trace.
      { cwd, timeout: 90_000, env: { ...process.env, DEBUG: '', GRAFT_DEBUG: '', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

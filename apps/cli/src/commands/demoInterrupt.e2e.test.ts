import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = resolve(__dirname, '../../dist/bin.js');

describe('graft demo (built CLI, subprocess)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-demo-stop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('Ctrl-C mid-training stops it promptly, exit 130, leaving no half-written output', async () => {
    expect(existsSync(BIN), 'build first: npx turbo run build --filter=@graft/cli...').toBe(true);
    const out = join(dir, 'demo');
    // Generated scenes are in memory: without the Trainer's event-loop turns, the signal
    // would only be handled when training ended.
    const child = spawn('node', [BIN, 'demo', '--scenes', '3000', '--out', out, '--quiet']);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(out, 'run.log')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(existsSync(join(out, 'run.log'))).toBe(true);
    await new Promise((r) => setTimeout(r, 1500)); // into the first epoch
    const sent = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(Date.now() - sent).toBeLessThan(5_000);
    expect(stderr).toBe('graft: demo stopped by SIGINT; its unfinished output was removed\n');
    expect(existsSync(out)).toBe(false);
  }, 90_000);
});

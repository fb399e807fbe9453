import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGraftError } from '@graft/core';
import { describe, expect, it } from 'vitest';
import { createRunDirectory } from './runDirectory';

const base = mkdtempSync(join(tmpdir(), 'graft-run-'));

describe('run directory', () => {
  it('writes files atomically, logs, and refuses to reuse a run without force', async () => {
    const dir = await createRunDirectory(join(base, 'a'), { force: false });
    await dir.writeJson('metrics.json', { loss: 1 });
    dir.log('epoch 1');
    expect(JSON.parse(readFileSync(join(dir.path, 'metrics.json'), 'utf8'))).toEqual({ loss: 1 });
    expect(readFileSync(join(dir.path, 'run.log'), 'utf8')).toMatch(/Z epoch 1\n$/);
    expect(readdirSync(dir.path).some((f) => f.includes('.tmp-'))).toBe(false);

    const again = await createRunDirectory(dir.path, { force: false }).catch((e: unknown) => e);
    expect(isGraftError(again, 'RUN_DIR_EXISTS')).toBe(true);
    expect(existsSync(join(dir.path, 'metrics.json'))).toBe(true);

    const forced = await createRunDirectory(dir.path, { force: true });
    expect(readdirSync(forced.path)).toEqual([]);
  });

  it('says when the output cannot be created', async () => {
    const file = join(base, 'plain-file');
    writeFileSync(file, 'x');
    const e = await createRunDirectory(join(file, 'run'), { force: false }).catch(
      (x: unknown) => x,
    );
    expect(isGraftError(e, 'OUTPUT_UNWRITABLE')).toBe(true);
  });

  it('leaves no temp file behind when a write fails', async () => {
    const dir = await createRunDirectory(join(base, 'b'), { force: false });
    // A non-empty folder where the file should go makes the final rename fail.
    mkdirSync(join(dir.path, 'x.json', 'inner'), { recursive: true });
    const e = await dir.write('x.json', '{}').catch((x: unknown) => x);
    expect(isGraftError(e, 'OUTPUT_UNWRITABLE')).toBe(true);
    expect((e as Error).message).toMatch(/Cannot write x\.json/);
    expect(readdirSync(dir.path)).toEqual(['x.json']);
  });
});

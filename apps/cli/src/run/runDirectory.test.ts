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
import { CHECKPOINT_FILE, createRunDirectory } from './runDirectory';

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
    await forced.finish();
    expect(readdirSync(base).filter((f) => f.startsWith('a.replaced-'))).toEqual([]);
  });

  it('--force replaces only a graft run, and only once the new run finishes', async () => {
    // The user's data given as the output by mistake: never deleted, --force or not.
    const data = join(base, 'photos');
    mkdirSync(data);
    writeFileSync(join(data, 'labels.csv'), 'file,car\n');
    const refused = await createRunDirectory(data, { force: true }).catch((e: unknown) => e);
    expect(isGraftError(refused, 'RUN_DIR_EXISTS')).toBe(true);
    expect(String(refused)).toMatch(/not a graft run folder/);
    expect(readdirSync(data)).toEqual(['labels.csv']);
    const file = join(base, 'notes.txt');
    writeFileSync(file, 'keep me');
    const onFile = await createRunDirectory(file, { force: true }).catch((e: unknown) => e);
    expect(isGraftError(onFile, 'RUN_DIR_EXISTS')).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('keep me');

    // A previous run survives a replacement that fails...
    const path = join(base, 'replaced');
    const old = await createRunDirectory(path, { force: false });
    await old.writeJson('metrics.json', { run: 'old' });
    const failing = await createRunDirectory(path, { force: true });
    await failing.writeJson('metrics.json', { run: 'new' });
    await failing.discard();
    expect(JSON.parse(readFileSync(join(path, 'metrics.json'), 'utf8'))).toEqual({ run: 'old' });
    // ...and is gone once one succeeds.
    const replacing = await createRunDirectory(path, { force: true });
    await replacing.writeJson('metrics.json', { run: 'new' });
    await replacing.finish();
    expect(JSON.parse(readFileSync(join(path, 'metrics.json'), 'utf8'))).toEqual({ run: 'new' });
    expect(readdirSync(base).filter((f) => f.startsWith('replaced.'))).toEqual([]);
  });

  it('a failed new run removes its folder and keeps the log outside it', async () => {
    const dir = await createRunDirectory(join(base, 'failed'), { force: false });
    await dir.writeJson('config.json', {});
    dir.log('epoch 1');
    const kept = await dir.discard();
    expect(existsSync(dir.path)).toBe(false);
    expect(kept).toBeDefined();
    expect(readFileSync(kept as string, 'utf8')).toMatch(/epoch 1/);
  });

  it('resumes only a folder with a checkpoint, names it when refusing, and keeps it on failure', async () => {
    const path = join(base, 'interrupted');
    const missing = await createRunDirectory(path, { force: false, resume: true }).catch(
      (e: unknown) => e,
    );
    expect(isGraftError(missing, 'CHECKPOINT_NOT_FOUND')).toBe(true);
    expect(existsSync(path)).toBe(false);

    const first = await createRunDirectory(path, { force: false });
    await first.write(CHECKPOINT_FILE, new Uint8Array([1, 2, 3]));
    const again = await createRunDirectory(path, { force: false }).catch((e: unknown) => e);
    expect(isGraftError(again, 'RUN_DIR_EXISTS')).toBe(true);
    expect(String(again)).toMatch(/interrupted run: add --resume/);

    const resumed = await createRunDirectory(path, { force: false, resume: true });
    expect(resumed.resumed).toBe(true);
    await resumed.discard();
    expect(readdirSync(path)).toEqual([CHECKPOINT_FILE]);

    await resumed.remove(CHECKPOINT_FILE);
    const finished = await createRunDirectory(path, { force: false, resume: true }).catch(
      (e: unknown) => e,
    );
    expect(isGraftError(finished, 'CHECKPOINT_NOT_FOUND')).toBe(true);
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

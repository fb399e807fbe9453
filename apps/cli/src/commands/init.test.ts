import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGraftError } from '@graft/core';
import { describe, expect, it } from 'vitest';
import { STARTER_CONFIG } from '../config/starterConfig';
import { runInit } from './init';

describe('graft init', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graft-init-'));

  it('writes the starter config and refuses to overwrite without --force', async () => {
    const path = join(dir, 'graft.yaml');
    await runInit(path, false);
    expect(readFileSync(path, 'utf8')).toBe(STARTER_CONFIG);
    writeFileSync(path, 'mine');
    const e = await runInit(path, false).catch((x: unknown) => x);
    expect(isGraftError(e, 'RUN_DIR_EXISTS')).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('mine');
    await runInit(path, true);
    expect(readFileSync(path, 'utf8')).toBe(STARTER_CONFIG);
  });

  it('says when the folder does not exist', async () => {
    const e = await runInit(join(dir, 'no/such/dir/graft.yaml'), false).catch((x: unknown) => x);
    expect(isGraftError(e, 'OUTPUT_UNWRITABLE')).toBe(true);
  });
});

import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('freezing guide', () => {
  it('shows what bench/results/freezeExperiment.json holds (tables, chart, JSON copy)', () => {
    // --check exits non-zero, naming the stale files, when the page lags the results.
    const out = execFileSync(
      process.execPath,
      [resolve(docs, 'scripts/freezeTables.mjs'), '--check'],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toMatch(/match bench\/results/);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportedNames, repoRoot } from './apiDocs';
import { apiLinkGaps } from './guideLinks';

const root = repoRoot(fileURLToPath(import.meta.url));
const guides = join(root, 'apps/docs/guides');
const pages = [
  'index.md',
  'demo.md',
  ...readdirSync(join(guides, 'guide'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `guide/${f}`),
];

describe('guides link the first mention of each API symbol to its API page', () => {
  const names = new Set(
    Object.values(exportedNames(root, ['core', 'datasets', 'heads', 'freeze'])).flat(),
  );
  for (const page of pages) {
    it(page, () => {
      const gaps = apiLinkGaps(readFileSync(join(guides, page), 'utf8'), names).map(
        (g) => `${page}:${g.line} ${g.name}`,
      );
      expect(gaps).toEqual([]);
    });
  }
});

describe('apiLinkGaps', () => {
  const names = new Set(['multiTaskModel', 'Trainer', 'headsOnly']);
  it('accepts a linked first mention and ignores later ones, code blocks and headings', () => {
    const md = [
      '# `Trainer` in a heading',
      'Use [`multiTaskModel({ backbone })`](../api/heads/functions/multiTaskModel.md), then `multiTaskModel` again.',
      '```ts',
      'new Trainer({ model });',
      '```',
      'A [`new Trainer(...)`](../api/core/classes/Trainer.md).',
    ].join('\n');
    expect(apiLinkGaps(md, names)).toEqual([]);
  });

  it('reports an unlinked first mention, and one linked to a guide instead', () => {
    const md = 'Freeze with [`headsOnly`](./freezing.md) and train with `Trainer`.';
    expect(apiLinkGaps(md, names)).toEqual([
      { line: 1, name: 'headsOnly' },
      { line: 1, name: 'Trainer' },
    ]);
  });
});

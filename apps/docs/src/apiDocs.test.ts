import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot, undocumentedExports } from './apiDocs';

const root = repoRoot(fileURLToPath(import.meta.url));
const packages = ['core', 'datasets', 'heads', 'freeze'] as const;
// The main classes whose public methods are checked too.
const methodsOf = ['Trainer', 'Block', 'ParamOptimizer'];

describe('API docs: every public export has a doc comment with an @example', () => {
  for (const pkg of packages) {
    it(`@graft/${pkg}`, () => {
      const offenders = undocumentedExports(root, [pkg], { methods: methodsOf }).map(
        (o) => `${o.name} (${o.file}: no ${o.missing === 'comment' ? 'doc comment' : '@example'})`,
      );
      expect(offenders, `@graft/${pkg} exports without a doc comment with an @example`).toEqual([]);
    });
  }
});

describe('undocumentedExports', () => {
  it('finds a missing comment, a comment without @example, and an undocumented method', () => {
    const dir = mkdtempSync(join(tmpdir(), 'graft-apidocs-'));
    try {
      mkdirSync(join(dir, 'packages/p/src'), { recursive: true });
      writeFileSync(
        join(dir, 'packages/p/src/index.ts'),
        [
          "export { a, b, c, K, T } from './things';",
          '/** Documented.\n * @example\n * ```ts\n * d + 1;\n * ```\n */',
          'export const d = 1;',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'packages/p/src/things.ts'),
        [
          'export function a() {}',
          '/** Says what, no example. */',
          'export function b() {}',
          '/**\n * @example\n * ```ts\n * c();\n * ```\n */',
          'export function c() {}',
          '/**\n * @example\n * ```ts\n * new K().run();\n * ```\n */',
          'export class K { run() {} private hidden() {} }',
          'export type T = number;',
        ].join('\n'),
      );
      const found = undocumentedExports(dir, ['p'], { methods: true })
        .map((o) => `${o.name}:${o.missing}`)
        .sort();
      expect(found).toEqual(['K.run:comment', 'T:comment', 'a:comment', 'b:example']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

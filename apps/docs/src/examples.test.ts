// Every `ts` code block in the guides runs here (Node, graft's WASM backend), so the guides
// cannot drift from the API. Each block is written to .examples/ (git-ignored) as a module
// and imported; a block that throws fails with its file and line.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type CodeBlock, extractCodeBlocks } from './codeBlocks';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const guides = join(docs, 'guides');
const out = join(docs, '.examples');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'api' || e.name === 'public' ? [] : markdownFiles(p);
    return e.name.endsWith('.md') ? [p] : [];
  });
}

const blocks: CodeBlock[] = markdownFiles(guides).flatMap((f) =>
  extractCodeBlocks(readFileSync(f, 'utf8'), relative(guides, f)).filter((b) => b.lang === 'ts'),
);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('guide examples', () => {
  it('finds the examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  for (const block of blocks) {
    it(`${block.file}:${block.line}`, async () => {
      const name = `${block.file.replace(/[^\w]+/g, '_')}_L${block.line}.ts`;
      const file = join(out, name);
      writeFileSync(file, `${block.code}\nexport {};\n`);
      // GRAFT_EXAMPLES_VERBOSE=1 shows what the examples print.
      const quiet = !process.env.GRAFT_EXAMPLES_VERBOSE;
      const log = vi.spyOn(console, 'log');
      const table = vi.spyOn(console, 'table');
      if (quiet) log.mockImplementation(() => {});
      if (quiet) table.mockImplementation(() => {});
      try {
        await import(/* @vite-ignore */ file);
      } catch (e) {
        throw new Error(
          `${block.file}:${block.line}: example failed: ${e instanceof Error ? e.message : e}`,
        );
      } finally {
        log.mockRestore();
        table.mockRestore();
      }
    });
  }
});

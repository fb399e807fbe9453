import { describe, expect, it } from 'vitest';
import { extractCodeBlocks } from './codeBlocks';

describe('extractCodeBlocks', () => {
  it('finds fenced blocks with language and line, ignoring prose', () => {
    const md = [
      '# Title',
      '',
      '```ts',
      'const a = 1;',
      '```',
      'text',
      '```bash',
      'npm test',
      '```',
    ];
    expect(extractCodeBlocks(md.join('\n'), 'guide.md')).toEqual([
      { file: 'guide.md', line: 3, lang: 'ts', code: 'const a = 1;' },
      { file: 'guide.md', line: 7, lang: 'bash', code: 'npm test' },
    ]);
  });

  it('keeps a shorter fence inside a longer one', () => {
    const md = ['````md', '```ts', 'x', '```', '````'].join('\n');
    expect(extractCodeBlocks(md)).toEqual([
      { file: '<inline>', line: 1, lang: 'md', code: '```ts\nx\n```' },
    ]);
  });

  it('names the file and line of an unclosed block', () => {
    expect(() => extractCodeBlocks('a\n```ts\nconst x = 1;', 'quick.md')).toThrow(
      'quick.md:2: code block is never closed',
    );
  });
});

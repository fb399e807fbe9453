/** A fenced code block found in a guide, with where it is, so a failing example can be named. */
export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
}

const FENCE = /^(```+|~~~+)\s*([\w-]*)[^\n]*$/;

/**
 * Extracts fenced code blocks from markdown. The docs' example tests run every `ts` block,
 * so the guides cannot drift from the API.
 */
export function extractCodeBlocks(markdown: string, file = '<inline>'): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  let open: { fence: string; lang: string; line: number; body: string[] } | null = null;
  lines.forEach((text, i) => {
    const m = FENCE.exec(text.trim());
    if (!open) {
      if (m) open = { fence: m[1] as string, lang: m[2] ?? '', line: i + 1, body: [] };
      return;
    }
    if (m && text.trim().startsWith(open.fence) && (m[2] ?? '') === '') {
      blocks.push({ file, line: open.line, lang: open.lang, code: open.body.join('\n') });
      open = null;
      return;
    }
    open.body.push(text);
  });
  if (open) {
    const o = open as { line: number };
    throw new Error(`${file}:${o.line}: code block is never closed`);
  }
  return blocks;
}

// Guides link the first mention of each API symbol to its TypeDoc page, so a reader meeting
// `multiTaskModel` in prose is one click from its options and example. This finds the first
// mentions that are not such links. Which kind folder the link names (functions/,
// interfaces/, ...) is checked by the docs build, which fails on a dead link.

export interface LinkGap {
  /** 1-based line of the first mention. */
  line: number;
  name: string;
}

/**
 * First prose mentions (in backticks, outside code blocks and headings) of `names` in a
 * Markdown page that are not links to `.../api/<package>/<kind>/<name>.md`.
 *
 * @example
 * ```ts
 * apiLinkGaps('Train with `multiTaskModel`.', new Set(['multiTaskModel'])); // [{ line: 1, name: 'multiTaskModel' }]
 * ```
 */
export function apiLinkGaps(markdown: string, names: ReadonlySet<string>): LinkGap[] {
  const gaps: LinkGap[] = [];
  const seen = new Set<string>();
  let inCode = false;
  const mention = /(\[)?`(?:new )?([A-Za-z_][A-Za-z0-9_]*)(?:\([^`]*\))?`(?:\]\(([^)\s]*)\))?/g;
  markdown.split('\n').forEach((text, i) => {
    if (text.startsWith('```')) {
      inCode = !inCode;
      return;
    }
    if (inCode || text.startsWith('#')) return;
    for (const m of text.matchAll(mention)) {
      const name = m[2] as string;
      if (!names.has(name) || seen.has(name)) continue;
      seen.add(name);
      const target = m[3] ?? '';
      const linked =
        m[1] === '[' &&
        /(^|\/)api\/[a-z]+\/[a-z-]+\//.test(target) &&
        target.endsWith(`/${name}.md`);
      if (!linked) gaps.push({ line: i + 1, name });
    }
  });
  return gaps;
}

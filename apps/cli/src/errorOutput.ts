/**
 * What `graft` prints when a command fails. A user's mistake is one line, `graft: <what>
 * (<where>). <hint>`, never a stack: GraftErrors are written to be read on their own, and a
 * bad option value (commander's InvalidArgumentError, thrown from an action) is one line too.
 * Anything else is a bug in graft: one line saying so, the stack only when asked for with
 * --verbose, GRAFT_DEBUG=1 or DEBUG=graft (DEBUG=*), with the chain of causes.
 */

interface ErrorLike {
  name?: string;
  message?: string;
  stack?: string;
  code?: unknown;
  cause?: unknown;
}

/** --verbose anywhere before `--`, GRAFT_DEBUG set (not 0), or DEBUG naming graft or `*`. */
export function isVerbose(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.includes('--verbose')) return true;
  const debug = env.GRAFT_DEBUG;
  if (debug !== undefined && debug !== '' && debug !== '0') return true;
  return (env.DEBUG ?? '')
    .split(/[\s,]+/)
    .some((d) => d === '*' || d === 'graft' || d === 'graft:*');
}

/** argv without the --verbose flag (it is read by the bin, not by a command). */
export function withoutVerbose(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.filter((a, i) => a !== '--verbose' || (end >= 0 && i > end));
}

function isUserError(e: ErrorLike): boolean {
  return (
    e.name === 'GraftError' ||
    (typeof e.code === 'string' && e.code.startsWith('commander.')) ||
    e.name === 'InvalidArgumentError'
  );
}

/** The stack, then each cause's stack, indented as Node prints them. */
function stacks(e: unknown): string {
  const out: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const err = current as ErrorLike;
    const text = err.stack ?? String(current);
    out.push(depth === 0 ? text : `caused by: ${text}`);
    current = err.cause;
  }
  return out.join('\n');
}

/** The text for stderr: one line, or with `verbose` that line then the stacks. */
export function errorOutput(e: unknown, options: { verbose: boolean }): string {
  const err = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as ErrorLike;
  const message = err.message ?? String(e);
  const line = isUserError(err)
    ? `graft: ${message}`
    : `graft: unexpected error: ${message.split('\n')[0]} [a bug in graft: run again with --verbose for the stack trace, and please report it]`;
  return options.verbose ? `${line}\n${stacks(e)}` : line;
}

/** Where commands send progress: text lines for people, JSON lines for scripts. */
export interface Reporter {
  info(message: string, data?: Record<string, unknown>): void;
  progress(data: Record<string, unknown>, text: string): void;
  summary(data: Record<string, unknown>, text: string): void;
}

export function createReporter(options: { json: boolean; quiet: boolean }): Reporter {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (options.json) {
    return {
      info: (message, data) =>
        options.quiet || out(JSON.stringify({ type: 'info', message, ...data })),
      progress: (data) => options.quiet || out(JSON.stringify({ type: 'progress', ...data })),
      summary: (data) => out(JSON.stringify({ type: 'summary', ...data })),
    };
  }
  return {
    info: (message) => options.quiet || out(message),
    progress: (_data, text) => options.quiet || out(text),
    summary: (_data, text) => out(text),
  };
}

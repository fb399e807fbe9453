import type { EpochLogs } from '@graft/core';
import { type StepProgress, stepProgress } from './progressBar';

/** Where commands send progress: text lines for people, JSON lines for scripts. */
export interface Reporter {
  info(message: string, data?: Record<string, unknown>): void;
  progress(data: Record<string, unknown>, text: string): void;
  summary(data: Record<string, unknown>, text: string): void;
  /**
   * A bar over each epoch's steps: present only for a person at a terminal (stdout is a TTY,
   * neither --json nor --quiet). Every line the reporter prints removes the bar first.
   */
  readonly steps?: StepProgress;
}

/**
 * `reporter`, with every line it prints also appended to a run's log (`run.log` of a run
 * directory), so the log reads like the session. The step bar stays with `reporter`.
 */
export function alsoLoggedTo(log: (line: string) => void, reporter: Reporter): Reporter {
  return {
    info: (message, data) => {
      log(message);
      reporter.info(message, data);
    },
    progress: (data, text) => {
      log(text);
      reporter.progress(data, text);
    },
    summary: (data, text) => {
      log(text);
      reporter.summary(data, text);
    },
  };
}

/**
 * The per-epoch summary line every training command prints: loss per task, validation loss,
 * time; with the same numbers as data for --json.
 */
export function reportEpoch(reporter: Reporter, logs: EpochLogs, epochs: number): void {
  const tasks = Object.entries(logs.taskLosses)
    .map(([t, l]) => `${t} ${l.toFixed(3)}`)
    .join(', ');
  const v = logs.validation?.loss;
  reporter.progress(
    { epoch: logs.epoch + 1, epochs, loss: logs.loss, validationLoss: v },
    `epoch ${logs.epoch + 1}/${epochs}  loss ${logs.loss.toFixed(3)} (${tasks})${v === undefined ? '' : `  validation ${v.toFixed(3)}`}  ${logs.seconds.toFixed(1)} s`,
  );
}

export interface ReporterOptions {
  json: boolean;
  quiet: boolean;
  /** Default `process.stdout`. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function createReporter(options: ReporterOptions): Reporter {
  const stream = options.stream ?? process.stdout;
  const steps =
    stream.isTTY === true && !options.json && !options.quiet ? stepProgress(stream) : undefined;
  const out = (line: string) => {
    steps?.stop();
    stream.write(`${line}\n`);
  };
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
    ...(steps ? { steps } : {}),
  };
}

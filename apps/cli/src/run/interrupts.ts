/**
 * The exit codes of `graft`, documented in `graft --help` and the CLI's README. A signal
 * that stopped a run gives the shell's usual 128 + signal number, so scripts can tell "I
 * stopped it" (a checkpoint was saved) from "it failed".
 */
export const EXIT_CODES = {
  ok: 0,
  /** A user mistake or a failed run: one `graft: ...` line on stderr. */
  error: 1,
  /** Ctrl-C: the run saved a checkpoint; `--resume` continues it. */
  SIGINT: 130,
  /** SIGTERM (e.g. a job scheduler): as Ctrl-C. */
  SIGTERM: 143,
} as const;

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Ctrl-C and SIGTERM while a run is going: a request to stop cleanly at the next step. */
export interface InterruptWatch {
  /** The first signal received, if any. */
  readonly signal: StopSignal | undefined;
  dispose(): void;
}

/**
 * Takes over SIGINT and SIGTERM: the first one is only recorded (training stops after its
 * current step and saves a checkpoint; `onSignal` can say so); a second one exits at once,
 * which is still safe since every file is written atomically.
 */
export function watchInterrupts(onSignal: (signal: StopSignal) => void): InterruptWatch {
  let received: StopSignal | undefined;
  const handler = (signal: StopSignal) => {
    if (received !== undefined) {
      process.exit(EXIT_CODES[signal]);
      return;
    }
    received = signal;
    onSignal(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get signal() {
      return received;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * For commands with no checkpoint to resume from (demo, compare): the first Ctrl-C or SIGTERM
 * stops at once, leaving no half-written folder (`run.discardSync()` keeps only the log), prints
 * `message(signal, keptLog)` and exits with the signal's code.
 */
export function discardOnInterrupt(
  run: { log(line: string): void; discardSync(): string | undefined },
  message: (signal: StopSignal, keptLog: string | undefined) => string,
): InterruptWatch {
  return watchInterrupts((signal) => {
    run.log(`stopped by ${signal}`);
    const kept = run.discardSync();
    process.stderr.write(`${message(signal, kept)}\n`);
    process.exit(EXIT_CODES[signal]);
  });
}

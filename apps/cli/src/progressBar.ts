import { SingleBar } from 'cli-progress';

/** What a step bar shows after each step. */
export interface StepValues {
  /** The step's (weighted) training loss. */
  loss: number;
  /** The last epoch's validation numbers, e.g. "val loss 0.52  colour/mAP 0.81". */
  metric?: string;
}

/**
 * A progress bar over the steps of one epoch: steps done, ETA, loss and the key validation
 * metric. Only people at a terminal see one; scripts get plain per-epoch lines.
 */
export interface StepProgress {
  /** Shows a bar for `label` (e.g. "epoch 2/6") over `steps` steps. */
  start(label: string, steps: number): void;
  update(done: number, values: StepValues): void;
  /** Removes the bar (the epoch's summary line takes its place); harmless when none is shown. */
  stop(): void;
}

export function stepProgress(stream: NodeJS.WritableStream): StepProgress {
  let bar: SingleBar | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    start(label, steps) {
      stop();
      bar = new SingleBar({
        stream,
        format: '{label} [{bar}] {value}/{total} | ETA {eta_formatted} | loss {loss}{metric}',
        barsize: 24,
        clearOnComplete: true,
        hideCursor: false,
        // graft handles Ctrl-C itself (checkpoint, then exit); the bar must not add a listener.
        gracefulExit: false,
        etaBuffer: 20,
      });
      bar.start(steps, 0, { label, loss: '-', metric: '' });
    },
    update(done, values) {
      bar?.update(done, {
        loss: Number.isFinite(values.loss) ? values.loss.toFixed(3) : String(values.loss),
        metric: values.metric ? ` | ${values.metric}` : '',
      });
    },
    stop,
  };
}

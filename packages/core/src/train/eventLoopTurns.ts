/**
 * Gives the host's event loop a turn every `intervalMs` of a long loop. A `for await` over
 * in-memory batches only ever awaits resolved promises, which run as microtasks: without
 * this, a whole `fit` never lets Node run a signal handler (Ctrl-C waits for the end of
 * training) nor lets a browser page handle input or paint. The turn does not touch tensors,
 * so training results are the same with or without it.
 *
 * @example
 * ```ts
 * const turns = eventLoopTurns(50);
 * for (const batch of batches) {
 *   step(batch);
 *   await turns.maybeYield(); // at most every 50 ms
 * }
 * ```
 */
export interface EventLoopTurns {
  /** Yields to the event loop when `intervalMs` have passed since the last turn. */
  maybeYield(): Promise<void>;
}

export function eventLoopTurns(intervalMs = 50): EventLoopTurns {
  let last = performance.now();
  return {
    async maybeYield() {
      if (performance.now() - last < intervalMs) return;
      await nextMacrotask();
      last = performance.now();
    },
  };
}

/** setImmediate where there is one (Node); a zero timeout otherwise (browsers). */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

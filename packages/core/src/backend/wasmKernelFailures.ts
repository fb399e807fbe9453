/**
 * tfjs-backend-wasm reports a kernel that could not run (XNNPACK failing to create or set up
 * an operator, typically because the 4 GiB WASM heap is full) only as a line on stderr, and
 * then carries on: the kernel's output is whatever memory held, and training continues on
 * wrong numbers. The backend prints through `console.warn` as it was when the module was
 * created (Emscripten binds it then), so graft puts a watcher there just for that moment:
 * every line still reaches the original `console.warn`, and one naming a failed XNNPACK
 * operator is also recorded here for the Trainer to turn into an error. Not covered: the
 * threaded build in Node (`initBackend({ threads: n > 1 })`, not the default) writes straight
 * to stderr's file descriptor, past console.warn.
 *
 * @example
 * ```ts
 * const restore = watchWasmKernelFailures();
 * await tf.setBackend('wasm'); // the module binds the watcher
 * restore();
 * // ... after a training step:
 * const failure = takeWasmKernelFailure(); // e.g. 'XNN status for xnn_create_... Got status 6.'
 * ```
 */
export function watchWasmKernelFailures(): () => void {
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    noteWasmMessage(args.map(String).join(' '));
    original.apply(console, args);
  };
  return () => {
    console.warn = original;
  };
}

let pending: string | undefined;

/** Records `text` when it says an XNNPACK operator failed (exported for tests). */
export function noteWasmMessage(text: string): void {
  if (pending === undefined && /XNN status for \w+ is not successful/.test(text)) pending = text;
}

/** The first kernel failure reported since the last call, if any; clears it. */
export function takeWasmKernelFailure(): string | undefined {
  const failure = pending;
  pending = undefined;
  return failure;
}

/** XNNPACK's status 6 is xnn_status_out_of_memory. */
export function isOutOfMemory(failure: string): boolean {
  return /Got status 6\b/.test(failure);
}

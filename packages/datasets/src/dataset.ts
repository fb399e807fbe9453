/**
 * An image (or any array input) as graft's pipeline sees it before batching: a flat
 * Float32Array in HWC order with its shape.
 */
export interface ExampleInput {
  data: Float32Array;
  shape: readonly number[];
}

/**
 * A target for one task. `null` means the label is missing (a "?" in the source notes'
 * label matrix): it contributes nothing to that task's loss.
 */
export type Target = number | readonly number[] | null;

export interface Example {
  id: string;
  input: ExampleInput;
  /** One entry per task name. */
  targets: Readonly<Record<string, Target>>;
}

/**
 * The contract every adapter and generator returns: a known size and async iteration, so
 * a dataset larger than memory can stream.
 */
export interface Dataset {
  readonly size: number;
  /** Task names every example carries a (possibly null) target for. */
  readonly tasks: readonly string[];
  [Symbol.asyncIterator](): AsyncIterator<Example>;
}

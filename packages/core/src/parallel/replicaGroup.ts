import { GraftError } from '../errors';

/**
 * The shared memory of a data-parallel group: created once (by whoever starts the replicas)
 * and handed to every replica, e.g. through a worker's `workerData`. Structured-cloneable.
 *
 * @example
 * ```ts
 * const shared: ReplicaGroupMemory = createReplicaGroupMemory({ replicas: 2, capacity: 1_000_000 });
 * // hand `shared` to each replica's thread (e.g. in a worker's workerData), then there:
 * const group = new ReplicaGroup(shared, 1);
 * ```
 */
export interface ReplicaGroupMemory {
  readonly replicas: number;
  /** Floats each replica may contribute per reduction. */
  readonly capacity: number;
  /** Barrier, abort and stop words ({@link CONTROL}). */
  readonly control: SharedArrayBuffer;
  /** One slot of `capacity` floats per replica, then the reduced result (`capacity` floats). */
  readonly values: SharedArrayBuffer;
  /** Each replica's scale for the current reduction (float64, one per replica). */
  readonly scales: SharedArrayBuffer;
}

/** Words of `control`. */
const CONTROL = {
  /** Replicas that reached the current barrier. */
  arrived: 0,
  /** Barriers passed so far: waiters sleep on this word. */
  generation: 1,
  /** 1 + the rank of the first replica that failed; 0 while none has. */
  failedRank: 2,
  /** Set by {@link requestReplicaStop}: the replicas stop together after their current step. */
  stopRequested: 3,
} as const;
const CONTROL_WORDS = 4;

/**
 * Allocates the shared memory for `replicas` replicas that each contribute up to `capacity`
 * floats per reduction (gradients plus a few bookkeeping values).
 *
 * @example
 * ```ts
 * const shared = createReplicaGroupMemory({ replicas: 2, capacity: 500_000 });
 * ```
 */
export function createReplicaGroupMemory(options: {
  replicas: number;
  capacity: number;
}): ReplicaGroupMemory {
  const { replicas, capacity } = options;
  if (!(Number.isInteger(replicas) && replicas >= 1)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `replicas must be a whole number >= 1, got ${replicas}`,
      {
        where: 'createReplicaGroupMemory',
      },
    );
  }
  if (!(Number.isInteger(capacity) && capacity >= 1)) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `capacity must be a whole number >= 1, got ${capacity}`,
      {
        where: 'createReplicaGroupMemory',
      },
    );
  }
  return {
    replicas,
    capacity,
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
    values: new SharedArrayBuffer((replicas + 1) * capacity * 4),
    scales: new SharedArrayBuffer(replicas * 8),
  };
}

/**
 * Asks every replica of the group to stop after the step it is in (e.g. on Ctrl-C in the
 * thread that started them); they agree on it, so all stop after the same step.
 *
 * @example
 * ```ts
 * process.once('SIGINT', () => requestReplicaStop(shared));
 * ```
 */
export function requestReplicaStop(memory: ReplicaGroupMemory): void {
  const control = new Int32Array(memory.control);
  Atomics.store(control, CONTROL.stopRequested, 1);
}

/**
 * One replica's handle on its group: a barrier and a deterministic all-reduce over shared
 * memory, for data-parallel training where every replica trains a copy of the same model on
 * its own rows of each batch and all replicas apply the same averaged gradients.
 *
 * By default waiting uses `Atomics.waitAsync`, so a replica never blocks its thread and
 * replicas can run side by side in one thread (the tests do); in a worker that only trains,
 * `{ blocking: true }` waits with `Atomics.wait` (fitDataParallel's replicas, one core each).
 * Sums are taken in float64 over the replicas in rank order, each element by exactly one
 * replica and read by all, so every replica gets the same bits: the model copies stay
 * identical without ever exchanging weights.
 *
 * @example
 * ```ts
 * const group = new ReplicaGroup(shared, rank);
 * const sum = await group.allReduceSum(3, (slot) => slot.set([1, 2, 3]));
 * ```
 */
export class ReplicaGroup {
  readonly rank: number;
  readonly size: number;
  readonly capacity: number;
  private readonly control: Int32Array;
  /** Each replica's slot, by rank. */
  private readonly slots: Float32Array[];
  private readonly scales: Float64Array;
  private readonly result: Float32Array;

  private readonly blocking: boolean;

  /**
   * `options.blocking`: wait with `Atomics.wait`, which blocks the thread (fine, and quicker,
   * in a worker that only trains); the default waits asynchronously, so several replicas can
   * share a thread. A worker must not wait asynchronously with nothing else pending: Node
   * ends a worker whose event loop is empty, and a pending `Atomics.waitAsync` does not count.
   */
  constructor(memory: ReplicaGroupMemory, rank: number, options: { blocking?: boolean } = {}) {
    if (!(Number.isInteger(rank) && rank >= 0 && rank < memory.replicas)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `rank must be a whole number in [0, ${memory.replicas}), got ${rank}`,
        { where: 'ReplicaGroup' },
      );
    }
    this.rank = rank;
    this.blocking = options.blocking ?? false;
    this.size = memory.replicas;
    this.capacity = memory.capacity;
    this.control = new Int32Array(memory.control);
    this.slots = Array.from(
      { length: memory.replicas },
      (_, r) => new Float32Array(memory.values, r * memory.capacity * 4, memory.capacity),
    );
    this.scales = new Float64Array(memory.scales);
    this.result = new Float32Array(
      memory.values,
      memory.replicas * memory.capacity * 4,
      memory.capacity,
    );
  }

  /**
   * Element-wise sum of every replica's `length` floats. `fill` writes this replica's values
   * into the slot it is given; the returned view holds the sums until the next call.
   *
   * `options.scale` multiplies this replica's first `options.scaledLength` values in the sum
   * (every replica must pass the same `scaledLength`): a weighted sum without a pass of its own
   * over the values, so `fill` can copy them in with one `set`.
   */
  async allReduceSum(
    length: number,
    fill: (slot: Float32Array) => void,
    where = 'ReplicaGroup.allReduceSum',
    options: { scale?: number; scaledLength?: number } = {},
  ): Promise<Float32Array> {
    if (length > this.capacity) {
      throw new GraftError(
        'REPLICA_MISMATCH',
        `The replicas need to exchange ${length} values per step, more than the ${this.capacity} their shared memory holds`,
        { where, hint: 'Create the group memory with a larger capacity.' },
      );
    }
    const scaledLength = Math.min(length, options.scaledLength ?? 0);
    this.scales[this.rank] = options.scale ?? 1;
    fill((this.slots[this.rank] as Float32Array).subarray(0, length));
    await this.barrier(where); // every slot and scale is written
    // Each replica sums its own shard of the elements; all shards together cover them once.
    const shard = Math.ceil(length / this.size);
    const from = Math.min(length, this.rank * shard);
    const to = Math.min(length, from + shard);
    const split = Math.max(from, Math.min(to, scaledLength));
    sumShard(this.result, this.slots, this.scales, from, split);
    sumShard(this.result, this.slots, undefined, split, to);
    // Every shard is summed. The slots are free again (all replicas have read them); the
    // result stays valid until each replica has come back for the next reduction.
    await this.barrier(where);
    return this.result.subarray(0, length);
  }

  /** Whether the starting thread asked the replicas to stop ({@link requestReplicaStop}). */
  stopRequested(): boolean {
    return Atomics.load(this.control, CONTROL.stopRequested) === 1;
  }

  /**
   * Marks the group failed (this replica hit an error) and wakes every replica waiting at a
   * barrier: they throw REPLICA_FAILED instead of waiting forever. Safe to call twice.
   */
  fail(): void {
    Atomics.compareExchange(this.control, CONTROL.failedRank, 0, this.rank + 1);
    Atomics.notify(this.control, CONTROL.generation);
  }

  /** Waits until every replica has arrived here. */
  async barrier(where = 'ReplicaGroup.barrier'): Promise<void> {
    const control = this.control;
    this.throwIfFailed(where);
    const generation = Atomics.load(control, CONTROL.generation);
    if (Atomics.add(control, CONTROL.arrived, 1) === this.size - 1) {
      Atomics.store(control, CONTROL.arrived, 0);
      Atomics.add(control, CONTROL.generation, 1);
      Atomics.notify(control, CONTROL.generation);
      return;
    }
    while (Atomics.load(control, CONTROL.generation) === generation) {
      if (this.blocking) Atomics.wait(control, CONTROL.generation, generation);
      else await waitForChange(control, CONTROL.generation, generation);
      this.throwIfFailed(where);
    }
  }

  private throwIfFailed(where: string): void {
    const failed = Atomics.load(this.control, CONTROL.failedRank);
    if (failed === 0) return;
    throw new GraftError(
      'REPLICA_FAILED',
      failed - 1 === this.rank
        ? `This replica (${this.rank} of ${this.size}) failed; the group stopped`
        : `Replica ${failed - 1} of ${this.size} failed, so replica ${this.rank} stopped too`,
      { where, hint: "The failing replica's own error says what went wrong." },
    );
  }
}

/**
 * result[j] = sum over replicas r, in rank order, of scale_r * slot_r[j] (scale 1 without
 * `scales`), in float64, for j in [from, to). Two replicas, the common case, get a loop of
 * their own, without the inner loop over replicas; both loops add in the same order, so they
 * give the same bits.
 */
function sumShard(
  result: Float32Array,
  slots: readonly Float32Array[],
  scales: Float64Array | undefined,
  from: number,
  to: number,
): void {
  if (slots.length === 2) {
    const a = slots[0] as Float32Array;
    const b = slots[1] as Float32Array;
    if (scales) {
      const sa = scales[0] as number;
      const sb = scales[1] as number;
      for (let j = from; j < to; j++) result[j] = sa * (a[j] as number) + sb * (b[j] as number);
    } else {
      for (let j = from; j < to; j++) result[j] = (a[j] as number) + (b[j] as number);
    }
    return;
  }
  for (let j = from; j < to; j++) {
    let sum = 0;
    for (let r = 0; r < slots.length; r++) {
      sum += (scales ? (scales[r] as number) : 1) * ((slots[r] as Float32Array)[j] as number);
    }
    result[j] = sum;
  }
}

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: boolean; value: Promise<unknown> | unknown };

/**
 * Resolves once `array[index]` may no longer be `value` (woken by `Atomics.notify`), without
 * blocking the thread. `Atomics.waitAsync` is ES2024 (Node 16+, Chromium); elsewhere this
 * polls once per macrotask.
 */
async function waitForChange(array: Int32Array, index: number, value: number): Promise<void> {
  const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
  if (waitAsync) {
    const wait = waitAsync(array, index, value);
    if (wait.async) await wait.value;
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
}

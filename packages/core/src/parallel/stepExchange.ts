import type * as tf from '@tensorflow/tfjs-core';
import { heapValues } from '../kernels/heapViews';
import type { Param } from '../nn/param';

/**
 * What the replicas of a data-parallel step exchange, as one flat float vector per replica,
 * summed by `ReplicaGroup.allReduceSum`. Each replica's part is weighted so that the sums are
 * the step's numbers over the whole batch. Gradients and statistics, the bulk, are copied in
 * as they are and weighted inside the sum (`scale: w`, the first {@link scaledExchangeLength}
 * values); the bookkeeping after them is weighted here:
 *
 * | part                 | each replica contributes                 | the sum is                          |
 * | -------------------- | ---------------------------------------- | ----------------------------------- |
 * | gradients            | w * its gradient (w = its rows / rows)   | the row-weighted mean gradient      |
 * | moving statistics    | w * its statistics after the forward     | their row-weighted mean             |
 * | has a gradient       | 1 per parameter that got a gradient      | > 0 where any replica's did         |
 * | loss                 | w * its loss                             | the batch's loss                    |
 * | per task             | n_t * loss_t, n_t (labelled), w * loss_t | sum(n L), labelled count, fallback  |
 * | rows                 | the batch's rows, its own rows           | replicas * rows, rows (a check)     |
 * | stop                 | 1 if it (or the starting thread) asks    | > 0: every replica stops here       |
 *
 * With one replica this is the ordinary step, apart from float rounding; with several, batch
 * norm normalises over each replica's rows ("ghost" batch norm) and a masked task's loss is
 * weighted per replica by rows, not by labelled entries (as PyTorch's DistributedDataParallel
 * averages each replica's mean loss).
 */
export interface StepExchangeLayout {
  readonly params: readonly Param[];
  readonly statistics: readonly Param[];
  readonly tasks: number;
}

/** Numbers of one replica's step (its `dataSync` readout), absent when it had no rows. */
export interface LocalStep {
  grads: Readonly<Record<string, tf.Tensor>>;
  loss: number;
  taskLosses: number[];
  labelled: number[];
}

/** The step over the whole batch, read from the sums. Views into the group's memory. */
export interface ReducedStep {
  /** Per parameter name: the mean gradient, for parameters any replica had one for. */
  grads: Map<string, Float32Array>;
  /** Per moving-statistic name: the mean of the replicas' updated values. */
  statistics: Map<string, Float32Array>;
  loss: number;
  taskLosses: number[];
  labelled: number[];
  /** Sum over replicas of the batch rows each saw, and of the rows each trained on. */
  rowsSeen: number;
  rowsTrained: number;
  /** Some replica asked to stop: the group skips this step and stops. */
  stop: boolean;
}

const PER_TASK = 3;
const TAIL = 1 + 2 + 1; // loss; rows seen, rows trained; stop

function sizeOf(params: readonly Param[]): number {
  return params.reduce((n, p) => n + p.variable.size, 0);
}

/** How many leading values (gradients, statistics) the sum weights by each replica's w. */
export function scaledExchangeLength(layout: StepExchangeLayout): number {
  return sizeOf(layout.params) + sizeOf(layout.statistics);
}

/** A replica's weight in the sums: its share of the batch's rows. */
export function replicaWeight(rows: { batch: number; mine: number }): number {
  return rows.batch > 0 ? rows.mine / rows.batch : 0;
}

/** Floats one replica contributes per step for this layout. */
export function stepExchangeLength(layout: StepExchangeLayout): number {
  return (
    sizeOf(layout.params) +
    sizeOf(layout.statistics) +
    layout.params.length +
    TAIL +
    PER_TASK * layout.tasks
  );
}

/**
 * Writes this replica's contribution into `slot`; the sum weights its first
 * {@link scaledExchangeLength} values by {@link replicaWeight}. `step` is undefined for a
 * replica that got no rows of this batch: it contributes zeros (and its batch rows, for the
 * check).
 */
export function packStep(
  slot: Float32Array,
  layout: StepExchangeLayout,
  step: LocalStep | undefined,
  { rows, stop }: { rows: { batch: number; mine: number }; stop: boolean },
): void {
  const w = replicaWeight(rows);
  let at = 0;
  for (const p of layout.params) {
    const grad = step?.grads[p.variable.name];
    const n = p.variable.size;
    if (grad) slot.set(heapValues(grad), at);
    else slot.fill(0, at, at + n);
    at += n;
  }
  for (const p of layout.statistics) {
    const n = p.variable.size;
    if (step) slot.set(heapValues(p.variable), at);
    else slot.fill(0, at, at + n);
    at += n;
  }
  for (const p of layout.params) slot[at++] = step?.grads[p.variable.name] ? 1 : 0;
  slot[at++] = step ? w * step.loss : 0;
  slot[at++] = rows.batch;
  slot[at++] = rows.mine;
  slot[at++] = stop ? 1 : 0;
  for (let t = 0; t < layout.tasks; t++) {
    const loss = step ? (step.taskLosses[t] as number) : 0;
    const n = step ? (step.labelled[t] as number) : 0;
    // n_t * loss_t is 0 for a task without labels, even if its loss is 0/0 = NaN.
    slot[at++] = n > 0 ? n * loss : 0;
    slot[at++] = n;
    slot[at++] = w * loss;
  }
}

/** Reads the whole batch's step from the group's sums. */
export function unpackStep(sums: Float32Array, layout: StepExchangeLayout): ReducedStep {
  const grads = new Map<string, Float32Array>();
  const statistics = new Map<string, Float32Array>();
  let at = 0;
  const gradAt: [Param, number][] = [];
  for (const p of layout.params) {
    gradAt.push([p, at]);
    at += p.variable.size;
  }
  for (const p of layout.statistics) {
    statistics.set(p.name, sums.subarray(at, at + p.variable.size));
    at += p.variable.size;
  }
  for (const [p, from] of gradAt) {
    if ((sums[at++] as number) > 0) {
      grads.set(p.variable.name, sums.subarray(from, from + p.variable.size));
    }
  }
  const loss = sums[at++] as number;
  const rowsSeen = sums[at++] as number;
  const rowsTrained = sums[at++] as number;
  const stop = (sums[at++] as number) > 0;
  const taskLosses: number[] = [];
  const labelled: number[] = [];
  for (let t = 0; t < layout.tasks; t++) {
    const weighted = sums[at++] as number;
    const n = sums[at++] as number;
    const byRows = sums[at++] as number;
    labelled.push(n);
    taskLosses.push(n > 0 ? weighted / n : byRows);
  }
  return { grads, statistics, loss, taskLosses, labelled, rowsSeen, rowsTrained, stop };
}

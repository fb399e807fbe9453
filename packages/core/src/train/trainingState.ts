import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { Param } from '../nn/param';
import type { EpochLogs } from './trainingLogs';

/**
 * A tensor's values in host memory.
 *
 * @example
 * ```ts
 * const t: HostTensor = { shape: [2], values: new Float32Array([1, 2]) };
 * ```
 */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/**
 * Where `fit` is inside a run, and the running sums of the epoch in progress, so that a
 * resumed epoch reports the same losses as an uninterrupted one.
 *
 * @example
 * ```ts
 * const { epoch, batch } = trainer.state().cursor; // where a resumed run continues
 * ```
 */
export interface FitCursor {
  /** The epoch in progress (0-based); a run resumes here. */
  epoch: number;
  /** Batches of `epoch` already trained; a resumed run skips that many. */
  batch: number;
  /** Steps since the run began: the learning-rate schedule's position. */
  scheduleStep: number;
  totalLoss: number;
  /** Per model task (in order): sum of loss x labelled count, and the labelled count. */
  lossSums: number[];
  counts: number[];
  /** Learning rate of the last step taken in `epoch` (NaN before the first). */
  learningRate: number;
  /** Logs of the finished epochs. */
  history: EpochLogs[];
  /** Set once a callback has stopped the run; a resumed run then trains no further. */
  stopReason?: string;
}

/**
 * Everything a run needs to continue exactly where it stopped: every parameter (trunk, heads,
 * batch-norm moving statistics, the gradient strategy's own), the optimizer's moments and step
 * count, the global step (which seeds dropout masks), the position in the epoch and in the
 * learning-rate schedule, the gradient strategy's host state (DWA's loss history, GradNorm's
 * weights) and the finished epochs' logs. Data order and augmentation are pure functions of
 * the seed and the epoch, so they need no saved state: resuming replays the epoch's batch
 * order and skips the batches already trained.
 *
 * @example
 * ```ts
 * const state: TrainingState = trainer.state();
 * await writeFile('state.bin', encodeTrainingState(state));
 * // later, same data and settings:
 * await trainer.fit(train, { epochs: 10, resumeFrom: decodeTrainingState(await readFile('state.bin')) });
 * ```
 */
export interface TrainingState {
  readonly version: 1;
  readonly globalStep: number;
  readonly cursor: FitCursor;
  readonly params: ReadonlyMap<string, HostTensor>;
  readonly optimizer: OptimizerState;
  /** The gradient strategy's `state()`, when it has host state. */
  readonly strategy?: unknown;
  /** Per `stateKey`, what stateful callbacks (early stopping) saved. */
  readonly callbacks?: ReadonlyMap<string, CallbackState>;
}

/**
 * What a stateful callback saves in a training state: plain JSON data and named tensors (early
 * stopping's best weights).
 *
 * @example
 * ```ts
 * const saved: CallbackState | undefined = trainer.state().callbacks?.get('earlyStopping');
 * ```
 */
export interface CallbackState {
  readonly data?: unknown;
  readonly tensors?: ReadonlyMap<string, HostTensor>;
}

/**
 * A `ParamOptimizer`'s state: update count (Adam's t) and per parameter name its slots.
 *
 * @example
 * ```ts
 * const { updates, slots }: OptimizerState = trainer.state().optimizer; // Adam's t and moments
 * ```
 */
export interface OptimizerState {
  readonly updates: number;
  readonly slots: ReadonlyMap<string, readonly HostTensor[]>;
}

export function newCursor(tasks: number): FitCursor {
  return {
    epoch: 0,
    batch: 0,
    scheduleStep: 0,
    totalLoss: 0,
    lossSums: Array.from({ length: tasks }, () => 0),
    counts: Array.from({ length: tasks }, () => 0),
    learningRate: Number.NaN,
    history: [],
  };
}

/** The cursor at the start of `epoch`: its running sums reset. */
export function startEpoch(cursor: FitCursor, epoch: number): void {
  cursor.epoch = epoch;
  cursor.batch = 0;
  cursor.totalLoss = 0;
  cursor.lossSums = cursor.lossSums.map(() => 0);
  cursor.counts = cursor.counts.map(() => 0);
  cursor.learningRate = Number.NaN;
}

export function copyCursor(cursor: FitCursor): FitCursor {
  return {
    ...cursor,
    lossSums: [...cursor.lossSums],
    counts: [...cursor.counts],
    history: [...cursor.history],
  };
}

export function readParams(params: readonly Param[]): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const p of params) out.set(p.name, readTensor(p.variable));
  return out;
}

export function readTensor(t: tf.Tensor): HostTensor {
  // A copy: the backend may reuse the typed array dataSync returns.
  return { shape: [...t.shape], values: Float32Array.from(t.dataSync() as Float32Array) };
}

/**
 * Puts saved values into `params`. Every parameter must be in the state with the same shape:
 * a checkpoint from another model, config or graft version is refused, never half applied.
 */
export function writeParams(
  params: readonly Param[],
  saved: ReadonlyMap<string, HostTensor>,
  where: string,
): void {
  for (const p of params) {
    const s = saved.get(p.name);
    if (!s) {
      throw new GraftError('CHECKPOINT_INVALID', `The checkpoint has no value for "${p.name}"`, {
        where,
        hint: 'It was written by a different model; resume with the config the run was started with.',
      });
    }
    if (s.shape.join('x') !== p.variable.shape.join('x')) {
      throw new GraftError(
        'CHECKPOINT_INVALID',
        `"${p.name}" has shape [${s.shape.join(', ')}] in the checkpoint, [${p.variable.shape.join(', ')}] in the model`,
        { where, hint: 'Resume with the config the run was started with.' },
      );
    }
  }
  for (const p of params) {
    const s = saved.get(p.name) as HostTensor;
    const t = tf.tensor(s.values, [...s.shape], p.variable.dtype);
    p.variable.assign(t);
    t.dispose();
  }
}

const MAGIC = 'GRAFTSTATE\n';

interface Header {
  format: 'graft-training-state';
  version: 1;
  globalStep: number;
  cursor: FitCursor;
  updates: number;
  strategy?: unknown;
  /** Per callback key, its JSON data (its tensors are `callback/<key>/<name>`). */
  callbacks?: Record<string, unknown>;
  tensors: { key: string; shape: number[]; offset: number; length: number }[];
}

/**
 * One file: a magic line, a little-endian uint32 header length, a JSON header (numbers that
 * are not finite survive as `{"$float": "NaN"}`), then every tensor as float32, 4-byte aligned.
 * Raw float32 bytes make a restored run bit-identical.
 *
 * @example
 * ```ts
 * await writeFile('run/state.bin', encodeTrainingState(trainer.state()));
 * ```
 */
export function encodeTrainingState(state: TrainingState): Uint8Array {
  const tensors: Header['tensors'] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  const add = (key: string, t: HostTensor) => {
    tensors.push({ key, shape: [...t.shape], offset, length: t.values.length });
    chunks.push(t.values);
    offset += t.values.length;
  };
  for (const [name, t] of state.params) add(`param/${name}`, t);
  for (const [name, slots] of state.optimizer.slots) {
    slots.forEach((t, i) => {
      add(`optimizer/${i}/${name}`, t);
    });
  }
  const callbacks: Record<string, unknown> = {};
  for (const [key, saved] of state.callbacks ?? []) {
    if (key.includes('/')) {
      throw new GraftError('INVALID_ARGUMENT', `A callback stateKey cannot contain "/": ${key}`, {
        where: 'encodeTrainingState',
      });
    }
    callbacks[key] = saved.data ?? null;
    for (const [name, t] of saved.tensors ?? []) add(`callback/${key}/${name}`, t);
  }
  const header: Header = {
    format: 'graft-training-state',
    version: 1,
    globalStep: state.globalStep,
    cursor: state.cursor,
    updates: state.optimizer.updates,
    ...(state.strategy !== undefined ? { strategy: state.strategy } : {}),
    ...(state.callbacks ? { callbacks } : {}),
    tensors,
  };
  const magic = new TextEncoder().encode(MAGIC);
  const json = new TextEncoder().encode(JSON.stringify(header, keepNonFinite));
  const start = align4(magic.length + 4 + json.length);
  const bytes = new Uint8Array(start + offset * 4);
  bytes.set(magic, 0);
  new DataView(bytes.buffer).setUint32(magic.length, json.length, true);
  bytes.set(json, magic.length + 4);
  bytes.fill(0x20, magic.length + 4 + json.length, start);
  const data = new Float32Array(bytes.buffer, start, offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return bytes;
}

/**
 * Reads what `encodeTrainingState` wrote; `where` (a file) goes into errors.
 *
 * @example
 * ```ts
 * const state = decodeTrainingState(await readFile('run/state.bin'), 'run/state.bin');
 * await trainer.fit(train, { epochs: 10, resumeFrom: state });
 * ```
 */
export function decodeTrainingState(bytes: Uint8Array, where = 'training state'): TrainingState {
  const bad = (what: string) =>
    new GraftError('CHECKPOINT_INVALID', what, {
      where,
      hint: 'The file is damaged or not a graft checkpoint; start the run again without --resume.',
    });
  const magic = new TextEncoder().encode(MAGIC);
  if (bytes.length < magic.length + 4 || !magic.every((b, i) => bytes[i] === b)) {
    throw bad('Not a graft training state');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(magic.length, true);
  const start = align4(magic.length + 4 + jsonLength);
  if (start > bytes.length) throw bad('The training state is truncated');
  let header: Header;
  try {
    header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(magic.length + 4, magic.length + 4 + jsonLength)),
      restoreNonFinite,
    ) as Header;
  } catch {
    throw bad('The training state header is not valid JSON');
  }
  if (header.format !== 'graft-training-state' || header.version !== 1) {
    throw bad(`Unsupported training state (format ${header.format}, version ${header.version})`);
  }
  const floats = (bytes.length - start) / 4;
  // Copied out so the values are aligned and do not pin the file's buffer.
  const data = new Float32Array(floats);
  new Uint8Array(data.buffer).set(bytes.subarray(start, start + floats * 4));
  const params = new Map<string, HostTensor>();
  const slots = new Map<string, HostTensor[]>();
  const callbackTensors = new Map<string, Map<string, HostTensor>>();
  for (const t of header.tensors) {
    if (t.offset + t.length > floats || t.shape.reduce((a, b) => a * b, 1) !== t.length) {
      throw bad(`Tensor "${t.key}" is truncated or has the wrong size`);
    }
    const value: HostTensor = {
      shape: t.shape,
      values: data.slice(t.offset, t.offset + t.length),
    };
    const [kind, ...rest] = t.key.split('/');
    if (kind === 'param') params.set(rest.join('/'), value);
    else if (kind === 'optimizer') {
      const slot = Number(rest[0]);
      const name = rest.slice(1).join('/');
      const list = slots.get(name) ?? [];
      list[slot] = value;
      slots.set(name, list);
    } else if (kind === 'callback' && rest.length >= 2) {
      const key = rest[0] as string;
      const tensors = callbackTensors.get(key) ?? new Map<string, HostTensor>();
      tensors.set(rest.slice(1).join('/'), value);
      callbackTensors.set(key, tensors);
    } else throw bad(`Unknown tensor "${t.key}"`);
  }
  const callbacks = header.callbacks
    ? new Map<string, CallbackState>(
        Object.entries(header.callbacks).map(([key, data]) => {
          const tensors = callbackTensors.get(key);
          return [key, { ...(data !== null ? { data } : {}), ...(tensors ? { tensors } : {}) }];
        }),
      )
    : undefined;
  return {
    version: 1,
    globalStep: header.globalStep,
    cursor: header.cursor,
    params,
    optimizer: { updates: header.updates, slots },
    ...(header.strategy !== undefined ? { strategy: header.strategy } : {}),
    ...(callbacks ? { callbacks } : {}),
  };
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function keepNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $float: String(value) } : value;
}

function restoreNonFinite(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$float') {
      return Number((value as { $float: string }).$float);
    }
  }
  return value;
}

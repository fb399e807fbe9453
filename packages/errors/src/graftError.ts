/**
 * Stable codes for every error graft raises on purpose. A code never changes meaning, so
 * scripts can branch on it; the message is for people and may be reworded.
 *
 * @example
 * ```ts
 * const code: GraftErrorCode = 'DATASET_LABEL_UNKNOWN';
 * if (isGraftError(e, code)) console.error(e.where);
 * ```
 */
export type GraftErrorCode =
  | 'BACKEND_UNKNOWN'
  | 'BACKEND_INIT_FAILED'
  | 'WASM_FILES_NOT_FOUND'
  | 'KERNEL_BAD_INPUT'
  | 'WASM_KERNEL_FAILED'
  | 'KERNELS_NOT_LOADED'
  | 'PARAM_DUPLICATE'
  | 'PARAM_NOT_FOUND'
  | 'LAYER_DUPLICATE'
  | 'LAYER_NOT_FOUND'
  | 'SHAPE_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'NAN_LOSS'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_READ_FAILED'
  | 'MODEL_MALFORMED'
  | 'WEIGHTS_MISMATCH'
  | 'LAYER_UNSUPPORTED'
  | 'EXPORT_FAILED'
  | 'DATASET_EMPTY'
  | 'DATASET_FILE_NOT_FOUND'
  | 'DATASET_IMAGE_CORRUPT'
  | 'DATASET_FORMAT_INVALID'
  | 'DATASET_COLUMN_NOT_FOUND'
  | 'DATASET_ROW_RAGGED'
  | 'DATASET_LABEL_UNKNOWN'
  | 'DATASET_NOT_INDEXED'
  | 'FEATURE_CACHE_MISMATCH'
  | 'FREEZE_NOTHING_TRAINABLE'
  | 'FREEZE_UNKNOWN_BLOCK'
  | 'FREEZE_BAD_BLOCK_COUNT'
  | 'TASK_NOT_FOUND'
  | 'TARGET_MISMATCH'
  | 'LABELS_MISMATCH'
  | 'STRATEGY_UNKNOWN'
  | 'PLAN_MISMATCH'
  | 'NOTHING_TRAINABLE'
  | 'BACKEND_UNSUPPORTED'
  | 'NO_BATCHES'
  | 'CONFIG_INVALID'
  | 'RUN_DIR_EXISTS'
  | 'OUTPUT_UNWRITABLE'
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_INVALID'
  | 'REPLICA_FAILED'
  | 'REPLICA_MISMATCH';

/**
 * The optional parts of a {@link GraftError}: where the problem is, what to do, and the
 * underlying error.
 *
 * @example
 * ```ts
 * const details: GraftErrorDetails = { where: 'labels.csv row 12, column "light"', hint: 'Use red, yellow or green.' };
 * throw new GraftError('DATASET_LABEL_UNKNOWN', 'Unknown class "blue"', details);
 * ```
 */
export interface GraftErrorDetails {
  /** Where the problem is: a file, a layer name, a kernel name, a config key, a row. */
  where?: string;
  /** What the user can do about it. */
  hint?: string;
  /** The underlying error, when graft is translating one from a dependency. */
  cause?: unknown;
}

/**
 * The one error class graft throws for user-facing problems. The message reads
 * "what was wrong (where). What to do." so it is useful without a stack trace.
 *
 * @example
 * ```ts
 * throw new GraftError('INVALID_ARGUMENT', 'threads must be a positive integer, got 0', {
 *   where: 'initBackend({ threads })',
 *   hint: 'Pass 1 or more.',
 * }); // message: 'threads must be a positive integer, got 0 (initBackend({ threads })). Pass 1 or more.'
 * ```
 */
export class GraftError extends Error {
  readonly code: GraftErrorCode;
  readonly where: string | undefined;
  readonly hint: string | undefined;

  constructor(code: GraftErrorCode, what: string, details: GraftErrorDetails = {}) {
    const where = details.where ? ` (${details.where})` : '';
    const hint = details.hint ? ` ${details.hint}` : '';
    super(`${what}${where}.${hint}`, details.cause === undefined ? {} : { cause: details.cause });
    this.name = 'GraftError';
    this.code = code;
    this.where = details.where;
    this.hint = details.hint;
  }
}

/**
 * True when `e` is a GraftError, optionally with the given code.
 *
 * @example
 * ```ts
 * try {
 *   await loadBackbone('missing/model.json');
 * } catch (e) {
 *   if (isGraftError(e, 'MODEL_NOT_FOUND')) console.error(e.message);
 *   else throw e;
 * }
 * ```
 */
export function isGraftError(e: unknown, code?: GraftErrorCode): e is GraftError {
  return e instanceof GraftError && (code === undefined || e.code === code);
}

import { GraftError } from '../errors';

/**
 * A learning-rate schedule: the factor the base learning rate is multiplied by at a step.
 * `step` counts from 0; `totalSteps` is epochs x batches per epoch.
 *
 * @example
 * ```ts
 * const halve: LearningRateSchedule = {
 *   name: 'halveEvery100',
 *   needsTotal: false,
 *   factor: (step) => 0.5 ** Math.floor(step / 100),
 * };
 * ```
 */
export interface LearningRateSchedule {
  readonly name: string;
  /** Whether it needs `totalSteps` (the Trainer then requires a known batch count). */
  readonly needsTotal: boolean;
  factor(step: number, totalSteps: number): number;
}

/**
 * The base rate throughout.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, schedule: constantSchedule() }); // the default
 * ```
 */
export function constantSchedule(): LearningRateSchedule {
  return { name: 'constant', needsTotal: false, factor: () => 1 };
}

/**
 * Options of {@link cosineSchedule}: the factor reached at the last step.
 *
 * @example
 * ```ts
 * const schedule = cosineSchedule({ minFactor: 0.01 } satisfies CosineOptions);
 * ```
 */
export interface CosineOptions {
  /** The factor reached at the last step. Default 0. */
  minFactor?: number;
}

/**
 * Cosine annealing from 1 to `minFactor` over the run (Loshchilov & Hutter's SGDR, one cycle).
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, optimizer: { type: 'adam', learningRate: 1e-3 }, schedule: cosineSchedule() });
 * ```
 */
export function cosineSchedule(options: CosineOptions = {}): LearningRateSchedule {
  const minFactor = options.minFactor ?? 0;
  unitInterval(minFactor, 'minFactor', 'cosineSchedule');
  return {
    name: 'cosine',
    needsTotal: true,
    factor: (step, total) => {
      const progress = total <= 1 ? 0 : Math.min(1, step / (total - 1));
      return minFactor + ((1 - minFactor) * (1 + Math.cos(Math.PI * progress))) / 2;
    },
  };
}

/**
 * Options of {@link oneCycleSchedule}: the rising share, the start and end divisors.
 *
 * @example
 * ```ts
 * const schedule = oneCycleSchedule({ rise: 0.3, divFactor: 10 } satisfies OneCycleOptions);
 * ```
 */
export interface OneCycleOptions {
  /** Share of the run spent rising to the peak. Default 0.25, as in fastai. */
  rise?: number;
  /** The run starts at 1/divFactor of the peak. Default 25. */
  divFactor?: number;
  /** And ends at 1/(divFactor x finalDivFactor). Default 1e4 (fastai: 1e5). */
  finalDivFactor?: number;
}

/**
 * Smith's one-cycle policy as fastai's `fit_one_cycle` runs it: cosine up from
 * base/divFactor to the base rate (the peak), then cosine down to nearly zero. The base
 * learning rate is the peak.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, schedule: oneCycleSchedule() }); // the peak is the optimizer's rate
 * ```
 */
export function oneCycleSchedule(options: OneCycleOptions = {}): LearningRateSchedule {
  const rise = options.rise ?? 0.25;
  const divFactor = options.divFactor ?? 25;
  const finalDivFactor = options.finalDivFactor ?? 1e4;
  const where = 'oneCycleSchedule';
  if (!(rise > 0 && rise < 1)) {
    throw new GraftError('INVALID_ARGUMENT', `rise must be in (0, 1), got ${rise}`, { where });
  }
  if (!(divFactor >= 1 && finalDivFactor >= 1)) {
    throw new GraftError('INVALID_ARGUMENT', 'divFactor and finalDivFactor must be >= 1', {
      where,
    });
  }
  const start = 1 / divFactor;
  const end = start / finalDivFactor;
  const cosineBetween = (from: number, to: number, progress: number) =>
    to + ((from - to) * (1 + Math.cos(Math.PI * progress))) / 2;
  return {
    name: 'oneCycle',
    needsTotal: true,
    factor: (step, total) => {
      const peak = Math.max(1, Math.round(rise * (total - 1)));
      if (step <= peak) return cosineBetween(start, 1, step / peak);
      const downSteps = Math.max(1, total - 1 - peak);
      return cosineBetween(1, end, Math.min(1, (step - peak) / downSteps));
    },
  };
}

/**
 * Options of {@link warmupSchedule}: warm-up steps and the schedule that follows.
 *
 * @example
 * ```ts
 * const schedule = warmupSchedule({ steps: 100, after: cosineSchedule() } satisfies WarmupOptions);
 * ```
 */
export interface WarmupOptions {
  /** Steps of linear warm-up, from `1/steps` of the rate up to the full rate. */
  steps: number;
  /** The schedule after (and scaled during) the warm-up. Default constant. */
  after?: LearningRateSchedule;
}

/**
 * Linear warm-up over the first steps, multiplied into another schedule: large early
 * updates from a random head would otherwise wreck pretrained trunk features.
 *
 * @example
 * ```ts
 * const schedule = warmupSchedule({ steps: 200, after: cosineSchedule({ minFactor: 0.05 }) });
 * ```
 */
export function warmupSchedule(options: WarmupOptions): LearningRateSchedule {
  const { steps } = options;
  if (!(Number.isInteger(steps) && steps >= 1)) {
    throw new GraftError('INVALID_ARGUMENT', `steps must be a whole number >= 1, got ${steps}`, {
      where: 'warmupSchedule',
    });
  }
  const after = options.after ?? constantSchedule();
  return {
    name: `warmup(${steps})+${after.name}`,
    needsTotal: after.needsTotal,
    factor: (step, total) => Math.min(1, (step + 1) / steps) * after.factor(step, total),
  };
}

function unitInterval(value: number, name: string, where: string): void {
  if (!(value >= 0 && value <= 1)) {
    throw new GraftError('INVALID_ARGUMENT', `${name} must be in [0, 1], got ${value}`, { where });
  }
}

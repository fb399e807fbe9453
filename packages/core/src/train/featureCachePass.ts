import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import type { Batch } from './batch';
import type { FeatureSplit, ForwardOptions, ModelOutputs, TrainableModel } from './trainableModel';
import type { TrainablePlan } from './trainablePlan';

/**
 * `auto`: cache trunk features whenever it is exact (the plan freezes the whole trunk with
 * batch norm on its moving statistics, the model can split, batches carry stable ids and say
 * they are not augmented). `off`: always run the whole model.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, featureCache: 'off' satisfies FeatureCacheMode });
 * ```
 */
export type FeatureCacheMode = 'auto' | 'off';

export interface FeatureCacheOptions {
  mode: FeatureCacheMode;
  /** Host memory the cached features may take; examples beyond it run the trunk each pass. */
  maxBytes: number;
  /** Where decisions go (on, off and why, dropped, full). */
  log: (message: string) => void;
}

/** A batch's heads-side forward pass on cached features; holds tensors until disposed. */
export interface CachedForward {
  forward(options: ForwardOptions): ModelOutputs;
  dispose(): void;
}

/**
 * Default memory bound of the cache: 512 MiB of float32 features.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, plan, featureCacheBytes: 2 * DEFAULT_FEATURE_CACHE_BYTES });
 * ```
 */
export const DEFAULT_FEATURE_CACHE_BYTES = 512 * 1024 * 1024;

interface FeatureLayout {
  name: string;
  /** Per-example shape. */
  shape: number[];
  size: number;
  offset: number;
}

/**
 * The Trainer's feature cache for one `fit`: while the active plan leaves the trunk fixed,
 * each example's trunk features are computed once (inference mode, then read to host memory,
 * keyed by example id) and every later pass trains the heads on them, so the trunk's forward
 * pass runs once per example instead of once per example per epoch. When a schedule opens the
 * trunk (gradual, fineTune) the cache is dropped at that epoch and steps run the whole model.
 * Holds no tensors between steps: features live as host arrays, bounded by `maxBytes`.
 */
export class FeatureCachePass {
  /** Trunk images run so far (to fill the cache, or past a full one). */
  trunkImages = 0;
  /** Examples served from the cache. */
  hits = 0;
  private readonly split: FeatureSplit | undefined;
  private readonly rows = new Map<string, Float32Array>();
  private layout: FeatureLayout[] | undefined;
  private rowSize = 0;
  private bytes = 0;
  private active = false;
  /** Set when the data itself rules the cache out; it then stays off for this fit. */
  private dataRefused: string | undefined;
  private seenThisEpoch = new Set<string>();
  private fullLogged = false;
  private decided: true | undefined;

  constructor(
    model: TrainableModel,
    private readonly options: FeatureCacheOptions,
  ) {
    if (!(options.maxBytes >= 0)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `featureCacheBytes must be >= 0, got ${options.maxBytes}`,
        { where: 'Trainer' },
      );
    }
    this.split = model.featureSplit;
  }

  /** Whether steps of the current epoch may use cached features. */
  get isActive(): boolean {
    return this.active;
  }

  /** Cached examples. */
  get size(): number {
    return this.rows.size;
  }

  /**
   * Decides for the epoch, after the plan in force has been applied: on only when every trunk
   * parameter is frozen and the trunk's training pass equals its inference pass.
   */
  beginEpoch(epoch: number, plan: TrainablePlan | undefined): void {
    this.seenThisEpoch = new Set();
    const why = this.whyNot(plan);
    const wasActive = this.active;
    this.active = why === undefined;
    // Said once per change: at the first epoch, and whenever the cache turns on or off.
    const first = this.decided === undefined;
    this.decided = true;
    if (wasActive && !this.active) {
      this.drop();
      this.options.log(`graft: feature cache dropped at epoch ${epoch + 1}: ${why}`);
    } else if (this.active && (first || !wasActive)) {
      this.options.log(
        `graft: feature cache: on from epoch ${epoch + 1} (trunk frozen, batch norm on moving statistics)`,
      );
    } else if (!this.active && first) {
      this.options.log(`graft: feature cache: off at epoch ${epoch + 1}: ${why}`);
    }
  }

  /**
   * The heads-side pass for `batch` on cached features (computing any missing ones now), or
   * undefined when this batch must run through the whole model.
   */
  featuresFor(batch: Batch): CachedForward | undefined {
    if (!this.active || this.dataRefused !== undefined) return undefined;
    const split = this.split as FeatureSplit;
    const ids = batch.ids;
    const n = batch.x.shape[0] ?? 0;
    const refusal = this.refusal(batch, n);
    if (refusal !== undefined || ids === undefined) {
      this.dataRefused = refusal;
      this.drop();
      this.options.log(`graft: feature cache: off for the rest of this fit: ${refusal}`);
      return undefined;
    }
    for (const id of ids) this.seenThisEpoch.add(id);
    const fresh = this.computeMissing(split, batch, ids);
    const features: Record<string, tf.Tensor> = {};
    for (const part of this.layout as FeatureLayout[]) {
      const values = new Float32Array(n * part.size);
      ids.forEach((id, i) => {
        const row = (this.rows.get(id) ?? fresh.get(id)) as Float32Array;
        values.set(row.subarray(part.offset, part.offset + part.size), i * part.size);
      });
      features[part.name] = tf.tensor(values, [n, ...part.shape], 'float32');
    }
    this.hits += n - fresh.size;
    return {
      forward: (options) => split.fromFeatures(features, options),
      dispose: () => tf.dispose(Object.values(features)),
    };
  }

  /** Why this batch cannot use the cache, if it cannot (checked on every batch of a pass). */
  private refusal(batch: Batch, n: number): string | undefined {
    const ids = batch.ids;
    if (ids === undefined) {
      return 'the batches carry no example ids (build them with @graft/datasets batches)';
    }
    if (batch.augmented === true) return 'the batches are augmented';
    if (batch.augmented !== false) {
      return 'the batches do not say they are un-augmented (augmented: false)';
    }
    if (ids.length !== n) return `a batch has ${ids.length} ids for ${n} examples`;
    const repeated = this.repeatedId(ids);
    if (repeated !== undefined) {
      return `example id "${repeated}" occurs twice in one pass; ids must be unique`;
    }
    return undefined;
  }

  /** An id of `ids` seen before in this pass (or twice in `ids`), if any. */
  private repeatedId(ids: readonly string[]): string | undefined {
    const inBatch = new Set<string>();
    for (const id of ids) {
      if (this.seenThisEpoch.has(id) || inBatch.has(id)) return id;
      inBatch.add(id);
    }
    return undefined;
  }

  /** Releases the cached features (end of fit, or the trunk opened). */
  drop(): void {
    this.rows.clear();
    this.bytes = 0;
  }

  private whyNot(plan: TrainablePlan | undefined): string | undefined {
    if (this.options.mode === 'off') return "featureCache is 'off'";
    if (this.dataRefused !== undefined) return this.dataRefused;
    if (!this.split) return 'the model does not split into trunk and heads (no featureSplit)';
    const training = this.split.trunkParams.find((p) => p.trainable);
    if (training) return `trunk parameter ${training.name} trains`;
    return this.split.trunkVariesInTraining(plan?.batchNorm);
  }

  /** Runs the trunk on the batch's uncached examples; returns their rows not kept in the cache. */
  private computeMissing(
    split: FeatureSplit,
    batch: Batch,
    ids: readonly string[],
  ): Map<string, Float32Array> {
    const missing: number[] = [];
    ids.forEach((id, i) => {
      if (!this.rows.has(id)) missing.push(i);
    });
    const uncached = new Map<string, Float32Array>();
    if (missing.length === 0) return uncached;
    const computed = tf.tidy(() => {
      const x = missing.length === ids.length ? batch.x : tf.gather(batch.x, missing);
      return { ...split.features(x) } as Record<string, tf.Tensor>;
    });
    this.trunkImages += missing.length;
    try {
      const names = Object.keys(computed).sort();
      if (!this.layout) {
        let offset = 0;
        this.layout = names.map((name) => {
          const shape = (computed[name] as tf.Tensor).shape.slice(1);
          const size = shape.reduce((a, b) => a * b, 1);
          const part = { name, shape, size, offset };
          offset += size;
          return part;
        });
        this.rowSize = offset;
      }
      const layout = this.layout;
      // Read outside tidy: tidy would walk the typed arrays looking for tensors.
      const values = layout.map((part) => {
        const t = computed[part.name];
        if (!t || t.shape.slice(1).join() !== part.shape.join()) {
          throw new GraftError(
            'SHAPE_MISMATCH',
            `featureSplit.features gave "${part.name}" of shape [${t?.shape.join(', ') ?? 'none'}], expected [batch, ${part.shape.join(', ')}]`,
            { where: 'Trainer feature cache' },
          );
        }
        return t.dataSync() as Float32Array;
      });
      missing.forEach((i, k) => {
        const row = new Float32Array(this.rowSize);
        layout.forEach((part, p) => {
          row.set(
            (values[p] as Float32Array).subarray(k * part.size, (k + 1) * part.size),
            part.offset,
          );
        });
        const id = ids[i] as string;
        if (this.bytes + row.byteLength <= this.options.maxBytes) {
          this.rows.set(id, row);
          this.bytes += row.byteLength;
        } else {
          uncached.set(id, row);
          if (!this.fullLogged) {
            this.fullLogged = true;
            this.options.log(
              `graft: feature cache full at ${this.rows.size} examples (${this.bytes} bytes, featureCacheBytes ${this.options.maxBytes}); the rest run the trunk on every pass`,
            );
          }
        }
      });
    } finally {
      tf.dispose(Object.values(computed));
    }
    return uncached;
  }
}

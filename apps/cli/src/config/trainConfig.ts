import { z } from 'zod';

/**
 * The `graft train` config, as a schema: JSON or YAML files are validated against it, and an
 * error names the key path (`tasks.presence.kind`) and what was expected. Defaults make a
 * minimal config short.
 */

const name = z
  .string()
  .regex(/^[A-Za-z_][\w-]*$/, 'a name of letters, digits, _ or - (not starting with a digit)');

const missingMarkers = z.array(z.string()).default(['', '?', 'NA', 'null']);

/**
 * Leave out images that cannot be read or decoded instead of stopping at the first one (every
 * image is then read once up front, so a bad file is found before training, not mid-run).
 */
const skipInvalid = z.boolean().default(false);

const manifestData = z
  .object({
    adapter: z.literal('manifest'),
    /** CSV or JSONL file; image paths in it are relative to the file. */
    path: z.string().min(1),
    imageColumn: z.string().default('image'),
    missing: missingMarkers,
    skipInvalid,
  })
  .strict();

const imageFolderData = z
  .object({
    adapter: z.literal('imageFolder'),
    /** One sub-folder per class; becomes a classification task named `task`. */
    path: z.string().min(1),
    task: name.default('class'),
    skipInvalid,
  })
  .strict();

const idxData = z
  .object({
    adapter: z.literal('idx'),
    images: z.string().min(1),
    labels: z.string().min(1),
    task: name.default('digit'),
  })
  .strict();

const drivingScenesData = z
  .object({
    adapter: z.literal('drivingScenes'),
    count: z.number().int().positive().default(1200),
    size: z.number().int().min(32).default(64),
    /** Fraction of labels blanked as missing. */
    missing: z.number().min(0).max(0.95).default(0.2),
  })
  .strict();

export const dataSchema = z.discriminatedUnion('adapter', [
  manifestData,
  imageFolderData,
  idxData,
  drivingScenesData,
]);

const headShape = z
  .object({
    /** Hidden layer sizes; empty = a linear head. */
    hidden: z.array(z.number().int().positive()).default([]),
    dropout: z.number().min(0).max(0.9).default(0),
    /** Trunk layer the head branches off; default the trunk output. */
    attachAt: z.string().optional(),
  })
  .strict()
  .default({ hidden: [], dropout: 0 });

const multiLabelTask = z
  .object({
    kind: z.literal('multiLabel'),
    labels: z.array(z.string().min(1)).min(1),
    /** Manifest columns holding the labels, when they differ from the label names. */
    columns: z.array(z.string()).optional(),
    positiveWeight: z.number().positive().optional(),
    focalGamma: z.number().min(0).optional(),
    head: headShape,
  })
  .strict();

const classificationTask = z
  .object({
    kind: z.literal('classification'),
    classes: z.array(z.string().min(1)).min(2),
    column: z.string().optional(),
    labelSmoothing: z.number().min(0).max(0.5).default(0),
    head: headShape,
  })
  .strict();

const regressionTask = z
  .object({
    kind: z.literal('regression'),
    outputs: z.number().int().positive().default(1),
    columns: z.array(z.string()).optional(),
    loss: z.enum(['mse', 'huber']).default('mse'),
    head: headShape,
  })
  .strict();

export const taskSchema = z.discriminatedUnion('kind', [
  multiLabelTask,
  classificationTask,
  regressionTask,
]);

export const backboneSchema = z
  .object({
    /** `shipped` (the pre-trained backbone inside @graft/core), `mobilenetv2` (random init), or a path/URL to a TF.js model.json. */
    source: z.string().default('shipped'),
    alpha: z.number().positive().default(0.35),
    inputSize: z.number().int().min(32).default(64),
    cutAt: z.string().optional(),
  })
  .strict()
  .default({ source: 'shipped', alpha: 0.35, inputSize: 64 });

export const freezeSchema = z.union([
  z.enum(['ruleOfThumb', 'headsOnly', 'all', 'bnOnly', 'fineTune']),
  z.object({ policy: z.literal('lastBlocks'), n: z.number().int().min(0) }).strict(),
  z
    .object({ policy: z.literal('discriminative'), decay: z.number().gt(0).max(1).default(0.7) })
    .strict(),
  z.object({ policy: z.literal('gradual'), every: z.number().int().positive() }).strict(),
  z
    .object({
      policy: z.literal('fineTune'),
      warmupEpochs: z.number().int().min(0).default(1),
      decay: z.number().gt(0).max(1).default(0.7),
    })
    .strict(),
]);

export const weightingSchema = z.union([
  z.enum(['equal', 'uncertainty', 'dwa', 'gradnorm', 'pcgrad']),
  z
    .object({ strategy: z.literal('static'), weights: z.record(z.string(), z.number().min(0)) })
    .strict(),
]);

export const trainConfigSchema = z
  .object({
    seed: z.number().int().min(0).default(1),
    /** Run directory; refused if it exists unless --force. */
    output: z.string().default('runs/graft-run'),
    data: dataSchema,
    split: z
      .object({
        validation: z.number().min(0).max(0.5).default(0.15),
        test: z.number().min(0).max(0.5).default(0.15),
      })
      .strict()
      .default({ validation: 0.15, test: 0.15 }),
    backbone: backboneSchema,
    tasks: z.record(name, taskSchema).refine((t) => Object.keys(t).length > 0, 'at least one task'),
    freeze: freezeSchema.default('ruleOfThumb'),
    weighting: weightingSchema.default('equal'),
    optimizer: z
      .object({
        name: z.enum(['adam', 'adamw', 'sgd']).default('adam'),
        learningRate: z.number().positive().default(1e-3),
        weightDecay: z.number().min(0).default(0),
        momentum: z.number().min(0).max(1).default(0.9),
        clipNorm: z.number().positive().optional(),
      })
      .strict()
      .default({ name: 'adam', learningRate: 1e-3, weightDecay: 0, momentum: 0.9 }),
    schedule: z
      .object({
        name: z.enum(['constant', 'cosine', 'oneCycle']).default('cosine'),
        warmupEpochs: z.number().min(0).default(0),
      })
      .strict()
      .default({ name: 'cosine', warmupEpochs: 0 }),
    epochs: z.number().int().positive().default(10),
    batchSize: z.number().int().positive().default(32),
    augment: z
      .object({
        flip: z.boolean().default(false),
        crop: z.number().min(0).max(0.5).default(0),
        colourJitter: z.number().min(0).max(1).default(0),
      })
      .strict()
      .default({ flip: false, crop: 0, colourJitter: 0 }),
    earlyStopping: z.object({ patience: z.number().int().positive() }).strict().optional(),
  })
  .strict();

/** A validated config with every default filled in: what the run actually used. */
export type TrainConfig = z.infer<typeof trainConfigSchema>;
export type TaskConfig = z.infer<typeof taskSchema>;

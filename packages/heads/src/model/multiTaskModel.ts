import type {
  Batch,
  BatchMetrics,
  BatchNormMode,
  FeatureSplit,
  ForwardOptions,
  ModelOutputs,
  Param,
  TaskLossFunction,
  TrainableModel,
} from '@graft/core';
import { GraftError } from '@graft/errors';
import * as tf from '@tensorflow/tfjs-core';
import type { TaskHead } from '../heads/taskHead';
import { modelMetrics } from '../metrics/modelMetrics';
import { globalAveragePool, globalMaxPool } from './globalPooling';
import { type HeadNetwork, headNetwork } from './headNetwork';
import { checkTaskSpecs, type TaskSpecLike } from './taskSpecs';
import type { Trunk } from './trunk';

/**
 * Options of {@link multiTaskModel}: the shared trunk, one head per task, and a seed.
 *
 * @example
 * ```ts
 * const options: MultiTaskModelOptions = {
 *   backbone: pretrainedBackbone(),
 *   tasks: { presence: multiLabel({ labels: ['car', 'bus'] }) },
 *   seed: 1,
 * };
 * ```
 */
export interface MultiTaskModelOptions {
  /** The shared trunk: a core `BlockNetwork` or `Backbone`. */
  backbone: Trunk;
  /** One head per task name; key order is task order. One task is plain transfer learning. */
  tasks: Readonly<Record<string, TaskHead>>;
  /** Seeds head initialisation and dropout. Default 0. */
  seed?: number;
}

/**
 * What `graft.json` records about the heads.
 *
 * @example
 * ```ts
 * const { tasks }: MultiTaskDescription = model.describe();
 * tasks.presence?.attachedTo; // 'out_relu' on MobileNetV2 unless attachAt says otherwise
 * ```
 */
export interface MultiTaskDescription {
  tasks: Record<
    string,
    Readonly<Record<string, unknown>> & { attachedTo: string; thresholds?: readonly number[] }
  >;
}

/**
 * Hard parameter sharing: one trunk, one head per task, trained together by core's
 * `Trainer`. It is a `TrainableModel` (params, forward, masked loss, metrics) and a
 * `@graft/freeze` `FreezableModel` (params, trunk blocks).
 *
 * @example
 * ```ts
 * const model: MultiTaskModel = multiTaskModel({ backbone, tasks: { carCount: regression({ outputs: 1 }) } });
 * const { carCount } = model.predict(x); // values, inference mode
 * model.dispose();
 * ```
 */
export interface MultiTaskModel extends TrainableModel {
  readonly backbone: Trunk;
  readonly heads: Readonly<Record<string, TaskHead>>;
  /** The trunk's blocks, input to output (what freezing policies address). */
  readonly blocks: Trunk['blocks'];
  /** The trunk layer or block each task reads. */
  readonly attachedTo: Readonly<Record<string, string>>;
  readonly loss: TaskLossFunction;
  /**
   * Trunk features (each head's attach point, pooled its way) and the heads on them: core's
   * Trainer caches the features while a plan freezes the whole trunk.
   */
  readonly featureSplit: FeatureSplit;
  metrics(): BatchMetrics;
  /** Probabilities (multi-label, classification) or values (regression), inference mode. */
  predict(x: tf.Tensor): Record<string, tf.Tensor>;
  /** Per-label decision thresholds of a multi-label task (tuned, or the head's default). */
  thresholds(task: string): readonly number[];
  setThresholds(task: string, thresholds: readonly number[]): void;
  /** Throws unless a dataset's task specs match the heads (names, kinds, label sets). */
  checkTasks(specs: Readonly<Record<string, TaskSpecLike>>): void;
  describe(): MultiTaskDescription;
  /** Releases the heads' parameters; the backbone stays (it may be shared). */
  dispose(): void;
}

const TASK_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One network, several heads: a shared trunk (`Backbone` or `BlockNetwork`) and one head per
 * task, trained together by core's `Trainer`, missing labels masked out of each task's loss.
 *
 * @example
 * ```ts
 * const model = multiTaskModel({
 *   backbone: pretrainedBackbone(),
 *   tasks: {
 *     presence: multiLabel({ labels: ['pedestrian', 'car'], pooling: 'max' }),
 *     carCount: regression({ outputs: 1 }),
 *   },
 * });
 * ```
 */
export function multiTaskModel(options: MultiTaskModelOptions): MultiTaskModel {
  const { backbone: trunk, tasks: heads } = options;
  const seed = options.seed ?? 0;
  const tasks = Object.keys(heads);
  if (tasks.length === 0) {
    throw new GraftError('INVALID_ARGUMENT', 'multiTaskModel needs at least one task', {
      where: 'multiTaskModel',
      hint: 'Pass tasks: { name: multiLabel({ labels }) | classification({ classes }) | regression({ outputs }) }.',
    });
  }
  for (const task of tasks) {
    if (!TASK_NAME.test(task)) {
      throw new GraftError(
        'INVALID_ARGUMENT',
        `Task name "${task}" is not usable as a layer name`,
        {
          where: 'multiTaskModel',
          hint: "Use letters, digits and underscores, starting with a letter: it prefixes the head's parameter names.",
        },
      );
    }
  }
  const lastBlock = trunk.blocks[trunk.blocks.length - 1];
  if (!lastBlock)
    throw new GraftError('INVALID_ARGUMENT', 'The backbone has no blocks', {
      where: 'multiTaskModel',
    });
  const outputPoint = trunk.outputLayer ?? lastBlock.name;
  const attachedTo: Record<string, string> = {};
  const networks: Record<string, HeadNetwork> = {};
  tasks.forEach((task, t) => {
    const head = heads[task] as TaskHead;
    const point = head.attachAt ?? outputPoint;
    attachedTo[task] = point;
    const width = featureWidth(trunk, point, outputPoint, task);
    networks[task] = headNetwork(task, head, width, seed + 1000 * (t + 1));
  });
  const points = [...new Set(Object.values(attachedTo))];
  const taskParams: Record<string, Param[]> = Object.fromEntries(
    tasks.map((task) => [task, (networks[task] as HeadNetwork).params]),
  );
  const params: Param[] = [
    ...trunk.params,
    ...tasks.flatMap((task) => taskParams[task] as Param[]),
  ];
  const tunedThresholds = new Map<string, readonly number[]>();
  const checkedTargets = new WeakSet<tf.Tensor>();
  // What each head reads: a trunk point, pooled its way. Tasks sharing both share one
  // feature; these are also what the Trainer's feature cache stores per example.
  const featureOf: Record<string, string> = Object.fromEntries(
    tasks.map((task) => [
      task,
      `${attachedTo[task]}:${(heads[task] as TaskHead).pooling === 'max' ? 'max' : 'avg'}`,
    ]),
  );
  const featureNames = [...new Set(Object.values(featureOf))];

  /** Trunk outputs at the heads' points, pooled per head (no tidy: callers tidy). */
  const trunkFeatures = (x: tf.Tensor, opts: ForwardOptions): Record<string, tf.Tensor> => {
    // Each trunk batch norm follows the plan's mode for it (frozen blocks keep their
    // moving statistics exactly; trained ones run on batch statistics).
    const features = trunk.outputsAt(x, points, {
      training: opts.training,
      ...(opts.batchNormModes ? { batchNormModes: opts.batchNormModes } : {}),
    });
    const out: Record<string, tf.Tensor> = {};
    for (const name of featureNames) {
      const cut = name.lastIndexOf(':');
      const f = features[name.slice(0, cut)] as tf.Tensor;
      out[name] =
        f.rank !== 4 ? f : name.slice(cut + 1) === 'max' ? globalMaxPool(f) : globalAveragePool(f);
    }
    return out;
  };

  const headsOn = (features: Readonly<Record<string, tf.Tensor>>, opts: ForwardOptions) => {
    const out: Record<string, tf.Tensor> = {};
    tasks.forEach((task, t) => {
      const pooled = features[featureOf[task] as string];
      if (!pooled) {
        throw new GraftError('SHAPE_MISMATCH', `No trunk feature "${featureOf[task]}"`, {
          where: `head "${task}"`,
          hint: `Features given: ${Object.keys(features).join(', ')}; compute them with featureSplit.features.`,
        });
      }
      out[task] = (networks[task] as HeadNetwork).apply(pooled, {
        training: opts.training,
        dropoutSeed: seed + 7919 * ((opts.step ?? 0) * tasks.length + t) + 1,
      });
    });
    return out;
  };

  const forward = (x: tf.Tensor, opts: ForwardOptions): ModelOutputs =>
    tf.tidy(() => headsOn(trunkFeatures(x, opts), opts));

  const batchNormLayers = [
    ...new Set(
      trunk.params
        .filter((p) => p.kind === 'gamma' || p.kind === 'movingMean')
        .map((p) => layerOf(p.name)),
    ),
  ];
  const featureSplit: FeatureSplit = {
    trunkParams: trunk.params,
    features: (x) => tf.tidy(() => trunkFeatures(x, { training: false })),
    fromFeatures: (features, opts) => tf.tidy(() => headsOn(features, opts)),
    trunkVariesInTraining: (modes) => trunkVaries(trunk, batchNormLayers, modes),
  };

  const loss: TaskLossFunction = (outputs, batch: Batch) => {
    const batchSize = batch.x.shape[0] ?? 0;
    const result: Record<string, tf.Scalar> = {};
    for (const task of tasks) {
      const head = heads[task] as TaskHead;
      const targets = batch.targets[task];
      const mask = batch.mask[task];
      if (!targets || !mask) {
        throw new GraftError(
          'TASK_NOT_FOUND',
          `The batch has no targets or mask for task "${task}"`,
          {
            where: 'multiTaskModel loss',
            hint: `The batch carries: ${Object.keys(batch.targets).join(', ') || 'no tasks'}.`,
          },
        );
      }
      head.checkShapes(targets, mask, batchSize, task);
      // Values are checked once per targets tensor: a batch array reused every epoch costs one
      // read, a stream one small read per batch.
      if (!checkedTargets.has(targets)) {
        head.checkValues(targets.dataSync(), mask.dataSync(), task);
        checkedTargets.add(targets);
      }
      const output = outputs[task];
      if (!output)
        throw new GraftError('TASK_NOT_FOUND', `No model output for task "${task}"`, {
          where: 'multiTaskModel loss',
        });
      result[task] = head.loss(output, targets, mask);
    }
    return result;
  };

  const model: MultiTaskModel = {
    backbone: trunk,
    heads,
    blocks: trunk.blocks,
    tasks,
    params,
    taskParams,
    attachedTo,
    forward,
    featureSplit,
    loss,
    metrics: () => modelMetrics(model),
    predict: (x) =>
      tf.tidy(() => {
        const raw = forward(x, { training: false });
        return Object.fromEntries(
          tasks.map((t) => [t, (heads[t] as TaskHead).predict(raw[t] as tf.Tensor)]),
        );
      }),
    thresholds(task) {
      const head = multiLabelHead(heads, task);
      return tunedThresholds.get(task) ?? head.labels.map(() => head.threshold);
    },
    setThresholds(task, values) {
      const head = multiLabelHead(heads, task);
      if (values.length !== head.labels.length || !values.every((v) => v >= 0 && v <= 1)) {
        throw new GraftError(
          'INVALID_ARGUMENT',
          `Task "${task}" needs ${head.labels.length} thresholds in [0, 1], got [${values.join(', ')}]`,
          {
            where: 'setThresholds',
          },
        );
      }
      tunedThresholds.set(task, [...values]);
    },
    checkTasks: (specs) => checkTaskSpecs(heads, specs),
    describe() {
      const out: MultiTaskDescription = { tasks: {} };
      for (const task of tasks) {
        const head = heads[task] as TaskHead;
        out.tasks[task] = {
          ...head.describe(),
          attachedTo: attachedTo[task] as string,
          ...(head.kind === 'multiLabel' ? { thresholds: model.thresholds(task) } : {}),
        };
      }
      return out;
    },
    dispose() {
      for (const task of tasks) for (const p of taskParams[task] as Param[]) p.variable.dispose();
    },
  };
  return model;
}

function multiLabelHead(heads: Readonly<Record<string, TaskHead>>, task: string) {
  const head = heads[task];
  if (!head) {
    throw new GraftError('TASK_NOT_FOUND', `No task named "${task}"`, {
      where: 'multiTaskModel',
      hint: `Tasks: ${Object.keys(heads).join(', ')}.`,
    });
  }
  if (head.kind !== 'multiLabel') {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `Task "${task}" is ${head.kind}; decision thresholds belong to multi-label tasks`,
      {
        where: 'multiTaskModel',
      },
    );
  }
  return head;
}

/** `block_3_expand_BN/gamma` -> `block_3_expand_BN`. */
function layerOf(paramName: string): string {
  const cut = paramName.lastIndexOf('/');
  return cut < 0 ? paramName : paramName.slice(0, cut);
}

/** Layers whose training-mode output equals their inference output. */
const DETERMINISTIC_LAYERS = new Set([
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'ReLU',
  'Activation',
  'Add',
  'Multiply',
  'Concatenate',
  'ZeroPadding2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'Dense',
  'Reshape',
  'Flatten',
  'Rescaling',
  'InputLayer',
]);

/**
 * Why the trunk in training mode, under these batch-norm modes, would not compute what it
 * does in inference (so its features cannot be cached), or undefined.
 */
function trunkVaries(
  trunk: Trunk,
  batchNormLayers: readonly string[],
  modes: ReadonlyMap<string, BatchNormMode> | undefined,
): string | undefined {
  const training = batchNormLayers.find((layer) => modes?.get(layer) !== 'inference');
  if (training !== undefined) return `batch norm ${training} runs on batch statistics`;
  if (!trunk.layer) return 'the trunk cannot list its layers (no layer(name))';
  for (const block of trunk.blocks) {
    for (const name of block.layerNames) {
      const { className } = trunk.layer(name);
      if (className === 'BatchNormalization' || DETERMINISTIC_LAYERS.has(className)) continue;
      return `trunk layer ${name} (${className}) behaves differently in training`;
    }
  }
  return undefined;
}

/** Width of the (pooled) features at `point`, or LAYER_NOT_FOUND naming the blocks. */
function featureWidth(trunk: Trunk, point: string, outputPoint: string, task: string): number {
  const lastDim = (shape: readonly number[]) => shape[shape.length - 1] ?? 0;
  const widthOf = (shape: readonly number[]) => {
    if (shape.length !== 1 && shape.length !== 3) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Features at "${point}" have shape [${shape.join(', ')}] per example; a head reads [units] or [height, width, channels]`,
        {
          where: `head "${task}"`,
        },
      );
    }
    return lastDim(shape);
  };
  if (point === outputPoint) return widthOf(trunk.outputShape);
  const block = trunk.blocks.find((b) => b.name === point);
  if (block) return block.outputChannels;
  if (!trunk.blocks.some((b) => b.layerNames.includes(point))) {
    throw new GraftError(
      'LAYER_NOT_FOUND',
      `Head "${task}" attaches at "${point}", which the backbone does not have`,
      {
        where: `head "${task}" attachAt`,
        hint: `Attach at a block (${trunk.blocks.map((b) => b.name).join(', ')}) or one of their layers.`,
      },
    );
  }
  const node = trunk.nodes?.find((n) => n.layer.name === point);
  if (node) return widthOf(node.outputShape);
  // Without per-layer shapes, one tiny forward pass tells.
  const shape = tf.tidy(() => {
    const out = trunk.outputsAt(tf.zeros([1, ...trunk.inputShape]), [point], { training: false });
    return (out[point] as tf.Tensor).shape.slice(1);
  });
  return widthOf(shape);
}

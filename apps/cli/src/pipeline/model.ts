import {
  type Backbone,
  constantSchedule,
  cosineSchedule,
  type GradientStrategy,
  GraftError,
  type LearningRateSchedule,
  loadBackbone,
  mobileNetV2,
  type OptimizerSpec,
  oneCycleSchedule,
  pretrainedBackbone,
  warmupSchedule,
} from '@graft/core';
import {
  all,
  bnOnly,
  discriminative,
  type FreezePolicy,
  fineTune,
  gradual,
  headsOnly,
  lastBlocks,
  ruleOfThumb,
} from '@graft/freeze';
import { classification, multiLabel, regression, type TaskHead, taskWeighting } from '@graft/heads';
import type { TrainConfig } from '../config/trainConfig';
import { regressionNames } from './data';

/**
 * The backbone a config names: `shipped` (pre-trained, inside @graft/core), `mobilenetv2`
 * (random init, seeded) or a path / URL to a TF.js model.json, cut at `cutAt` when given.
 */
export async function loadConfiguredBackbone(
  config: Pick<TrainConfig, 'backbone' | 'seed'>,
  options: { baseDir?: string } = {},
): Promise<Backbone> {
  const { source, alpha, inputSize, cutAt } = config.backbone;
  const shape = [inputSize, inputSize, 3] as const;
  let backbone: Backbone;
  if (source === 'shipped') {
    backbone = pretrainedBackbone(undefined, { inputShape: shape });
  } else if (source === 'mobilenetv2') {
    backbone = mobileNetV2({ alpha, inputShape: shape, seed: config.seed });
  } else {
    const { isAbsolute, resolve } = await import('node:path');
    const path =
      /^[a-z]+:\/\//i.test(source) || isAbsolute(source)
        ? source
        : resolve(options.baseDir ?? process.cwd(), source);
    return loadBackbone(path, cutAt ? { cutAt } : {});
  }
  if (!cutAt) return backbone;
  try {
    return backbone.cut(cutAt);
  } catch (cause) {
    throw new GraftError('LAYER_NOT_FOUND', `backbone.cutAt: no layer or block "${cutAt}"`, {
      where: 'config backbone.cutAt',
      hint: `Blocks: ${backbone.blocks.map((b) => b.name).join(', ')}.`,
      cause,
    });
  }
}

/** One head per configured task. */
export function configuredHeads(tasks: TrainConfig['tasks']): Record<string, TaskHead> {
  const heads: Record<string, TaskHead> = {};
  for (const [name, t] of Object.entries(tasks)) {
    const shape = {
      hidden: t.head.hidden,
      dropout: t.head.dropout,
      ...(t.head.attachAt ? { attachAt: t.head.attachAt } : {}),
    };
    if (t.kind === 'multiLabel') {
      heads[name] = multiLabel({
        labels: t.labels,
        pooling: 'max',
        ...shape,
        ...(t.positiveWeight !== undefined ? { positiveWeight: t.positiveWeight } : {}),
        ...(t.focalGamma !== undefined ? { focal: { gamma: t.focalGamma } } : {}),
      });
    } else if (t.kind === 'classification') {
      heads[name] = classification({
        classes: t.classes,
        labelSmoothing: t.labelSmoothing,
        ...shape,
      });
    } else {
      heads[name] = regression({
        outputs: t.outputs,
        names: regressionNames(name, t),
        loss: t.loss === 'huber' ? { huber: { delta: 1 } } : 'mse',
        ...shape,
      });
    }
  }
  return heads;
}

/** The freeze policy a config names; `ruleOfThumb` decides from the labelled counts. */
export function freezePolicy(
  freeze: TrainConfig['freeze'],
  labelled: Readonly<Record<string, number>>,
): FreezePolicy {
  if (typeof freeze === 'string') {
    switch (freeze) {
      case 'ruleOfThumb':
        return ruleOfThumb({ labelled });
      case 'headsOnly':
        return headsOnly();
      case 'all':
        return all();
      case 'bnOnly':
        return bnOnly();
      case 'fineTune':
        return fineTune();
    }
  }
  switch (freeze.policy) {
    case 'lastBlocks':
      return lastBlocks(freeze.n);
    case 'discriminative':
      return discriminative({ decay: freeze.decay });
    case 'gradual':
      return gradual({ every: freeze.every });
    case 'fineTune':
      return fineTune({ warmupEpochs: freeze.warmupEpochs, decay: freeze.decay });
  }
}

export function weightingStrategy(weighting: TrainConfig['weighting']): GradientStrategy {
  if (typeof weighting === 'string') return taskWeighting(weighting);
  return taskWeighting('static', { weights: weighting.weights });
}

export function optimizerSpec(o: TrainConfig['optimizer']): OptimizerSpec {
  if (o.name === 'sgd') {
    return {
      type: 'sgd',
      learningRate: o.learningRate,
      weightDecay: o.weightDecay,
      momentum: o.momentum,
    };
  }
  return { type: o.name, learningRate: o.learningRate, weightDecay: o.weightDecay };
}

export function learningRateSchedule(
  s: TrainConfig['schedule'],
  stepsPerEpoch: number,
): LearningRateSchedule {
  const after =
    s.name === 'constant'
      ? constantSchedule()
      : s.name === 'oneCycle'
        ? oneCycleSchedule()
        : cosineSchedule();
  const steps = Math.round(s.warmupEpochs * stepsPerEpoch);
  return steps > 0 ? warmupSchedule({ steps, after }) : after;
}

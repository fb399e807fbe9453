export type { ClassificationHead, ClassificationOptions } from './heads/classification';
export { classification } from './heads/classification';
export type { MultiLabelHead, MultiLabelOptions } from './heads/multiLabel';
export { multiLabel } from './heads/multiLabel';
export type { RegressionHead, RegressionLoss, RegressionOptions } from './heads/regression';
export { regression } from './heads/regression';
export type { HeadBase, HeadKind, HeadOptions, TaskHead } from './heads/taskHead';
export type {
  BinaryCrossEntropyOptions,
  FocalOptions,
} from './losses/maskedBinaryCrossEntropy';
export { maskedBinaryCrossEntropy } from './losses/maskedBinaryCrossEntropy';
export { maskedMean } from './losses/maskedMean';
export { maskedHuber, maskedMeanSquaredError } from './losses/maskedRegressionLosses';
export type { SoftmaxCrossEntropyOptions } from './losses/maskedSoftmaxCrossEntropy';
export { maskedSoftmaxCrossEntropy } from './losses/maskedSoftmaxCrossEntropy';
export type { BinaryCounts, PrecisionRecallF1 } from './metrics/binaryMetrics';
export {
  averagePrecision,
  countsAt,
  meanDefined,
  precisionRecallF1,
  rocAuc,
} from './metrics/binaryMetrics';
export type { ClassificationMetrics, ClassMetrics } from './metrics/classificationMetrics';
export { classificationMetrics, confusionMatrix } from './metrics/classificationMetrics';
export type { ModelReport } from './metrics/modelMetrics';
export { modelMetrics } from './metrics/modelMetrics';
export type { RegressionMetrics } from './metrics/regressionMetrics';
export { regressionMetrics } from './metrics/regressionMetrics';
export type {
  ClassificationReport,
  LabelReport,
  LabelScores,
  MultiLabelReport,
  RegressionReport,
  TaskMetricsAccumulator,
  TaskReport,
} from './metrics/taskMetrics';
export { taskMetrics } from './metrics/taskMetrics';
export type { TunedThreshold } from './metrics/thresholds';
export { bestF1Threshold } from './metrics/thresholds';
export { tuneThresholds } from './metrics/tuneThresholds';
export type { HeadNetwork } from './model/headNetwork';
export type {
  MultiTaskDescription,
  MultiTaskModel,
  MultiTaskModelOptions,
} from './model/multiTaskModel';
export { multiTaskModel } from './model/multiTaskModel';
export type { TaskSpecLike } from './model/taskSpecs';
export { checkTaskSpecs, headsFor } from './model/taskSpecs';
export type { Trunk } from './model/trunk';
export type { DwaOptions } from './weighting/dwa';
export { dwa } from './weighting/dwa';
export { equal } from './weighting/equal';
export type { GradNormOptions } from './weighting/gradNorm';
export { gradNorm } from './weighting/gradNorm';
export type { PcGradOptions } from './weighting/pcGrad';
export { pcGrad } from './weighting/pcGrad';
export type { TaskWeightingName, TaskWeightingOptions } from './weighting/registry';
export { registerTaskWeighting, taskWeighting, taskWeightingNames } from './weighting/registry';
export type { StaticWeightsOptions } from './weighting/staticWeights';
export { staticWeights } from './weighting/staticWeights';
export type { UncertaintyOptions } from './weighting/uncertainty';
export { uncertainty } from './weighting/uncertainty';

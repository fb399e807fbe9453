export type { Backbone, BackboneNode } from './backbone/backbone';
export type { BlockSummary } from './backbone/backboneSummary';
export { formatBackboneSummary, summarizeBlocks } from './backbone/backboneSummary';
export type { BlockAssignment, BlockGrouping } from './backbone/blockGrouping';
export type { ExportedModel, ExportHead, ExportModelOptions } from './backbone/exportModel';
export { exportModel } from './backbone/exportModel';
export type { BackboneFromBlocksOptions } from './backbone/fromBlocks';
export { backboneFromBlocks } from './backbone/fromBlocks';
export { SUPPORTED_KERAS_CLASSES } from './backbone/keras/kerasLayerCodecs';
export { Dropout } from './backbone/layers/dropout';
export {
  GlobalAveragePooling2DKeepdims,
  GlobalMaxPooling2D,
} from './backbone/layers/globalPooling2d';
export { Concatenate, Multiply } from './backbone/layers/merging';
export { PartialBatchNorm } from './backbone/layers/partialBatchNorm';
export { Rescaling } from './backbone/layers/rescaling';
export { Flatten, Reshape } from './backbone/layers/reshaping';
export { SeparableConv2D } from './backbone/layers/separableConv2d';
export type { LoadBackboneOptions } from './backbone/loadBackbone';
export { loadBackbone } from './backbone/loadBackbone';
export type { GraftModel } from './backbone/loadGraftModel';
export { loadGraftModel } from './backbone/loadGraftModel';
export type {
  InMemoryModelArtifacts,
  InMemoryModelFiles,
  ModelLoader,
  ModelSource,
} from './backbone/modelSource';
export type { Preprocessing } from './backbone/preprocessing';
export { defaultPreprocessing } from './backbone/preprocessing';
export type { QuantizationDtype } from './backbone/quantization';
export type { SavedModel } from './backbone/saveModel';
export { saveModel } from './backbone/saveModel';
export type { GraftSidecar, SidecarFreezeRow, SidecarTask } from './backbone/sidecar';
export { GRAFT_SIDECAR_VERSION, parseSidecar } from './backbone/sidecar';
export type { BackendInfo, BackendName, InitBackendOptions } from './backend/initBackend';
export { initBackend } from './backend/initBackend';
export type { GraftErrorCode, GraftErrorDetails } from './errors';
export { GraftError, isGraftError } from './errors';
export { trainingKernelNames } from './kernels/registerTrainingKernels';
export type { MobileNetV2, MobileNetV2Options } from './models/mobileNetV2';
export { mobileNetV2 } from './models/mobileNetV2';
export type { ActivationName } from './nn/activation';
export { Activation, applyActivation } from './nn/activation';
export { Add } from './nn/add';
export type { BatchNormConfig, BatchNormOptions } from './nn/batchNorm';
export { BatchNorm } from './nn/batchNorm';
export type { BatchNormTrainingArgs } from './nn/batchNormTraining';
export { batchNormTraining } from './nn/batchNormTraining';
export type { BlockOptions, LayerOutputListener } from './nn/block';
export { Block } from './nn/block';
export type { BlockInfo, BlockNetwork, BlockNetworkOptions } from './nn/blockNetwork';
export { blockNetwork } from './nn/blockNetwork';
export type { Conv2DConfig, Conv2DOptions } from './nn/conv2d';
export { Conv2D } from './nn/conv2d';
export type { DenseConfig, DenseOptions } from './nn/dense';
export { Dense } from './nn/dense';
export type { DepthwiseConv2DConfig, DepthwiseConv2DOptions } from './nn/depthwiseConv2d';
export { DepthwiseConv2D } from './nn/depthwiseConv2d';
export type { KernelInitializer } from './nn/initializers';
export { initializerLimit, initialKernel, kernelFans } from './nn/initializers';
export type { AnyLayer, ApplyOptions, KerasLayerClass, Layer, Module, Shape } from './nn/module';
export type { Param, ParamKind, ParamSpec } from './nn/param';
export { createParam, isMovingStatistic } from './nn/param';
export {
  assertUniqueParamNames,
  countParams,
  disposeParams,
  findParam,
  trainableVariables,
} from './nn/paramList';
export type { Pooling2DConfig, Pooling2DOptions } from './nn/pooling';
export { AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D } from './nn/pooling';
export type { ReLUOptions } from './nn/relu';
export { ReLU, ReLU6 } from './nn/relu';
export type { Padding } from './nn/spatial';
export type { SpatialPadding } from './nn/zeroPadding2d';
export { ZeroPadding2D } from './nn/zeroPadding2d';
export { batchRows, replicaRows } from './parallel/batchRows';
export type { ReplicaJob, ReplicaJobContext } from './parallel/dataParallelJob';
export { runDataParallelReplica } from './parallel/dataParallelReplica';
export type { DataParallelOptions, DataParallelResult } from './parallel/fitDataParallel';
export { fitDataParallel, restoreTrainedParams } from './parallel/fitDataParallel';
export type { ReplicaGroupMemory } from './parallel/replicaGroup';
export {
  createReplicaGroupMemory,
  ReplicaGroup,
  requestReplicaStop,
} from './parallel/replicaGroup';
export type { EncodeOptions, ParamBlobEntry, ParamBlobManifest } from './pretrained/paramBlob';
export { decodeParamsInto, encodeParams } from './pretrained/paramBlob';
export type {
  PretrainedBackbone,
  PretrainedBackboneOptions,
} from './pretrained/pretrainedBackbone';
export { pretrainedBackbone, pretrainedBackboneIds } from './pretrained/pretrainedBackbone';
export type { Batch, BatchSource, BatchStream, TrainingData } from './train/batch';
export { batchTensors, knownBatchCount, passOver } from './train/batch';
export type { BatchMetrics, MetricsResult } from './train/batchMetrics';
export type { Checkpoint, CheckpointOptions } from './train/callbacks/checkpoint';
export { checkpoint } from './train/callbacks/checkpoint';
export type { EarlyStoppingOptions } from './train/callbacks/earlyStopping';
export { earlyStopping } from './train/callbacks/earlyStopping';
export type { MetricsLogger, MetricsRow } from './train/callbacks/metricsLogger';
export { metricsLogger } from './train/callbacks/metricsLogger';
export type { Monitor, MonitorMode } from './train/callbacks/monitor';
export type { ProgressOptions } from './train/callbacks/progress';
export { formatEpoch, progress } from './train/callbacks/progress';
export type { TrainerCallback, TrainingControl } from './train/callbacks/trainerCallback';
export type { FeatureCacheMode } from './train/featureCachePass';
export { DEFAULT_FEATURE_CACHE_BYTES } from './train/featureCachePass';
export type {
  GradientStrategy,
  GradientStrategyContext,
  GradientStrategyResult,
} from './train/gradientStrategy';
export { equalWeights, gradientsOfCombinedLoss, weightedSum } from './train/gradientStrategy';
export type { AdamSpec, OptimizerSpec, SgdSpec } from './train/optimizer/optimizerSpec';
export type { OptimizerEntry, OptimizerStepOptions } from './train/optimizer/paramOptimizer';
export { ParamOptimizer } from './train/optimizer/paramOptimizer';
export type {
  CosineOptions,
  LearningRateSchedule,
  OneCycleOptions,
  WarmupOptions,
} from './train/schedules';
export {
  constantSchedule,
  cosineSchedule,
  oneCycleSchedule,
  warmupSchedule,
} from './train/schedules';
export type {
  BatchNormMode,
  FeatureSplit,
  ForwardOptions,
  ModelOutputs,
  TaskLossFunction,
  TrainableModel,
  TrunkFeatures,
} from './train/trainableModel';
export type { TrainableDecision, TrainablePlan } from './train/trainablePlan';
export { applyPlan } from './train/trainablePlan';
export type { FitOptions, TrainerOptions } from './train/trainer';
export { Trainer } from './train/trainer';
export type { EpochLogs, Evaluation, History, StepLogs } from './train/trainingLogs';
export type {
  CallbackState,
  FitCursor,
  HostTensor,
  OptimizerState,
  TrainingState,
} from './train/trainingState';
export { decodeTrainingState, encodeTrainingState } from './train/trainingState';
export type { WeightSnapshot } from './train/weightSnapshot';
export { restoreParams, snapshotParams } from './train/weightSnapshot';

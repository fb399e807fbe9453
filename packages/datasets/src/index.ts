export type { IdxOptions } from './adapters/idx';
export { idx } from './adapters/idx';
export type { ImageFolderOptions } from './adapters/imageFolder';
export { imageFolder } from './adapters/imageFolder';
export type { FileDataset } from './adapters/imageRecords';
export type { ManifestOptions, ManifestTask } from './adapters/manifest';
export { manifest } from './adapters/manifest';
export type { SkippedExample, SkipReport } from './adapters/skipReport';
export { describeSkips } from './adapters/skipReport';
export type { Batch, BatchesOptions } from './batching/batches';
export { batches, disposeBatch, hostBatches, toTensors } from './batching/batches';
export type { BatchSourceOptions, EpochBatches } from './batching/batchSource';
export { batchSource } from './batching/batchSource';
export type { HostBatch, HostTaskTargets } from './batching/collate';
export { collate, collateTargets } from './batching/collate';
export type { CachedFeatures, CacheFeaturesOptions } from './cache/cacheFeatures';
export { cacheFeatures } from './cache/cacheFeatures';
export type { FeatureRow, FeatureStore } from './cache/featureStore';
export { diskFeatureStore, memoryFeatureStore } from './cache/featureStore';
export type {
  Dataset,
  Example,
  ExampleInput,
  ExampleLabels,
  IndexedDataset,
  Target,
  Targets,
} from './dataset';
export { isIndexed } from './dataset';
export type { FromArraysOptions } from './fromArrays';
export { fromArrays } from './fromArrays';
export type { DecodeOptions } from './image/decodeImage';
export { decodeImage } from './image/decodeImage';
export type { IndexedDatasetParts } from './indexedDataset';
export { indexedDataset } from './indexedDataset';
export type { Rng } from './random';
export { createRng, mixSeed } from './random';
export type { SplitOptions } from './splits/stratifiedSplit';
export { stratifiedSplit } from './splits/stratifiedSplit';
export type { BalanceWarning, BalanceWarningOptions } from './stats/balanceWarnings';
export { balanceWarnings } from './stats/balanceWarnings';
export type { LabelCount, LabelStats, OutputSummary, TaskLabelStats } from './stats/labelStats';
export { labelStats } from './stats/labelStats';
export { subset } from './subset';
export type {
  DrivingScenes,
  DrivingScenesOptions,
  DrivingSceneTask,
} from './synthetic/drivingScenes';
export {
  drivingSceneObjects,
  drivingScenes,
  drivingSceneTasks,
  trafficLightColours,
} from './synthetic/drivingScenes';
export type { QuadrantShapes, QuadrantShapesOptions } from './synthetic/quadrantShapes';
export { quadrantShapes } from './synthetic/quadrantShapes';
export type { Shapes, ShapesOptions } from './synthetic/shapes';
export { shapeClasses, shapes, shapeTasks, shapeTextures } from './synthetic/shapes';
export type { TaskKind, TaskSpec, TaskSpecs } from './taskSpec';
export { labelNames, targetProblem, targetWidth } from './taskSpec';
export { toChannels } from './transforms/channels';
export type { ColorJitterOptions } from './transforms/colorJitter';
export { colorJitter } from './transforms/colorJitter';
export type { CropOptions, RandomCropOptions } from './transforms/crop';
export { centerCrop, fitTo, randomCrop } from './transforms/crop';
export { fitToBackbone } from './transforms/fitToBackbone';
export type { RandomFlipOptions } from './transforms/flip';
export { randomFlip } from './transforms/flip';
export type { BackbonePreprocessing } from './transforms/normalize';
export { normalize } from './transforms/normalize';
export type { ResizeOptions } from './transforms/resize';
export { resize } from './transforms/resize';
export type { MapExamplesOptions, Transform, TransformContext } from './transforms/transform';
export { mapExamples } from './transforms/transform';

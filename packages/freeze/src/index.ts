export type { FreezableModel } from './freezableModel';
export { layerOf } from './freezableModel';
export type { BatchNormMode, ExplainRow, FreezePlan, ParamDecider, ParamPlan } from './freezePlan';
export { scheduledPlan, staticPlan } from './freezePlan';
export type { FreezePolicy } from './freezePolicy';
export { all } from './policies/all';
export { bnOnly } from './policies/bnOnly';
export type { DiscriminativeOptions } from './policies/discriminative';
export { discriminative } from './policies/discriminative';
export type { FineTuneOptions } from './policies/fineTune';
export { fineTune } from './policies/fineTune';
export type { GradualOptions } from './policies/gradual';
export { gradual } from './policies/gradual';
export { headsOnly } from './policies/headsOnly';
export type { RuleOfThumbOptions } from './policies/ruleOfThumb';
export {
  DISSIMILAR_RETRAIN_ALL,
  MEDIUM_DATA_PER_MPARAM,
  ruleOfThumb,
  SMALL_DATA_PER_MPARAM,
  TINY_DATASET,
} from './policies/ruleOfThumb';
export { blocks, lastBlocks } from './policies/unfreezeBlocks';

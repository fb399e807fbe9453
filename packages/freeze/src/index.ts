export type { ExplainRow, FreezePlan, ParamDecision, ParamInfo } from './freezePlan';
export { planFrom } from './freezePlan';
export { all, lastBlocks } from './policies';

// Programmatic entry points of the CLI, for tools that embed its pieces.
export { main } from './main';
export type { CompareReport } from './report/compareReport';
export { renderCompareReport } from './report/renderCompareReport';
export { renderReport } from './report/renderReport';
export type { RunReport } from './report/runReport';
export { sampleCompareReport } from './report/sampleCompareReport';
export { sampleReport } from './report/sampleReport';

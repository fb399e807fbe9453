// Programmatic entry points of the CLI, for tools that embed its pieces.
export { main } from './main';
export { renderReport } from './report/renderReport';
export type { RunReport } from './report/runReport';
export { sampleReport } from './report/sampleReport';

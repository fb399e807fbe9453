export type { Dataset, Example, ExampleInput, Target } from './dataset';
export type { FromArraysOptions } from './fromArrays';
export { fromArrays } from './fromArrays';
export type { Rng } from './random';
export { createRng } from './random';
export type { QuadrantShapes, QuadrantShapesOptions } from './synthetic/quadrantShapes';
export { quadrantShapes } from './synthetic/quadrantShapes';

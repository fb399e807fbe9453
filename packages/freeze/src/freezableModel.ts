import type { BlockInfo, Param } from '@graft/core';

/**
 * What a freezing policy looks at: every parameter (trunk and heads) and the trunk's blocks in
 * order, input to output. Parameters whose block is not a trunk block belong to heads.
 *
 * @example
 * ```ts
 * const model = multiTaskModel({ backbone: pretrainedBackbone(), tasks }); // a FreezableModel
 * const plan = lastBlocks(2).plan(model);
 * ```
 */
export interface FreezableModel {
  readonly params: readonly Pick<Param, 'name' | 'block' | 'kind' | 'variable'>[];
  readonly blocks: readonly Pick<BlockInfo, 'name'>[];
}

/**
 * The layer a parameter belongs to: names are `<layer>/<weight>`.
 *
 * @example
 * ```ts
 * layerOf('block_16_project_BN/gamma'); // 'block_16_project_BN'
 * ```
 */
export function layerOf(paramName: string): string {
  const slash = paramName.lastIndexOf('/');
  return slash < 0 ? paramName : paramName.slice(0, slash);
}

export function trunkBlockNames(model: FreezableModel): string[] {
  return model.blocks.map((b) => b.name);
}

export function isHeadParam(model: FreezableModel, block: string): boolean {
  return !model.blocks.some((b) => b.name === block);
}

import { type FreezePlan, type ParamInfo, planFrom } from './freezePlan';

/** Fine-tune everything: the source notes' rule for a large task-B dataset. */
export function all(params: readonly ParamInfo[]): FreezePlan {
  return planFrom(params, () => ({ trainable: true, lrScale: 1, reason: 'all parameters train' }));
}

/**
 * Unfreeze only the last `n` trunk blocks (plus anything not in `trunkBlocks`, i.e. heads):
 * the source notes' rule for a small dataset is to retrain the last layer or two.
 * `trunkBlocks` lists the backbone's blocks from input to output.
 */
export function lastBlocks(
  params: readonly ParamInfo[],
  options: { n: number; trunkBlocks: readonly string[] },
): FreezePlan {
  const { n, trunkBlocks } = options;
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`lastBlocks: n must be a whole number >= 0, got ${n}`);
  const open = new Set(trunkBlocks.slice(Math.max(0, trunkBlocks.length - n)));
  const trunk = new Set(trunkBlocks);
  return planFrom(params, (p) => {
    if (!trunk.has(p.block)) return { trainable: true, lrScale: 1, reason: 'head' };
    return open.has(p.block)
      ? { trainable: true, lrScale: 1, reason: `one of the last ${n} blocks` }
      : { trainable: false, lrScale: 0, reason: `frozen: before the last ${n} blocks` };
  });
}

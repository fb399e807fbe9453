import { GraftError } from '@graft/errors';
import { type FreezableModel, isHeadParam, trunkBlockNames } from '../freezableModel';
import { type FreezePlan, staticPlan } from '../freezePlan';
import type { FreezePolicy } from '../freezePolicy';

/**
 * Unfreeze the last `n` trunk blocks (and the heads): the source notes' "retrain the last one
 * or two layers" for a small dataset, addressed by block so it means the same on any backbone.
 *
 * @example
 * ```ts
 * const plan = lastBlocks(2).plan(model); // the last two trunk blocks and the heads train
 * ```
 */
export function lastBlocks(n: number): FreezePolicy {
  if (!Number.isInteger(n) || n < 0) {
    throw new GraftError('INVALID_ARGUMENT', `lastBlocks(n) needs a whole number n >= 0, got ${n}`);
  }
  const name = `lastBlocks(${n})`;
  return {
    name,
    plan: (model) => {
      const names = trunkBlockNames(model);
      if (n > names.length) {
        throw new GraftError(
          'FREEZE_BAD_BLOCK_COUNT',
          `${name} asks for more blocks than the trunk has`,
          {
            where: `${names.length} blocks: ${names.join(', ')}`,
            hint: `Use lastBlocks(${names.length}) or all().`,
          },
        );
      }
      return unfreezeSet(
        model,
        name,
        new Set(names.slice(names.length - n)),
        `one of the last ${n} blocks`,
      );
    },
  };
}

/**
 * Unfreeze the named trunk blocks (and the heads); every name must be a block of the trunk.
 *
 * @example
 * ```ts
 * const plan = blocks(['block_16', 'conv_head']).plan(model); // those blocks and the heads train
 * ```
 */
export function blocks(names: readonly string[]): FreezePolicy {
  const name = `blocks(${names.join(', ')})`;
  return {
    name,
    plan: (model) => {
      const known = trunkBlockNames(model);
      for (const b of names) {
        if (!known.includes(b)) {
          throw new GraftError('FREEZE_UNKNOWN_BLOCK', `No trunk block named "${b}"`, {
            where: name,
            hint: `Blocks are: ${nearFirst(known, b).slice(0, 8).join(', ')}${known.length > 8 ? ', ...' : ''}.`,
          });
        }
      }
      return unfreezeSet(model, name, new Set(names), 'named block');
    },
  };
}

function unfreezeSet(
  model: FreezableModel,
  policy: string,
  open: Set<string>,
  why: string,
): FreezePlan {
  return staticPlan(model, policy, (p) => {
    if (p.kind === 'movingMean' || p.kind === 'movingVariance') {
      return { trainable: false, lrScale: 0, reason: 'batch-norm statistic (follows the batch)' };
    }
    if (isHeadParam(model, p.block)) return { trainable: true, lrScale: 1, reason: 'head' };
    return open.has(p.block)
      ? { trainable: true, lrScale: 1, reason: why }
      : { trainable: false, lrScale: 0, reason: 'frozen' };
  });
}

/** Known names ordered by how much they share with `wanted` (shared prefix, then order). */
function nearFirst(known: readonly string[], wanted: string): string[] {
  const shared = (a: string) => {
    let i = 0;
    while (i < a.length && i < wanted.length && a[i] === wanted[i]) i++;
    return i;
  };
  return [...known].sort((a, b) => shared(b) - shared(a));
}

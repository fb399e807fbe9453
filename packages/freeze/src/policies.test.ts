import { describe, expect, it } from 'vitest';
import type { ParamInfo } from './freezePlan';
import { all, lastBlocks } from './policies';

const params: ParamInfo[] = [
  { name: 'stem/kernel', block: 'stem', size: 432 },
  { name: 'stem_bn/gamma', block: 'stem', size: 16 },
  { name: 'block_1/kernel', block: 'block_1', size: 1000 },
  { name: 'block_2/kernel', block: 'block_2', size: 2000 },
  { name: 'head:car/kernel', block: 'head:car', size: 65 },
];
const trunkBlocks = ['stem', 'block_1', 'block_2'];

describe('freeze policies', () => {
  it('all() trains every parameter at full rate', () => {
    const plan = all(params);
    expect([...plan.decisions.values()].every((d) => d.trainable && d.lrScale === 1)).toBe(true);
  });

  it('lastBlocks(1) trains the last trunk block and the heads only', () => {
    const plan = lastBlocks(params, { n: 1, trunkBlocks });
    const trainable = params
      .filter((p) => plan.decisions.get(p.name)?.trainable)
      .map((p) => p.name);
    expect(trainable).toEqual(['block_2/kernel', 'head:car/kernel']);
  });

  it('explain() summarises per block, in order, with counts and reasons', () => {
    const rows = lastBlocks(params, { n: 2, trunkBlocks }).explain();
    expect(rows.map((r) => [r.block, r.params, r.trainable])).toEqual([
      ['stem', 448, false],
      ['block_1', 1000, true],
      ['block_2', 2000, true],
      ['head:car', 65, true],
    ]);
    expect(rows[0]?.reason).toMatch(/frozen/);
  });

  it('rejects a negative block count', () => {
    expect(() => lastBlocks(params, { n: -1, trunkBlocks })).toThrow(/n must be a whole number/);
  });
});

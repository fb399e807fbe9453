import { describe, expect, it } from 'vitest';
import { fromArrays } from './fromArrays';

describe('fromArrays', () => {
  const inputs = [new Float32Array([1, 2]), new Float32Array([3, 4]), new Float32Array([5, 6])];

  it('iterates examples in order with ids, inputs and per-task targets, null for missing', async () => {
    const ds = fromArrays({
      inputShape: [1, 2, 1],
      inputs,
      targets: { car: [1, null, 0], count: [2, 3, null] },
    });
    expect(ds.size).toBe(3);
    expect(ds.tasks).toEqual(['car', 'count']);
    const seen = [];
    for await (const ex of ds) seen.push(ex);
    expect(seen.map((e) => e.id)).toEqual(['0', '1', '2']);
    expect(Array.from(seen[1]!.input.data)).toEqual([3, 4]);
    expect(seen.map((e) => e.targets.car)).toEqual([1, null, 0]);
    expect(seen.map((e) => e.targets.count)).toEqual([2, 3, null]);
  });

  it('names the task whose target count does not match the inputs', () => {
    expect(() => fromArrays({ inputShape: [2], inputs, targets: { car: [1, 0] } })).toThrow(
      /task "car" has 2 targets for 3 inputs/,
    );
  });

  it('names the input whose size does not match the shape', () => {
    expect(() => fromArrays({ inputShape: [3], inputs, targets: {} })).toThrow(
      /input 0 has 2 values, expected 3/,
    );
  });
});

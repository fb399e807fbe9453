import { isGraftError } from '@graft/errors';
import { describe, expect, it } from 'vitest';
import type { Example } from './dataset';
import { fromArrays } from './fromArrays';

describe('fromArrays', () => {
  const inputs = [new Float32Array([1, 2]), new Float32Array([3, 4]), new Float32Array([5, 6])];
  const tasks = {
    car: { kind: 'classification', classes: ['no', 'yes'] },
    count: { kind: 'regression', outputs: 1 },
  } as const;

  it('iterates examples in order with ids, inputs and per-task targets, null for missing', async () => {
    const ds = fromArrays({
      inputShape: [1, 2, 1],
      inputs,
      tasks,
      targets: { car: [1, null, 0], count: [2, 3, null] },
    });
    expect(ds.size).toBe(3);
    expect(Object.keys(ds.tasks)).toEqual(['car', 'count']);
    const seen: Example[] = [];
    for await (const ex of ds) seen.push(ex);
    expect(seen.map((e) => e.id)).toEqual(['0', '1', '2']);
    expect(Array.from(seen[1]!.input.data)).toEqual([3, 4]);
    expect(seen.map((e) => e.targets.car)).toEqual([1, null, 0]);
    expect(seen.map((e) => e.targets.count)).toEqual([2, 3, null]);
    expect(ds.labelsAt(2)).toEqual({ id: '2', targets: { car: 0, count: null } });
    expect((await ds.get(0)).targets).toEqual({ car: 1, count: 2 });
  });

  it('names the task whose target count does not match the inputs', () => {
    expect(() =>
      fromArrays({ inputShape: [2], inputs, tasks, targets: { car: [1, 0], count: [1, 2, 3] } }),
    ).toThrow(/task "car" has 2 targets for 3 inputs/);
  });

  it('names the input whose size does not match the shape', () => {
    expect(() => fromArrays({ inputShape: [3], inputs, tasks: {}, targets: {} })).toThrow(
      /input 0 has 2 values, expected 3/,
    );
  });

  it('rejects a target that does not fit its task, naming task and index', () => {
    try {
      fromArrays({ inputShape: [2], inputs, tasks, targets: { car: [0, 2, 1], count: [1, 2, 3] } });
      expect.unreachable();
    } catch (e) {
      expect(isGraftError(e, 'DATASET_LABEL_UNKNOWN')).toBe(true);
      expect((e as Error).message).toMatch(
        /task "car" target 1 is 2: expected a class index in \[0, 2\)/,
      );
    }
  });

  it('rejects targets for an undeclared task and an out-of-range index', async () => {
    expect(() =>
      fromArrays({ inputShape: [2], inputs, tasks: {}, targets: { car: [0, 1, 0] } }),
    ).toThrow(/task "car" that tasks does not declare/);
    const ds = fromArrays({ inputShape: [2], inputs, tasks: {}, targets: {} });
    await expect(ds.get(3)).rejects.toThrow(/Example index 3 is out of range \(fromArrays\)/);
  });
});

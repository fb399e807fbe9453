import { describe, expect, it } from 'vitest';
import type { Dataset } from '../dataset';
import { fromArrays } from '../fromArrays';
import { drivingScenes } from '../synthetic/drivingScenes';
import { balanceWarnings } from './balanceWarnings';
import { labelStats } from './labelStats';

describe('labelStats', () => {
  const ds = fromArrays({
    inputShape: [1],
    inputs: Array.from({ length: 5 }, () => new Float32Array(1)),
    tasks: {
      objects: { kind: 'multiLabel', labels: ['a', 'b'] },
      colour: { kind: 'classification', classes: ['red', 'green', 'blue'] },
      size: { kind: 'regression', outputs: 1 },
    },
    targets: {
      objects: [[1, 0], [null, 1], null, [0, 0], [null, null]],
      colour: [2, null, 0, 2, null],
      size: [1, 3, null, null, null],
    },
  });

  it('counts labelled and missing per task, positives per label, classes, value summaries', async () => {
    const s = await labelStats(ds);
    expect(s.examples).toBe(5);
    expect(s.tasks.objects).toEqual({
      kind: 'multiLabel',
      labelled: 3,
      missing: 2,
      labelledFraction: 0.6,
      labels: [
        { label: 'a', labelled: 2, positives: 1, positiveRate: 0.5 },
        { label: 'b', labelled: 3, positives: 1, positiveRate: 1 / 3 },
      ],
    });
    expect(s.tasks.colour?.classCounts).toEqual({ red: 1, green: 0, blue: 2 });
    expect(s.tasks.colour?.labelled).toBe(3);
    expect(s.tasks.size?.outputs).toEqual([{ labelled: 2, mean: 2, std: 1, min: 1, max: 3 }]);
    expect(s.tasks.size?.missing).toBe(3);
  });

  it('gives the same numbers for a stream-only dataset as for an indexed one', async () => {
    const stream: Dataset = {
      size: ds.size,
      tasks: ds.tasks,
      [Symbol.asyncIterator]: () => ds[Symbol.asyncIterator](),
    };
    expect(await labelStats(stream)).toEqual(await labelStats(ds));
  });

  it('warns when a task has far fewer labels than the others, or a class never occurs', async () => {
    const warnings = balanceWarnings(await labelStats(ds), { minRatio: 0.7 });
    expect(warnings.map((w) => [w.task, w.kind])).toEqual([
      ['colour', 'classMissing'],
      ['size', 'fewLabels'],
    ]);
    expect(warnings[1]?.message).toMatch(
      /task "size" has 2 labelled examples, 67% of "objects" \(3\)/,
    );
    // Driving scenes: the light colour is only known when a lit lamp is visible (about 1 in 3).
    const scenes = await labelStats(drivingScenes({ count: 600, seed: 1 }));
    expect(balanceWarnings(scenes).map((w) => [w.task, w.kind])).toEqual([
      ['lightColour', 'fewLabels'],
    ]);
    expect(balanceWarnings(scenes, { minRatio: 0.2 })).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { IndexedDataset } from '../dataset';
import { fromArrays } from '../fromArrays';
import { labelStats } from '../stats/labelStats';
import { drivingScenes } from '../synthetic/drivingScenes';
import { stratifiedSplit } from './stratifiedSplit';

const ids = (ds: IndexedDataset) => Array.from({ length: ds.size }, (_, i) => ds.labelsAt(i).id);
const fractions = { train: 0.8, validation: 0.1, test: 0.1 };

describe('stratifiedSplit', () => {
  const scenes = drivingScenes({ count: 2000, seed: 4, missing: 0.15 });

  it('partitions the examples in the given fractions; same seed same splits, other seed other', () => {
    const a = stratifiedSplit(scenes, { fractions, seed: 1 });
    const b = stratifiedSplit(scenes, { fractions, seed: 1 });
    const c = stratifiedSplit(scenes, { fractions, seed: 2 });
    // Sizes land within a couple of examples of the fractions.
    expect(Math.abs(a.train.size - 1600)).toBeLessThanOrEqual(2);
    expect(Math.abs(a.validation.size - 200)).toBeLessThanOrEqual(2);
    expect(Math.abs(a.test.size - 200)).toBeLessThanOrEqual(2);
    expect(ids(b.validation)).toEqual(ids(a.validation));
    expect(ids(b.test)).toEqual(ids(a.test));
    expect(ids(c.validation)).not.toEqual(ids(a.validation));
    const all = [...ids(a.train), ...ids(a.validation), ...ids(a.test)];
    expect(new Set(all).size).toBe(2000);
  });

  it('keeps each split close to the whole label distribution, closer than a random split', async () => {
    const whole = await labelStats(scenes);
    const gap = async (ds: IndexedDataset) => {
      const s = await labelStats(ds);
      let worst = 0;
      s.tasks.presence?.labels?.forEach((l, k) => {
        const w = whole.tasks.presence?.labels?.[k];
        worst = Math.max(worst, Math.abs(l.positiveRate - (w?.positiveRate ?? 0)));
      });
      for (const task of ['lightColour', 'carCount'] as const) {
        const t = s.tasks[task];
        worst = Math.max(
          worst,
          Math.abs((t?.labelledFraction ?? 0) - (whole.tasks[task]?.labelledFraction ?? 0)),
        );
      }
      return worst;
    };
    let stratified = 0;
    let random = 0;
    for (const seed of [1, 2, 3]) {
      stratified = Math.max(
        stratified,
        await gap(stratifiedSplit(scenes, { fractions, seed }).test),
      );
      random = Math.max(
        random,
        await gap(stratifiedSplit(scenes, { fractions, seed, stratifyBy: [] }).test),
      );
    }
    expect(stratified).toBeLessThan(0.01); // measured 0.003 (random split: 0.09)
    expect(stratified).toBeLessThan(random);
  });

  it('divides even a small classification task per class', () => {
    const n = 40;
    const ds = fromArrays({
      inputShape: [1],
      inputs: Array.from({ length: n }, () => new Float32Array(1)),
      tasks: { c: { kind: 'classification', classes: ['a', 'b', 'c', 'd'] } },
      targets: {
        c: Array.from({ length: n }, (_, i) => (i < 20 ? 0 : i < 30 ? 1 : i < 38 ? 2 : 3)),
      },
    });
    const { train, test } = stratifiedSplit(ds, { fractions: { train: 0.5, test: 0.5 }, seed: 9 });
    const count = (d: IndexedDataset, cls: number) =>
      Array.from({ length: d.size }, (_, i) => d.labelsAt(i).targets.c).filter((v) => v === cls)
        .length;
    expect([0, 1, 2, 3].map((k) => count(train, k))).toEqual([10, 5, 4, 1]);
    expect([0, 1, 2, 3].map((k) => count(test, k))).toEqual([10, 5, 4, 1]);
  });

  it('refuses bad fractions and unknown tasks', () => {
    expect(() => stratifiedSplit(scenes, { fractions: { a: 0.5, b: 0.6 }, seed: 1 })).toThrow(
      /sum to 1/,
    );
    expect(() => stratifiedSplit(scenes, { fractions, seed: 1, stratifyBy: ['nope'] })).toThrow(
      /unknown task "nope"/,
    );
  });
});

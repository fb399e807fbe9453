import { describe, expect, it } from 'vitest';
import { isGraftError } from '../errors';
import {
  constantSchedule,
  cosineSchedule,
  type LearningRateSchedule,
  oneCycleSchedule,
  warmupSchedule,
} from './schedules';

const run = (s: LearningRateSchedule, total: number) =>
  Array.from({ length: total }, (_, step) => s.factor(step, total));

describe('learning-rate schedules', () => {
  it('constant is 1 throughout', () => {
    expect(run(constantSchedule(), 4)).toEqual([1, 1, 1, 1]);
  });

  it('cosine goes from 1 to minFactor along half a cosine', () => {
    const f = run(cosineSchedule({ minFactor: 0.1 }), 5);
    // progress 0, 1/4, 1/2, 3/4, 1: 0.1 + 0.9 (1 + cos(pi p)) / 2
    const expected = [0, 0.25, 0.5, 0.75, 1].map(
      (p) => 0.1 + (0.9 * (1 + Math.cos(Math.PI * p))) / 2,
    );
    f.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 12);
    });
    expect(f[2]).toBeCloseTo(0.55, 12);
  });

  it('one-cycle rises to the peak at 25% of the run and falls to base/(25 x 1e4)', () => {
    const f = run(oneCycleSchedule(), 101);
    expect(f[0]).toBeCloseTo(1 / 25, 12);
    expect(f[25]).toBe(1);
    expect(Math.max(...f)).toBe(1);
    expect(f[100]).toBeCloseTo(1 / 25 / 1e4, 12);
    for (let i = 1; i <= 25; i++) expect(f[i] as number).toBeGreaterThan(f[i - 1] as number);
    for (let i = 26; i <= 100; i++) expect(f[i] as number).toBeLessThan(f[i - 1] as number);
  });

  it('warm-up ramps linearly, then hands over to the wrapped schedule', () => {
    const f = run(warmupSchedule({ steps: 4, after: cosineSchedule() }), 9);
    const cosine = run(cosineSchedule(), 9);
    [0.25, 0.5, 0.75, 1].forEach((ramp, i) => {
      expect(f[i]).toBeCloseTo(ramp * (cosine[i] as number), 12);
    });
    expect(f.slice(4)).toEqual(cosine.slice(4));
  });

  it('rejects settings outside their range', () => {
    for (const make of [
      () => cosineSchedule({ minFactor: 2 }),
      () => oneCycleSchedule({ rise: 1 }),
      () => warmupSchedule({ steps: 0 }),
    ]) {
      let caught: unknown;
      try {
        make();
      } catch (e) {
        caught = e;
      }
      expect(isGraftError(caught, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});

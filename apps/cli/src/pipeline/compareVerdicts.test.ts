import { describe, expect, it } from 'vitest';
import {
  difference,
  multiTaskVerdict,
  type PolicyRow,
  policyVerdict,
  stat,
  type TaskMetric,
  transferVerdict,
} from './compareVerdicts';

const tasks: TaskMetric[] = [
  { task: 'presence', kind: 'multiLabel', metric: 'AUC' },
  { task: 'carCount', kind: 'regression', metric: 'R²' },
];
const one = (v: number) => stat([v]);

describe('stat and difference', () => {
  it('mean and sample standard deviation, ignoring undefined values', () => {
    const s = stat([0.6, 0.8, Number.NaN]);
    expect(s.mean).toBeCloseTo(0.7, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(s.n).toBe(2);
    expect(stat([Number.NaN]).mean).toBeNaN();
  });

  it('calls a difference an effect only beyond the tolerance', () => {
    expect(difference('t', one(0.75), one(0.7), 0.01).effect).toBe('helps');
    expect(difference('t', one(0.7), one(0.75), 0.01).effect).toBe('hurts');
    expect(difference('t', one(0.705), one(0.7), 0.01).effect).toBe('none');
    expect(difference('t', one(Number.NaN), one(0.7), 0.01).effect).toBe('undefined');
  });

  it("widens the tolerance by the validation split's sampling error", () => {
    // Sampling errors 0.03 and 0.04: the difference's is 0.05, the tolerance 0.1.
    const d = difference('t', stat([0.8], [0.03]), stat([0.72], [0.04]), 0.01);
    expect(d.tolerance).toBeCloseTo(0.1, 12);
    expect(d.effect).toBe('none');
    expect(difference('t', stat([0.83], [0.03]), stat([0.72], [0.04]), 0.01).effect).toBe('helps');
  });

  it('with several seeds, widens the tolerance to two standard errors', () => {
    // sd 0.1 over 2 seeds each: standard error of the difference 0.1, tolerance 0.2.
    const a = stat([0.8, 0.8 + Math.SQRT2 * 0.1]);
    const b = stat([0.7, 0.7 + Math.SQRT2 * 0.1]);
    const d = difference('t', a, b, 0.01);
    expect(d.tolerance).toBeCloseTo(0.2, 6);
    expect(d.delta).toBeCloseTo(0.1, 6);
    expect(d.effect).toBe('none');
  });
});

describe('transferVerdict', () => {
  it('reports the gain per fraction and notices that it shrinks as data grows', () => {
    const v = transferVerdict(
      tasks,
      [
        {
          fraction: 1,
          trainExamples: 400,
          transfer: { presence: one(0.82), carCount: one(0.5) },
          scratch: { presence: one(0.8), carCount: one(0.45) },
        },
        {
          fraction: 0.25,
          trainExamples: 100,
          transfer: { presence: one(0.77), carCount: one(0.4) },
          scratch: { presence: one(0.7), carCount: one(0.1) },
        },
      ],
      0.01,
    );
    expect(v.lines[0]).toBe(
      'transfer helps presence: AUC +0.070 at 25% of the data (100 examples), +0.020 at 100% of the data (400 examples)',
    );
    expect(v.lines[1]).toMatch(/^transfer helps carCount: R² \+0\.300 at 25%.*\+0\.050 at 100%/);
    expect(v.lines[2]).toMatch(/largest with the least data \(2 of 2 tasks\)/);
    expect(v.differences.map((d) => [d.task, d.fraction, d.effect])).toEqual([
      ['presence', 0.25, 'helps'],
      ['presence', 1, 'helps'],
      ['carCount', 0.25, 'helps'],
      ['carCount', 1, 'helps'],
    ]);
  });

  it('notes a gap of one sign at every fraction without calling it an effect', () => {
    const v = transferVerdict(
      tasks.slice(0, 1),
      [0.5, 1].map((fraction) => ({
        fraction,
        trainExamples: fraction * 100,
        transfer: { presence: stat([0.74], [0.03]) },
        scratch: { presence: stat([0.7], [0.03]) },
      })),
      0.01,
    );
    expect(v.lines[0]).toMatch(
      /^transfer is ahead of scratch on presence at every fraction, but no gap is beyond the noise \(±0\.085;/,
    );
    expect(v.differences.every((d) => d.effect === 'none')).toBe(true);
    expect(v.lines[1]).toMatch(/^transfer does not clearly help here/);
  });

  it('says so when transfer does not help, and when a metric is undefined', () => {
    const v = transferVerdict(
      tasks,
      [
        {
          fraction: 0.5,
          trainExamples: 10,
          transfer: { presence: one(0.6), carCount: one(Number.NaN) },
          scratch: { presence: one(0.65), carCount: one(0.1) },
        },
        {
          fraction: 1,
          trainExamples: 20,
          transfer: { presence: one(0.7), carCount: one(Number.NaN) },
          scratch: { presence: one(0.703), carCount: one(0.2) },
        },
      ],
      0.01,
    );
    expect(v.lines[0]).toMatch(
      /^transfer hurts presence at 50% of the data, no clear difference elsewhere: AUC −0\.050 at 50%/,
    );
    expect(v.lines[1]).toMatch(/^carCount: no verdict, its R² is undefined/);
    expect(v.lines[2]).toMatch(/^transfer does not clearly help here/);
  });
});

describe('multiTaskVerdict', () => {
  const base = {
    tasks,
    labelled: { presence: 300, carCount: 280 },
    trunkTrainable: 120_000,
    seconds: { multi: 10, single: 18 },
  };

  it('names the trunk size and task relatedness when multi-task hurts', () => {
    const v = multiTaskVerdict(
      {
        ...base,
        multi: { presence: one(0.8), carCount: one(0.4) },
        single: { presence: one(0.78), carCount: one(0.43) },
      },
      0.01,
    );
    expect(v.lines[0]).toBe('multi-task helps presence by +0.020 AUC');
    expect(v.lines[1]).toBe(
      'multi-task hurts carCount by 0.030 R²: the trunk may be too small (120,000 trainable trunk parameters) or the tasks unrelated',
    );
    expect(v.lines[2]).toMatch(/10\.0 s against 18\.0 s for 2 single-task networks/);
    expect(v.differences.map((d) => d.effect)).toEqual(['helps', 'hurts']);
  });

  it('flags uneven labelled data, and refuses to read a frozen trunk as a multi-task effect', () => {
    const v = multiTaskVerdict(
      {
        ...base,
        labelled: { presence: 300, carCount: 40 },
        trunkTrainable: 0,
        multi: { presence: one(0.8), carCount: one(0.4) },
        single: { presence: one(0.7), carCount: one(0.4) },
      },
      0.01,
    );
    expect(v.lines[0]).toMatch(/trains no trunk weight.*cannot show a multi-task effect/);
    expect(v.lines[1]).toMatch(/^presence: multi-task \+0\.100 AUC .* noise/);
    expect(v.lines[2]).toMatch(/^multi-task makes no clear difference to carCount/);
    expect(v.lines[3]).toMatch(/uneven \(presence 300, carCount 40\)/);
  });
});

describe('policyVerdict', () => {
  const row = (policy: string, plan: string, p: number, c: number, seconds: number): PolicyRow => ({
    policy,
    plan,
    metrics: { presence: one(p), carCount: one(c) },
    seconds,
    trainableParams: Math.round(seconds * 1000),
  });

  it('finds the best policy per task and overall, and how ruleOfThumb fared', () => {
    const v = policyVerdict(
      tasks,
      [
        row('headsOnly', 'headsOnly', 0.7, 0.3, 2),
        row('lastBlocks:2', 'lastBlocks(2)', 0.78, 0.45, 4),
        row('all', 'all', 0.775, 0.5, 10),
        row('ruleOfThumb', 'ruleOfThumb -> lastBlocks(2)', 0.78, 0.45, 4),
      ],
      0.01,
    );
    expect(v.best).toEqual([
      { task: 'presence', policy: 'lastBlocks:2', value: 0.78, tied: ['ruleOfThumb', 'all'] },
      { task: 'carCount', policy: 'all', value: 0.5, tied: [] },
    ]);
    // Mean ranks: lastBlocks:2 and ruleOfThumb 1.5 (the same plan, tied: the first listed wins), all 2.
    expect(v.overall).toBe('lastBlocks:2');
    expect(v.lines).toContain(
      'ruleOfThumb (ruleOfThumb -> lastBlocks(2)) trails on carCount by 0.050 R² (best all)',
    );
    expect(v.lines[v.lines.length - 1]).toBe(
      'cost: headsOnly trained fastest (2.0 s, 2,000 trainable parameters); all took 5.0x as long (10,000)',
    );
  });

  it('credits ruleOfThumb when it is best or within noise everywhere', () => {
    const v = policyVerdict(
      tasks,
      [
        row('headsOnly', 'headsOnly', 0.7, 0.3, 2),
        row('ruleOfThumb', 'ruleOfThumb -> all', 0.8, 0.5, 9),
      ],
      0.01,
    );
    expect(v.overall).toBe('ruleOfThumb');
    expect(v.lines).toContain(
      'ruleOfThumb (ruleOfThumb -> all) is the best or within noise of it on every task',
    );
  });
});

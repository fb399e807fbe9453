/**
 * `graft compare`'s verdicts: sentences computed from the runs' numbers, never written by
 * hand. Every metric compared here is "higher is better" (mean ROC-AUC, accuracy, R²), and a
 * difference counts only when it exceeds a tolerance: at least `minDelta`, and about two
 * standard errors of the difference, combining what is known of the noise — the spread over
 * seeds (with several) and the validation split's sampling error (from its counts, for AUC
 * and accuracy) — so noise is not read as an effect.
 */

export type TaskKind = 'multiLabel' | 'classification' | 'regression';

/** The one number per task a comparison ranks by. */
export interface TaskMetric {
  task: string;
  kind: TaskKind;
  /** Short name printed beside the numbers: `AUC`, `accuracy`, `R²`. */
  metric: string;
}

/** A metric over seeds. `mean` is NaN when the metric was undefined on the validation split. */
export interface Stat {
  mean: number;
  /** Sample standard deviation; 0 with one seed. */
  sd: number;
  n: number;
  values: number[];
  /**
   * Standard error of the metric from the validation split's size (mean over the seeds'
   * runs; they share the split); NaN when unknown (R², or too few labels).
   */
  sampleError: number;
}

export type Effect = 'helps' | 'hurts' | 'none' | 'undefined';

export interface Difference {
  task: string;
  /** a - b. */
  delta: number;
  tolerance: number;
  effect: Effect;
}

export function keyMetricName(kind: TaskKind): string {
  return kind === 'multiLabel' ? 'AUC' : kind === 'classification' ? 'accuracy' : 'R²';
}

const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function stat(values: readonly number[], sampleErrors: readonly number[] = []): Stat {
  const defined = values.filter(Number.isFinite);
  const errors = sampleErrors.filter(Number.isFinite);
  const sampleError = errors.length > 0 ? meanOf(errors) : Number.NaN;
  const n = defined.length;
  if (n === 0) return { mean: Number.NaN, sd: 0, n: 0, values: [...values], sampleError };
  const mean = meanOf(defined);
  const sd = n > 1 ? Math.sqrt(defined.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n, values: [...values], sampleError };
}

/** Whether `a` beats `b` by more than the noise allows. */
export function difference(task: string, a: Stat, b: Stat, minDelta: number): Difference {
  const delta = a.mean - b.mean;
  const seeds = a.n > 1 && b.n > 1 ? a.sd ** 2 / a.n + b.sd ** 2 / b.n : 0;
  // Independent errors for two runs on one split overstate the noise of a paired
  // comparison: a conservative bar, which is the side to err on before calling an effect.
  const sampling =
    Number.isFinite(a.sampleError) && Number.isFinite(b.sampleError)
      ? a.sampleError ** 2 + b.sampleError ** 2
      : 0;
  const tolerance = Math.max(minDelta, 2 * Math.sqrt(seeds + sampling));
  const effect: Effect = !Number.isFinite(delta)
    ? 'undefined'
    : delta > tolerance
      ? 'helps'
      : delta < -tolerance
        ? 'hurts'
        : 'none';
  return { task, delta, tolerance, effect };
}

const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
const percent = (f: number) => `${Math.round(f * 100)}%`;

export interface TransferPoint {
  fraction: number;
  trainExamples: number;
  transfer: Readonly<Record<string, Stat>>;
  scratch: Readonly<Record<string, Stat>>;
}

/**
 * No single gap beats the noise. When every gap has the same sign at two or more fractions,
 * that is worth saying (it is unlikely by chance), but it is not called an effect.
 */
function noClearDifference(task: string, diffs: readonly Difference[]): string {
  const within = `±${Math.max(...diffs.map((d) => d.tolerance)).toFixed(3)}`;
  const ahead = diffs.every((d) => d.delta > 0);
  const behind = diffs.every((d) => d.delta < 0);
  if (diffs.length >= 2 && (ahead || behind)) {
    return `transfer is ${ahead ? 'ahead of' : 'behind'} scratch on ${task} at every fraction, but no gap is beyond the noise (${within}; more validation data or --seeds would settle it)`;
  }
  return `transfer makes no clear difference to ${task} (every |Δ| within ${within})`;
}

export interface TransferVerdict {
  /** Per task and fraction: transfer minus scratch. */
  differences: (Difference & { fraction: number })[];
  lines: string[];
}

/**
 * Transfer (the pre-trained trunk) against the same architecture from random init, at each
 * training-set fraction. The notes expect transfer to help most when the target task has
 * little data; the summary says whether this data agrees.
 */
export function transferVerdict(
  tasks: readonly TaskMetric[],
  points: readonly TransferPoint[],
  minDelta: number,
): TransferVerdict {
  const sorted = [...points].sort((a, b) => a.fraction - b.fraction);
  const differences: TransferVerdict['differences'] = [];
  const lines: string[] = [];
  for (const t of tasks) {
    const diffs = sorted.map((p) => ({
      ...difference(
        t.task,
        p.transfer[t.task] ?? stat([]),
        p.scratch[t.task] ?? stat([]),
        minDelta,
      ),
      fraction: p.fraction,
      trainExamples: p.trainExamples,
    }));
    for (const { trainExamples: _, ...d } of diffs) differences.push(d);
    const defined = diffs.filter((d) => d.effect !== 'undefined');
    if (defined.length === 0) {
      lines.push(
        `${t.task}: no verdict, its ${t.metric} is undefined on the validation split (too few labelled examples of each kind)`,
      );
      continue;
    }
    const phrases = defined.map(
      (d) =>
        `${signed(d.delta)} at ${percent(d.fraction)} of the data (${d.trainExamples} examples)`,
    );
    const helps = defined.filter((d) => d.effect === 'helps');
    const hurts = defined.filter((d) => d.effect === 'hurts');
    const head =
      helps.length === defined.length
        ? `transfer helps ${t.task}`
        : hurts.length === defined.length
          ? `transfer hurts ${t.task}`
          : helps.length > 0 && hurts.length === 0
            ? `transfer helps ${t.task} at ${helps.map((d) => percent(d.fraction)).join(', ')} of the data, no clear difference elsewhere`
            : hurts.length > 0 && helps.length === 0
              ? `transfer hurts ${t.task} at ${hurts.map((d) => percent(d.fraction)).join(', ')} of the data, no clear difference elsewhere`
              : helps.length === 0 && hurts.length === 0
                ? noClearDifference(t.task, defined)
                : `transfer's effect on ${t.task} is mixed`;
    lines.push(`${head}: ${t.metric} ${phrases.join(', ')}`);
  }
  // The rule of thumb's shape: the gain at the smallest fraction beats the gain at the largest.
  if (sorted.length >= 2) {
    const first = sorted[0] as TransferPoint;
    const last = sorted[sorted.length - 1] as TransferPoint;
    const shrinking = tasks.filter((t) => {
      const a = differences.find((d) => d.task === t.task && d.fraction === first.fraction);
      const b = differences.find((d) => d.task === t.task && d.fraction === last.fraction);
      // Shrinking by more than the noise of either difference, not by a hair.
      return (
        a &&
        b &&
        Number.isFinite(a.delta) &&
        Number.isFinite(b.delta) &&
        a.delta - b.delta > Math.max(a.tolerance, b.tolerance)
      );
    });
    const anyHelp = differences.some((d) => d.effect === 'helps');
    if (anyHelp && shrinking.length > tasks.length / 2) {
      lines.push(
        `the gain is largest with the least data (${shrinking.length} of ${tasks.length} tasks), as the rule of thumb expects: with more data, retraining more of the trunk (or from scratch) closes the gap`,
      );
    } else if (anyHelp) {
      lines.push(
        `the gain does not clearly shrink as the training set grows (up to ${last.trainExamples} examples): at this size the pre-trained features still pay`,
      );
    } else {
      lines.push(
        'transfer does not clearly help here at any fraction: the pre-training task may not share low-level features with this data, or the data is enough to learn them from scratch',
      );
    }
  }
  return { differences, lines };
}

export interface MultiTaskInput {
  tasks: readonly TaskMetric[];
  multi: Readonly<Record<string, Stat>>;
  /** Per task: the network trained on that task alone. */
  single: Readonly<Record<string, Stat>>;
  /** Labelled training examples per task. */
  labelled: Readonly<Record<string, number>>;
  /** Trainable parameters of the shared trunk (not the heads) in the multi-task run. */
  trunkTrainable: number;
  /** Wall time of the one multi-task run and the sum over the single-task runs. */
  seconds: { multi: number; single: number };
}

export interface MultiTaskVerdict {
  /** Per task: multi-task minus single-task. */
  differences: Difference[];
  lines: string[];
}

/**
 * One network for every task against one network per task. The notes: multi-task helps when
 * tasks share low-level features and have similar amounts of data, and hurts mainly when the
 * network is too small (Caruana); the verdict names those as the suspects when it hurts.
 */
export function multiTaskVerdict(input: MultiTaskInput, minDelta: number): MultiTaskVerdict {
  const differences = input.tasks.map((t) =>
    difference(t.task, input.multi[t.task] ?? stat([]), input.single[t.task] ?? stat([]), minDelta),
  );
  const lines: string[] = [];
  // With a frozen trunk the tasks share no trained weight: each head learns alone either way,
  // so a gap between the two set-ups is run-to-run noise, not a multi-task effect.
  const frozen = input.trunkTrainable === 0;
  if (frozen) {
    lines.push(
      'the freeze plan trains no trunk weight, so the tasks share nothing that learns and this study cannot show a multi-task effect: rerun with a policy that trains the trunk (e.g. --set freeze=all) or with more data',
    );
  }
  input.tasks.forEach((t, i) => {
    const d = differences[i] as Difference;
    if (d.effect === 'undefined') {
      lines.push(`${t.task}: no verdict, its ${t.metric} is undefined on the validation split`);
    } else if (frozen && d.effect !== 'none') {
      lines.push(
        `${t.task}: multi-task ${signed(d.delta)} ${t.metric} against its own network, with the trunk frozen: noise (head initialisation, batch order), not sharing`,
      );
    } else if (d.effect === 'helps') {
      lines.push(`multi-task helps ${t.task} by ${signed(d.delta)} ${t.metric}`);
    } else if (d.effect === 'hurts') {
      lines.push(
        `multi-task hurts ${t.task} by ${Math.abs(d.delta).toFixed(3)} ${t.metric}: the trunk may be too small (${input.trunkTrainable.toLocaleString('en')} trainable trunk parameters) or the tasks unrelated`,
      );
    } else {
      lines.push(
        `multi-task makes no clear difference to ${t.task} (${signed(d.delta)} ${t.metric}, within ±${d.tolerance.toFixed(3)})`,
      );
    }
  });
  const counts = input.tasks.map((t) => input.labelled[t.task] ?? 0);
  const most = Math.max(...counts);
  const least = Math.min(...counts);
  if (input.tasks.length > 1 && most >= 3 * Math.max(least, 1)) {
    lines.push(
      `labelled data per task is uneven (${input.tasks.map((t) => `${t.task} ${input.labelled[t.task] ?? 0}`).join(', ')}): multi-task tends to help most when tasks have similar amounts of data`,
    );
  }
  if (input.seconds.single > 0 && input.seconds.multi > 0) {
    lines.push(
      `one multi-task network trained in ${input.seconds.multi.toFixed(1)} s against ${input.seconds.single.toFixed(1)} s for ${input.tasks.length} single-task networks`,
    );
  }
  return { differences, lines };
}

export interface PolicyRow {
  /** The policy as asked for (`ruleOfThumb`, `lastBlocks:2`). */
  policy: string;
  /** The plan it produced (`ruleOfThumb -> lastBlocks(2)`). */
  plan: string;
  metrics: Readonly<Record<string, Stat>>;
  seconds: number;
  trainableParams: number;
}

export interface PolicyVerdict {
  /** Per task, the best policy and those within tolerance of it. */
  best: { task: string; policy: string; value: number; tied: string[] }[];
  /** Best mean rank over tasks. */
  overall: string | undefined;
  lines: string[];
}

/** Freeze policies side by side: which wins per task, overall, how ruleOfThumb fared, and at what cost. */
export function policyVerdict(
  tasks: readonly TaskMetric[],
  rows: readonly PolicyRow[],
  minDelta: number,
): PolicyVerdict {
  const lines: string[] = [];
  const best: PolicyVerdict['best'] = [];
  const ranks = new Map<string, number[]>(rows.map((r) => [r.policy, []]));
  for (const t of tasks) {
    const defined = rows.filter((r) => Number.isFinite(r.metrics[t.task]?.mean));
    if (defined.length === 0) {
      lines.push(`${t.task}: no verdict, its ${t.metric} is undefined on the validation split`);
      continue;
    }
    const byValue = [...defined].sort(
      (a, b) => (b.metrics[t.task]?.mean as number) - (a.metrics[t.task]?.mean as number),
    );
    // Equal values share a rank (a policy that produced the same plan as another ties with it).
    for (const r of byValue) {
      const v = r.metrics[t.task]?.mean as number;
      ranks
        .get(r.policy)
        ?.push(1 + byValue.filter((o) => (o.metrics[t.task]?.mean as number) > v).length);
    }
    const top = byValue[0] as PolicyRow;
    const topStat = top.metrics[t.task] as Stat;
    const tied = byValue
      .slice(1)
      .filter(
        (r) => difference(t.task, topStat, r.metrics[t.task] as Stat, minDelta).effect === 'none',
      )
      .map((r) => r.policy);
    best.push({ task: t.task, policy: top.policy, value: topStat.mean, tied });
    lines.push(
      `best for ${t.task}: ${top.policy} (${t.metric} ${topStat.mean.toFixed(3)})${tied.length ? `, within noise: ${tied.join(', ')}` : ''}`,
    );
  }
  const meanRank = (p: string) => {
    const r = ranks.get(p) ?? [];
    return r.length ? r.reduce((a, b) => a + b, 0) / r.length : Number.POSITIVE_INFINITY;
  };
  const ranked = rows
    .map((r) => r.policy)
    .filter((p) => Number.isFinite(meanRank(p)))
    .sort((a, b) => meanRank(a) - meanRank(b));
  const overall = ranked[0];
  if (overall && tasks.length > 1) {
    lines.push(`best over all tasks (mean rank ${meanRank(overall).toFixed(1)}): ${overall}`);
  }
  const rule = rows.find((r) => r.policy === 'ruleOfThumb');
  if (rule) {
    const gaps = best
      .filter((b) => b.policy !== rule.policy && !b.tied.includes(rule.policy))
      .map((b) => {
        const t = tasks.find((x) => x.task === b.task) as TaskMetric;
        return `${b.task} by ${(b.value - (rule.metrics[b.task]?.mean ?? Number.NaN)).toFixed(3)} ${t.metric} (best ${b.policy})`;
      });
    lines.push(
      gaps.length === 0
        ? `ruleOfThumb (${rule.plan}) is the best or within noise of it on every task`
        : `ruleOfThumb (${rule.plan}) trails on ${gaps.join(', ')}`,
    );
  }
  const fastest = [...rows].sort((a, b) => a.seconds - b.seconds)[0];
  const slowest = [...rows].sort((a, b) => b.seconds - a.seconds)[0];
  if (fastest && slowest && fastest !== slowest && fastest.seconds > 0) {
    lines.push(
      `cost: ${fastest.policy} trained fastest (${fastest.seconds.toFixed(1)} s, ${fastest.trainableParams.toLocaleString('en')} trainable parameters); ${slowest.policy} took ${(slowest.seconds / fastest.seconds).toFixed(1)}x as long (${slowest.trainableParams.toLocaleString('en')})`,
    );
  }
  return { best, overall, lines };
}

import { GraftError } from '@graft/errors';
import type { IndexedDataset, Targets } from '../dataset';
import { isIndexed } from '../dataset';
import { createRng } from '../random';
import { subset } from '../subset';
import type { TaskSpecs } from '../taskSpec';

/**
 * Options of {@link stratifiedSplit}: the split fractions, the seed, and the tasks to stratify
 * by.
 *
 * @example
 * ```ts
 * const options: SplitOptions<'train' | 'validation'> = {
 *   fractions: { train: 0.8, validation: 0.2 },
 *   seed: 1,
 *   stratifyBy: ['lightColour'],
 * };
 * ```
 */
export interface SplitOptions<K extends string> {
  /** Split name -> fraction of the examples, e.g. `{ train: 0.8, validation: 0.1, test: 0.1 }`. */
  fractions: Readonly<Record<K, number>>;
  seed: number;
  /**
   * Tasks whose labels each split should reproduce: by default every task. Each class, each
   * positive multi-label, and each missing label is divided in the given fractions.
   * `[]` splits at random.
   */
  stratifyBy?: readonly string[];
}

/**
 * Divides an indexed dataset into named splits, stratified by label so that each split has
 * about the same label distribution (and the same share of missing labels), with sizes
 * within about one example per atom of the fractions. Reads labels only, never inputs. The
 * same seed gives the same splits.
 *
 * @example
 * ```ts
 * const { train, validation, test } = stratifiedSplit(data, {
 *   fractions: { train: 0.8, validation: 0.1, test: 0.1 },
 *   seed: 1,
 * });
 * ```
 */
export function stratifiedSplit<K extends string>(
  dataset: IndexedDataset,
  options: SplitOptions<K>,
): Record<K, IndexedDataset> {
  if (!isIndexed(dataset)) {
    throw new GraftError('DATASET_NOT_INDEXED', 'splitting needs a dataset with random access', {
      where: 'stratifiedSplit',
      hint: 'Use an adapter or generator from @graft/datasets (all are indexed), or fromArrays.',
    });
  }
  const names = Object.keys(options.fractions) as K[];
  const fractions = names.map((k) => options.fractions[k]);
  const total = fractions.reduce((a, b) => a + b, 0);
  if (names.length === 0 || fractions.some((f) => !(f >= 0)) || Math.abs(total - 1) > 1e-6) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `split fractions must be >= 0 and sum to 1, got ${JSON.stringify(options.fractions)}`,
      {
        where: 'stratifiedSplit',
      },
    );
  }
  const stratifyBy = options.stratifyBy ?? Object.keys(dataset.tasks);
  for (const task of stratifyBy) {
    if (!(task in dataset.tasks)) {
      throw new GraftError('INVALID_ARGUMENT', `cannot stratify by unknown task "${task}"`, {
        where: 'stratifiedSplit',
        hint: `Tasks: ${Object.keys(dataset.tasks).join(', ')}.`,
      });
    }
  }
  const chosen = iterativeStratification(dataset, stratifyBy, fractions, options.seed);
  const out = {} as Record<K, IndexedDataset>;
  names.forEach((name, s) => {
    out[name] = subset(
      dataset,
      (chosen[s] as number[]).sort((a, b) => a - b),
    );
  });
  return out;
}

/**
 * Iterative stratification (Sechidis, Tsoumakas and Vlahavas, 2011), the usual way to split
 * multi-label data: every label value ("car = 1", "lightColour = red", "carCount missing")
 * is an atom; the rarest atom's examples are placed first, each into the split that still
 * wants the most of that atom (then the most examples overall). Rare labels therefore land
 * in every split in proportion, which plain per-combination strata cannot do when most
 * label combinations occur only once or twice.
 */
function iterativeStratification(
  dataset: IndexedDataset,
  tasks: readonly string[],
  fractions: readonly number[],
  seed: number,
): number[][] {
  const n = dataset.size;
  const rng = createRng(seed);
  const atomIds = new Map<string, number>();
  const atomsOf: number[][] = [];
  for (let i = 0; i < n; i++) {
    const atoms = exampleAtoms(dataset.labelsAt(i).targets, tasks, dataset.tasks).map((a) => {
      let id = atomIds.get(a);
      if (id === undefined) {
        id = atomIds.size;
        atomIds.set(a, id);
      }
      return id;
    });
    atomsOf.push(atoms);
  }
  const members: number[][] = Array.from({ length: atomIds.size }, () => []);
  // Shuffled once by the seed: who goes first within an atom, and ties, follow the seed.
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  for (const i of order) for (const a of atomsOf[i] as number[]) (members[a] as number[]).push(i);
  const remaining = members.map((m) => m.length);
  const wantAtom = fractions.map((f) => members.map((m) => f * m.length));
  const wantTotal = fractions.map((f) => f * n);
  const assigned = new Int32Array(n).fill(-1);
  const chosen: number[][] = fractions.map(() => []);

  const place = (i: number, atom: number | undefined): void => {
    let best = -1;
    for (let s = 0; s < fractions.length; s++) {
      if (best < 0) {
        best = s;
        continue;
      }
      const da =
        atom === undefined
          ? 0
          : ((wantAtom[s] as number[])[atom] as number) -
            ((wantAtom[best] as number[])[atom] as number);
      const dt = (wantTotal[s] as number) - (wantTotal[best] as number);
      if (da > 1e-9 || (Math.abs(da) <= 1e-9 && dt > 1e-9)) best = s;
    }
    assigned[i] = best;
    (chosen[best] as number[]).push(i);
    wantTotal[best] = (wantTotal[best] as number) - 1;
    for (const a of atomsOf[i] as number[]) {
      const w = wantAtom[best] as number[];
      w[a] = (w[a] as number) - 1;
      remaining[a] = (remaining[a] as number) - 1;
    }
  };

  for (;;) {
    let rarest = -1;
    for (let a = 0; a < remaining.length; a++) {
      const r = remaining[a] as number;
      if (r > 0 && (rarest < 0 || r < (remaining[rarest] as number))) rarest = a;
    }
    if (rarest < 0) break;
    for (const i of members[rarest] as number[]) if (assigned[i] === -1) place(i, rarest);
  }
  for (const i of order) if (assigned[i] === -1) place(i, undefined);
  return chosen;
}

/** The label values of one example that splits should reproduce (negatives are implied). */
function exampleAtoms(targets: Targets, tasks: readonly string[], specs: TaskSpecs): string[] {
  const atoms: string[] = [];
  for (const task of tasks) {
    const t = targets[task] ?? null;
    if (t === null) {
      atoms.push(`${task}=?`);
      continue;
    }
    const kind = specs[task]?.kind;
    if (kind === 'classification') atoms.push(`${task}=${t as number}`);
    else if (typeof t !== 'number') {
      t.forEach((v, k) => {
        if (v === null) atoms.push(`${task}[${k}]=?`);
        else if (kind === 'multiLabel' && v === 1) atoms.push(`${task}[${k}]=1`);
      });
    }
  }
  return atoms;
}

/**
 * What one task predicts, and so what its targets look like. Heads (`@graft/heads`) take the
 * same fields: `multiLabel({ labels })`, `classification({ classes })`, `regression({ outputs })`.
 *
 * Targets per kind (one example):
 * - `multiLabel`: one 0/1 per label, any entry may be `null` (that label is missing);
 * - `classification`: the class index into `classes`;
 * - `regression`: a number when `outputs` is 1, else one number per output (entries may be `null`).
 * A whole target may be `null`: the task's label is missing for that example.
 *
 * @example
 * ```ts
 * const presence: TaskSpec = { kind: 'multiLabel', labels: ['car', 'pedestrian'] };
 * const lightColour: TaskSpec = { kind: 'classification', classes: ['red', 'yellow', 'green'] };
 * const carCount: TaskSpec = { kind: 'regression', outputs: 1 };
 * ```
 */
export type TaskSpec =
  | { readonly kind: 'multiLabel'; readonly labels: readonly string[] }
  | { readonly kind: 'classification'; readonly classes: readonly string[] }
  | { readonly kind: 'regression'; readonly outputs: number };

/**
 * The three kinds of task: `'multiLabel'`, `'classification'`, `'regression'`.
 *
 * @example
 * ```ts
 * const kinds: TaskKind[] = Object.values(data.tasks).map((t) => t.kind);
 * ```
 */
export type TaskKind = TaskSpec['kind'];

/**
 * Task name -> spec. Key order is task order (batches, heads and reports follow it).
 *
 * @example
 * ```ts
 * const tasks: TaskSpecs = {
 *   presence: { kind: 'multiLabel', labels: ['car', 'pedestrian'] },
 *   carCount: { kind: 'regression', outputs: 1 },
 * };
 * ```
 */
export type TaskSpecs = Readonly<Record<string, TaskSpec>>;

/**
 * Number of values a task's target tensor has per example (classification: 1 index).
 *
 * @example
 * ```ts
 * targetWidth({ kind: 'multiLabel', labels: ['a', 'b', 'c'] }); // 3
 * targetWidth({ kind: 'classification', classes: ['a', 'b'] }); // 1 (the class index)
 * ```
 */
export function targetWidth(spec: TaskSpec): number {
  switch (spec.kind) {
    case 'multiLabel':
      return spec.labels.length;
    case 'classification':
      return 1;
    case 'regression':
      return spec.outputs;
  }
}

/**
 * Label names of a task as a report shows them (classification: its classes).
 *
 * @example
 * ```ts
 * labelNames({ kind: 'classification', classes: ['red', 'green'] }); // ['red', 'green']
 * ```
 */
export function labelNames(spec: TaskSpec): readonly string[] {
  switch (spec.kind) {
    case 'multiLabel':
      return spec.labels;
    case 'classification':
      return spec.classes;
    case 'regression':
      return spec.outputs === 1
        ? ['value']
        : Array.from({ length: spec.outputs }, (_, i) => `output${i}`);
  }
}

/**
 * Why `target` does not fit `spec`, or null when it does. Adapters call this once per label
 * so a bad value is reported where it was read, not as a shape error inside training.
 *
 * @example
 * ```ts
 * targetProblem({ kind: 'classification', classes: ['a', 'b'] }, 5); // says 5 is out of range
 * targetProblem({ kind: 'regression', outputs: 1 }, null); // null: a missing label is fine
 * ```
 */
export function targetProblem(spec: TaskSpec, target: unknown): string | null {
  if (target === null) return null;
  const isEntry = (v: unknown): boolean =>
    v === null || (typeof v === 'number' && Number.isFinite(v));
  switch (spec.kind) {
    case 'multiLabel': {
      if (!Array.isArray(target) || target.length !== spec.labels.length) {
        return `expected ${spec.labels.length} labels (0, 1 or null)`;
      }
      return target.every((v) => v === null || v === 0 || v === 1)
        ? null
        : 'multi-label entries must be 0, 1 or null';
    }
    case 'classification':
      return Number.isInteger(target) &&
        (target as number) >= 0 &&
        (target as number) < spec.classes.length
        ? null
        : `expected a class index in [0, ${spec.classes.length})`;
    case 'regression':
      if (spec.outputs === 1 && typeof target === 'number') {
        return Number.isFinite(target) ? null : 'expected a finite number';
      }
      if (!Array.isArray(target) || target.length !== spec.outputs || !target.every(isEntry)) {
        return `expected ${spec.outputs === 1 ? 'a number' : `${spec.outputs} numbers`}`;
      }
      return null;
  }
}

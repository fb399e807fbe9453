/** What a freezing policy needs to know about one parameter. */
export interface ParamInfo {
  name: string;
  /** The backbone block (stage) the parameter belongs to, e.g. `block_3`, or `head:<task>`. */
  block: string;
  /** Number of scalar values. */
  size: number;
}

export interface ParamDecision {
  trainable: boolean;
  /** Multiplies the optimizer's learning rate for this parameter. */
  lrScale: number;
  /** Why, in words a person reads in `explain()`. */
  reason: string;
}

/** One row of `explain()`: a block's parameters summarised. */
export interface ExplainRow {
  block: string;
  params: number;
  trainable: boolean;
  lrScale: number;
  reason: string;
}

export interface FreezePlan {
  readonly decisions: ReadonlyMap<string, ParamDecision>;
  /** Rows in block order (first appearance in the parameter list). */
  explain(): ExplainRow[];
}

/** Builds a plan from a per-parameter decision. */
export function planFrom(
  params: readonly ParamInfo[],
  decide: (param: ParamInfo) => ParamDecision,
): FreezePlan {
  const decisions = new Map<string, ParamDecision>();
  for (const p of params) decisions.set(p.name, decide(p));
  return {
    decisions,
    explain(): ExplainRow[] {
      const rows = new Map<string, ExplainRow>();
      for (const p of params) {
        const d = decisions.get(p.name) as ParamDecision;
        const row = rows.get(p.block);
        if (!row) {
          rows.set(p.block, { block: p.block, params: p.size, ...pick(d) });
        } else {
          row.params += p.size;
          // A block whose parameters disagree says so instead of hiding it.
          if (row.trainable !== d.trainable || row.lrScale !== d.lrScale) row.reason = 'mixed';
        }
      }
      return [...rows.values()];
    },
  };
}

function pick(d: ParamDecision): Pick<ExplainRow, 'trainable' | 'lrScale' | 'reason'> {
  return { trainable: d.trainable, lrScale: d.lrScale, reason: d.reason };
}

import type { Shape } from '../nn/module';
import type { Backbone } from './backbone';

/**
 * One block of a backbone, as a person inspecting it wants to see it.
 *
 * @example
 * ```ts
 * for (const s of summarizeBlocks(trunk)) console.log(s.block, s.layers, s.params, s.outputShape);
 * ```
 */
export interface BlockSummary {
  block: string;
  layers: number;
  firstLayer: string;
  lastLayer: string;
  /** Scalar parameter values in the block, and how many of them an optimizer updates. */
  params: number;
  trainableParams: number;
  outputShape: Shape;
  /** Cumulative stride at the block output. */
  stride: number;
}

/**
 * Block by block: layer range, parameter counts, output shape and stride.
 *
 * @example
 * ```ts
 * const rows = summarizeBlocks(pretrainedBackbone());
 * rows.at(-1)?.block; // 'conv_head'
 * ```
 */
export function summarizeBlocks(backbone: Backbone): BlockSummary[] {
  const shapes = new Map(backbone.nodes.map((n) => [n.layer.name, n.outputShape]));
  return backbone.blocks.map((b) => {
    const params = backbone.params.filter((p) => p.block === b.name);
    const count = (list: typeof params) => list.reduce((n, p) => n + p.variable.size, 0);
    const last = b.layerNames[b.layerNames.length - 1] ?? '';
    return {
      block: b.name,
      layers: b.layerNames.length,
      firstLayer: b.layerNames[0] ?? '',
      lastLayer: last,
      params: count(params),
      trainableParams: count(params.filter((p) => p.trainable)),
      outputShape: shapes.get(last) ?? [],
      stride: b.stride,
    };
  });
}

/**
 * The block summary as a fixed-width table, e.g. for `graft inspect`.
 *
 * @example
 * ```ts
 * console.log(formatBackboneSummary(pretrainedBackbone())); // one row per block
 * ```
 */
export function formatBackboneSummary(backbone: Backbone): string {
  const rows = summarizeBlocks(backbone).map((s) => [
    s.block,
    `${s.firstLayer} .. ${s.lastLayer} (${s.layers})`,
    `[${s.outputShape.join(', ')}]`,
    String(s.stride),
    s.params.toLocaleString('en-US'),
    s.trainableParams.toLocaleString('en-US'),
  ]);
  // "weights": what a freeze plan can train. Not "trainable": whether they train is the
  // plan's decision, and a column saying so beside a frozen plan read as a contradiction.
  const header = ['block', 'layers', 'output', 'stride', 'params', 'weights'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const total = backbone.params.reduce((n, p) => n + p.variable.size, 0);
  return [
    `input ${backbone.inputName} [${backbone.inputShape.join(', ')}] -> output ${backbone.outputLayer} [${backbone.outputShape.join(', ')}]`,
    line(header),
    ...rows.map(line),
    `${total.toLocaleString('en-US')} parameters in ${backbone.blocks.length} blocks (weights: the parameters a freeze plan can train; the rest are batch-norm moving statistics, or layers the model itself marks untrainable)`,
  ].join('\n');
}

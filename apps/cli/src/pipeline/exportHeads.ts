import {
  type AnyLayer,
  type Backbone,
  Dense,
  type ExportHead,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  GraftError,
} from '@graft/core';
import type { MultiTaskModel, TaskHead } from '@graft/heads';

/** Per-example output shape of a trunk layer or block (a block's is its last layer's). */
function shapeAt(backbone: Backbone, point: string): readonly number[] {
  if (point === backbone.outputLayer) return backbone.outputShape;
  const block = backbone.blocks.find((b) => b.name === point);
  const layer = block ? block.layerNames[block.layerNames.length - 1] : point;
  const node = backbone.nodes.find((n) => n.layer.name === layer);
  if (!node) {
    throw new GraftError('LAYER_NOT_FOUND', `No trunk layer or block "${point}"`, {
      where: 'export heads',
    });
  }
  return node.outputShape;
}

const finalActivation = (head: TaskHead) =>
  head.kind === 'multiLabel' ? 'sigmoid' : head.kind === 'classification' ? 'softmax' : 'linear';

/**
 * A multi-task model's heads in the neutral form `exportModel` writes: the pooling the head
 * applies to spatial features, then its Dense layers (ReLU hidden layers, an output layer
 * whose activation gives the probabilities or values `predict` returns), with the trained
 * weights copied in. Dropout is left out (it is the identity at inference). The layers are
 * new variables: call `disposeExportHeads` after exporting.
 */
export function exportHeads(model: MultiTaskModel, backbone: Backbone): ExportHead[] {
  return model.tasks.map((task) => {
    const head = model.heads[task] as TaskHead;
    const attachAt = model.attachedTo[task] as string;
    const layers: AnyLayer[] = [];
    const shape = shapeAt(backbone, attachAt);
    let units = shape[shape.length - 1] ?? 0;
    if (shape.length === 3) {
      layers.push(
        head.pooling === 'max'
          ? new GlobalMaxPooling2D({ name: `${task}_pool` })
          : new GlobalAveragePooling2D({ name: `${task}_pool` }),
      );
    }
    const trained = new Map((model.taskParams[task] ?? []).map((p) => [p.name, p]));
    const widths = [...head.hidden, head.units];
    widths.forEach((width, i) => {
      const last = i === widths.length - 1;
      const dense = new Dense({
        name: last ? `${task}_output` : `${task}_hidden_${i + 1}`,
        block: `head:${task}`,
        inputUnits: units,
        units: width,
        activation: last ? finalActivation(head) : 'relu',
        seed: 0,
      });
      for (const p of dense.params()) {
        const source = trained.get(p.name);
        if (!source?.variable.shape.every((d, k) => d === p.variable.shape[k])) {
          throw new GraftError('EXPORT_FAILED', `Head "${task}" has no parameter ${p.name}`, {
            where: 'export heads',
          });
        }
        p.variable.assign(source.variable);
      }
      layers.push(dense);
      units = width;
    });
    return {
      task,
      attachAt,
      layers,
      kind: head.kind,
      labels: [...head.outputNames],
      ...(head.kind === 'multiLabel' ? { thresholds: [...model.thresholds(task)] } : {}),
    };
  });
}

export function disposeExportHeads(heads: readonly ExportHead[]): void {
  for (const h of heads) for (const l of h.layers) for (const p of l.params()) p.variable.dispose();
}

import { Dense, type Param } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import type { TaskHead } from '../heads/taskHead';

/**
 * A head's layers: optional hidden ReLU layers, then the output layer.
 *
 * @example
 * ```ts
 * // multiTaskModel builds one per task; its params are named `<task>_output/kernel`, ...
 * function rawOutputs(net: HeadNetwork, pooled: tf.Tensor): tf.Tensor {
 *   return net.apply(pooled, { training: false, dropoutSeed: 0 }); // [batch, units]
 * }
 * ```
 */
export interface HeadNetwork {
  readonly params: Param[];
  /** Pooled features `[batch, inputUnits]` -> raw outputs `[batch, units]`. */
  apply(features: tf.Tensor, options: { training: boolean; dropoutSeed: number }): tf.Tensor;
}

/**
 * Builds task `task`'s layers on `inputUnits` features. Parameters are named
 * `<task>_hidden_<i>/kernel`, `<task>_output/bias`... and belong to block `head:<task>`, so
 * freezing policies and exporters address them like any other block.
 */
export function headNetwork(
  task: string,
  head: TaskHead,
  inputUnits: number,
  seed: number,
): HeadNetwork {
  const block = `head:${task}`;
  const layers: Dense[] = [];
  let units = inputUnits;
  head.hidden.forEach((width, i) => {
    layers.push(
      new Dense({
        name: `${task}_hidden_${i + 1}`,
        block,
        inputUnits: units,
        units: width,
        activation: 'relu',
        kernelInitializer: 'heUniform',
        seed: seed + i,
      }),
    );
    units = width;
  });
  layers.push(
    new Dense({
      name: `${task}_output`,
      block,
      inputUnits: units,
      units: head.units,
      seed: seed + head.hidden.length,
    }),
  );
  return {
    params: layers.flatMap((l) => l.params()),
    apply(features, { training, dropoutSeed }) {
      return tf.tidy(() =>
        layers.reduce((x, layer, i) => {
          // Seeded per step and layer, so repeated passes within a step see the same mask.
          const dropped =
            training && head.dropout > 0
              ? tf.dropout(x, head.dropout, undefined, dropoutSeed + i)
              : x;
          return layer.apply(dropped, { training });
        }, features),
      );
    },
  };
}

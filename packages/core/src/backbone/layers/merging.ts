import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../../errors';
import type { ApplyOptions, Layer, Shape } from '../../nn/module';
import type { Param } from '../../nn/param';

/**
 * Per-example shape two or more inputs broadcast to, as Keras's merge layers allow: equal
 * ranks, and along every axis equal sizes or 1 (a squeeze-excite gate [1, 1, C] against a
 * feature map [H, W, C]). Throws SHAPE_MISMATCH naming the layer otherwise.
 */
export function broadcastShapes(shapes: readonly Shape[], where: string): Shape {
  const [first, ...rest] = shapes;
  if (!first) return [];
  const out = [...first];
  for (const shape of rest) {
    const ok =
      shape.length === out.length && shape.every((d, i) => d === out[i] || d === 1 || out[i] === 1);
    if (!ok) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `Inputs of shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(' and ')} cannot be merged`,
        { where, hint: 'Merged tensors must have equal shapes, or size 1 where they differ.' },
      );
    }
    shape.forEach((d, i) => {
      out[i] = Math.max(d, out[i] ?? d);
    });
  }
  return out;
}

function assertTwoOrMore(xs: readonly tf.Tensor[], where: string): void {
  if (xs.length < 2) {
    throw new GraftError('INVALID_ARGUMENT', `Needs at least two inputs, got ${xs.length}`, {
      where,
    });
  }
}

/**
 * Elementwise product of two or more inputs, broadcasting size-1 axes (squeeze-excite gates).
 *
 * @example
 * ```ts
 * const gate = new Multiply({ name: 'se_excite' });
 * gate.apply([features, weights], { training: false }); // weights [batch, 1, 1, c] broadcast
 * ```
 */
export class Multiply implements Layer<tf.Tensor[]> {
  readonly className = 'Multiply' as const;
  readonly name: string;

  constructor(options: { name: string }) {
    this.name = options.name;
  }

  params(): Param[] {
    return [];
  }

  apply(xs: tf.Tensor[], _options: ApplyOptions): tf.Tensor {
    assertTwoOrMore(xs, `Multiply ${this.name}`);
    broadcastShapes(
      xs.map((x) => x.shape.slice(1)),
      `Multiply ${this.name}`,
    );
    return tf.tidy(() => xs.slice(1).reduce((acc, x) => tf.mul(acc, x), xs[0] as tf.Tensor));
  }

  outputShape(inputs: Shape[]): Shape {
    return broadcastShapes(inputs, `Multiply ${this.name}`);
  }
}

/**
 * Joins inputs along one axis (by default channels), as Keras's Concatenate (Inception, DenseNet).
 *
 * @example
 * ```ts
 * const merge = new Concatenate({ name: 'concat' }); // channels by default
 * merge.apply([a, b], { training: false }); // [batch, h, w, ca + cb]
 * ```
 */
export class Concatenate implements Layer<tf.Tensor[]> {
  readonly className = 'Concatenate' as const;
  readonly name: string;
  /**
   * Axis of the per-example tensor (Keras counts the batch axis; graft does not): -1 is the
   * last axis, 2 the channels of an image.
   */
  readonly config: { axis: number };

  constructor(options: { name: string; axis?: number }) {
    this.name = options.name;
    const axis = options.axis ?? -1;
    if (!Number.isInteger(axis)) {
      throw new GraftError('INVALID_ARGUMENT', `axis must be an integer, got ${axis}`, {
        where: `Concatenate ${options.name}`,
      });
    }
    this.config = { axis };
  }

  params(): Param[] {
    return [];
  }

  apply(xs: tf.Tensor[], _options: ApplyOptions): tf.Tensor {
    assertTwoOrMore(xs, `Concatenate ${this.name}`);
    const rank = (xs[0] as tf.Tensor).rank - 1;
    this.outputShape(xs.map((x) => x.shape.slice(1)));
    return tf.concat(xs, this.exampleAxis(rank) + 1);
  }

  outputShape(inputs: Shape[]): Shape {
    const where = `Concatenate ${this.name}`;
    const first = inputs[0] ?? [];
    const axis = this.exampleAxis(first.length);
    const out = [...first];
    for (const shape of inputs.slice(1)) {
      const ok =
        shape.length === first.length && shape.every((d, i) => i === axis || d === first[i]);
      if (!ok) {
        throw new GraftError(
          'SHAPE_MISMATCH',
          `Inputs of shapes ${inputs.map((s) => `[${s.join(', ')}]`).join(' and ')} differ off the concatenation axis`,
          { where },
        );
      }
      out[axis] = (out[axis] ?? 0) + (shape[axis] ?? 0);
    }
    return out;
  }

  private exampleAxis(rank: number): number {
    const { axis } = this.config;
    const resolved = axis < 0 ? axis + rank : axis;
    if (resolved < 0 || resolved >= rank) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `axis ${axis} does not exist in inputs of rank ${rank} (per example)`,
        { where: `Concatenate ${this.name}` },
      );
    }
    return resolved;
  }
}

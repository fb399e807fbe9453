import { GraftError } from '../../errors';
import { Add } from '../../nn/add';
import type { JsonObject } from '../json';
import { broadcastShapes, Concatenate, Multiply } from '../layers/merging';
import {
  expectLayer,
  type KerasBuildArgs,
  type KerasLayerCodec,
  unsupportedConfig,
} from './kerasLayerCodec';

function assertMerge(args: KerasBuildArgs, className: string): void {
  if (args.inputShapes.length < 2) {
    throw new GraftError(
      'MODEL_MALFORMED',
      `${className} needs at least two inputs, got ${args.inputShapes.length}`,
      { where: `layer "${args.name}" (${className})` },
    );
  }
}

export const addCodec: KerasLayerCodec = {
  className: 'Add',
  merges: true,
  fromKeras(args) {
    assertMerge(args, 'Add');
    const where = `layer "${args.name}" (Add)`;
    const out = broadcastShapes(args.inputShapes, where);
    // graft's Add (residual connections) takes equal shapes only.
    if (args.inputShapes.some((s) => s.some((d, i) => d !== out[i]))) {
      throw new GraftError('LAYER_UNSUPPORTED', 'Add with broadcasting inputs is not supported', {
        where,
        hint: 'Add inputs must have equal shapes.',
      });
    }
    return new Add({ name: args.name });
  },
  toKeras(): JsonObject {
    return {};
  },
};

export const multiplyCodec: KerasLayerCodec = {
  className: 'Multiply',
  merges: true,
  fromKeras(args) {
    assertMerge(args, 'Multiply');
    broadcastShapes(args.inputShapes, `layer "${args.name}" (Multiply)`);
    return new Multiply({ name: args.name });
  },
  toKeras(): JsonObject {
    return {};
  },
};

export const concatenateCodec: KerasLayerCodec = {
  className: 'Concatenate',
  merges: true,
  fromKeras(args) {
    assertMerge(args, 'Concatenate');
    // Keras counts the batch axis; graft's Concatenate does not.
    const axis = args.config.number('axis', -1);
    if (axis === 0)
      throw unsupportedConfig(
        args,
        'Concatenate',
        'axis',
        axis,
        'Concatenate along a non-batch axis.',
      );
    const layer = new Concatenate({ name: args.name, axis: axis < 0 ? axis : axis - 1 });
    layer.outputShape(args.inputShapes);
    return layer;
  },
  toKeras(layer): JsonObject {
    const { axis } = expectLayer(layer, Concatenate).config;
    return { axis: axis < 0 ? axis : axis + 1 };
  },
};

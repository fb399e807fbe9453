import { GraftError } from '../../errors';
import { type ActivationName, isActivationName } from '../../nn/activation';
import type { AnyLayer, KerasLayerClass, Shape } from '../../nn/module';
import { describe, type JsonObject, type JsonReader } from '../json';

/** What building one layer from its Keras config needs. */
export interface KerasBuildArgs {
  /** Keras layer name; parameters are named `<name>/<weight>`. */
  name: string;
  /** Block the layer's parameters belong to. */
  block: string;
  config: JsonReader;
  /** Per-example shapes of the inputs, in inbound order. */
  inputShapes: Shape[];
}

/**
 * Reads and writes one Keras layer class: `fromKeras` builds the graft layer from a Keras
 * config (weights are loaded afterwards, by parameter name), `toKeras` writes the config
 * tfjs-layers and Keras read back. One codec per class, listed in `kerasLayerCodecs.ts`.
 */
export interface KerasLayerCodec {
  readonly className: KerasLayerClass;
  /** True for layers that take several inputs (Add, Multiply, Concatenate). */
  readonly merges?: boolean;
  fromKeras(args: KerasBuildArgs): AnyLayer;
  /** The layer's Keras config, without `name` and `trainable` (the exporter adds those). */
  toKeras(layer: AnyLayer): JsonObject;
  /**
   * For layers tfjs-layers cannot express as one Keras layer (hard_swish, keepdims pooling):
   * the chain of Keras layers that computes the same thing, the last one named as the layer.
   * Returns undefined when `toKeras` suffices.
   */
  toKerasLayers?(layer: AnyLayer, inputs: readonly string[]): KerasLayerEntry[] | undefined;
}

/** One layer of an exported Keras topology, before it is written as JSON. */
export interface KerasLayerEntry {
  className: string;
  name: string;
  config: JsonObject;
  /** Names of the layers it reads (none for the InputLayer). */
  inputs: readonly string[];
  /** Keras's layer-level flag; default true. */
  trainable?: boolean;
}

/** The exporter hands a codec only layers of its class; anything else is a graft bug. */
export function expectLayer<T>(layer: AnyLayer, type: new (...args: never[]) => T): T {
  if (!(layer instanceof type)) {
    throw new GraftError('EXPORT_FAILED', `Layer "${layer.name}" is not a ${type.name}`, {
      where: `layer "${layer.name}" (${layer.className})`,
    });
  }
  return layer;
}

/** LAYER_UNSUPPORTED for a config value graft does not run, naming the layer and the key. */
export function unsupportedConfig(
  args: Pick<KerasBuildArgs, 'name' | 'config'>,
  className: string,
  key: string,
  value: unknown,
  hint?: string,
): GraftError {
  return new GraftError(
    'LAYER_UNSUPPORTED',
    `${className} with ${key}=${describe(value)} is not supported`,
    { where: `layer "${args.name}" (${className})`, ...(hint ? { hint } : {}) },
  );
}

/** Keras's data_format must be channels_last (NHWC), the only layout tfjs runs. */
export function assertChannelsLast(args: KerasBuildArgs, className: string): void {
  const format = args.config.raw('data_format');
  if (format !== undefined && format !== null && format !== 'channels_last') {
    throw unsupportedConfig(
      args,
      className,
      'data_format',
      format,
      'Convert the model to channels_last.',
    );
  }
}

/**
 * Keras's `activation` config: a name, null (linear), or Keras 3's serialized function
 * `{class_name: 'function', config: 'relu'}`.
 */
export function readActivation(args: KerasBuildArgs, className: string): ActivationName {
  const raw = args.config.raw('activation');
  let name: unknown = raw;
  if (raw === undefined || raw === null) return 'linear';
  if (typeof raw === 'object' && !Array.isArray(raw)) name = raw.config;
  if (typeof name === 'string' && isActivationName(name)) return name;
  throw unsupportedConfig(
    args,
    className,
    'activation',
    raw,
    'Supported activations: linear, relu, relu6, sigmoid, swish/silu, hard_swish/hard_silu, tanh, softmax.',
  );
}

/**
 * The name tfjs-layers knows an activation by. tfjs-layers 4.22 has `swish` but not its
 * Keras 3 alias `silu`, and neither hard_swish nor hard_silu: an Activation layer with those
 * is written as three layers (see activationCodecs), but one fused into a convolution or
 * Dense layer cannot be, and is an error.
 */
export function exportedActivation(name: ActivationName, layer: AnyLayer): string {
  if (name === 'hard_swish' || name === 'hard_silu') {
    throw new GraftError('EXPORT_FAILED', `tfjs-layers has no ${name} activation`, {
      where: `layer "${layer.name}" (${layer.className})`,
      hint: 'Build the layer with a linear activation followed by an Activation layer; that exports.',
    });
  }
  return name === 'silu' ? 'swish' : name;
}

/** Per-example input shape of a single-input layer. */
export function singleInput(args: KerasBuildArgs, className: string): Shape {
  const [shape, ...rest] = args.inputShapes;
  if (!shape || rest.length > 0) {
    throw new GraftError(
      'MODEL_MALFORMED',
      `${className} takes one input, got ${args.inputShapes.length}`,
      { where: `layer "${args.name}" (${className})` },
    );
  }
  return shape;
}

/** Per-example [height, width, channels] input of an image layer. */
export function imageInput(args: KerasBuildArgs, className: string): [number, number, number] {
  const shape = singleInput(args, className);
  if (shape.length !== 3) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `${className} needs image input [height, width, channels], got [${shape.join(', ')}]`,
      { where: `layer "${args.name}" (${className})` },
    );
  }
  return shape as [number, number, number];
}

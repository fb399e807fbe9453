import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend/initBackend';
import { GraftError } from '../../errors';
import { maxAbsDiff, seededTensor } from '../../nn/testHelpers';
import { KerasModelWriter, keras } from '../../testing/fixtures/kerasModelWriter';
import type { JsonObject, JsonValue } from '../json';
import { loadBackbone } from '../loadBackbone';
import { parseKerasTopology } from './kerasTopology';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const kernel = Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.sin(i) * 0.3);
const bias = Float32Array.from([0.1, -0.2, 0.3, 0]);

/** Keras 3's `__keras_tensor__` reference to a layer's output. */
function kerasTensor(layer: string): JsonObject {
  return {
    class_name: '__keras_tensor__',
    config: { shape: [null, 6, 6, 4], dtype: 'float32', keras_history: [layer, 0, 0] },
  };
}

/** conv(relu) -> conv2(linear) -> add(conv, conv2), as Keras 3 writes it (weights by index). */
function keras3Model(inputLayers: JsonValue): {
  modelTopology: JsonObject;
  weightSpecs: JsonObject[];
  weightData: ArrayBuffer;
} {
  const dtype = {
    module: 'keras',
    class_name: 'DTypePolicy',
    config: { name: 'float32' },
    registered_name: null,
  };
  const conv = (name: string, activation: string, input: string): JsonObject => ({
    module: 'keras.layers',
    class_name: 'Conv2D',
    config: {
      ...keras.conv2d({ filters: 4, kernel: 3, padding: 'same', activation }),
      name,
      trainable: true,
      dtype,
    },
    registered_name: null,
    build_config: { input_shape: [null, 6, 6, 4] },
    name,
    inbound_nodes: [{ args: [kerasTensor(input)], kwargs: {} }],
  });
  const conv1 = conv('conv', 'relu', 'input_layer');
  (conv1.config as JsonObject).kernel_size = [3, 3];
  const conv2 = conv('conv2', 'silu', 'conv');
  const layers: JsonObject[] = [
    {
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: {
        batch_shape: [null, 6, 6, 3],
        dtype: 'float32',
        sparse: false,
        name: 'input_layer',
      },
      registered_name: null,
      name: 'input_layer',
      inbound_nodes: [],
    },
    conv1,
    conv2,
    {
      module: 'keras.layers',
      class_name: 'Add',
      config: { name: 'add', trainable: true, dtype },
      registered_name: null,
      name: 'add',
      inbound_nodes: [{ args: [[kerasTensor('conv'), kerasTensor('conv2')]], kwargs: {} }],
    },
  ];
  const kernel2 = Float32Array.from({ length: 3 * 3 * 4 * 4 }, (_, i) => Math.cos(i) * 0.2);
  const data = new Float32Array([...kernel, ...bias, ...kernel2, ...bias]);
  return {
    modelTopology: {
      class_name: 'Functional',
      config: {
        name: 'k3',
        trainable: true,
        layers,
        input_layers: inputLayers,
        output_layers: ['add', 0, 0],
      },
      keras_version: '3.6.0',
      backend: 'tensorflow',
    },
    weightSpecs: [
      { name: 'conv/0', shape: [3, 3, 3, 4], dtype: 'float32' },
      { name: 'conv/1', shape: [4], dtype: 'float32' },
      { name: 'conv2/0', shape: [3, 3, 4, 4], dtype: 'float32' },
      { name: 'conv2/1', shape: [4], dtype: 'float32' },
    ],
    weightData: data.buffer,
  };
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof GraftError ? e.code : String(e);
  }
  return undefined;
}

describe('Keras topologies', () => {
  it('reads Keras 3 functional models: dict inbound nodes, batch_shape, weights named by index', async () => {
    for (const inputLayers of [['input_layer', 0, 0], [['input_layer', 0, 0]]] as JsonValue[]) {
      const net = await loadBackbone(keras3Model(inputLayers));
      expect(net.nodes.map((n) => [n.layer.name, ...n.inputs])).toEqual([
        ['conv', 'input_layer'],
        ['conv2', 'conv'],
        ['add', 'conv', 'conv2'],
      ]);
      const x = seededTensor([1, 6, 6, 3], 1);
      const y = net.apply(x, { training: false });
      // The same computation written out: conv(relu), conv(silu), add.
      const expected = tf.tidy(() => {
        const a = tf.relu(
          tf.add(
            tf.conv2d(x as tf.Tensor4D, tf.tensor4d(kernel, [3, 3, 3, 4]), 1, 'same'),
            tf.tensor1d(bias),
          ),
        );
        const k2 = tf.tensor4d(
          Float32Array.from({ length: 144 }, (_, i) => Math.cos(i) * 0.2),
          [3, 3, 4, 4],
        );
        const b = tf.add(tf.conv2d(a as tf.Tensor4D, k2, 1, 'same'), tf.tensor1d(bias));
        return tf.add(a, tf.mul(b, tf.sigmoid(b)));
      });
      expect(maxAbsDiff(y.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
      tf.dispose([x, y, expected]);
      net.dispose();
    }
  });

  it('reads Sequential models, with or without an InputLayer, as tfjs-layers does', async () => {
    const seq = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [8, 8, 2],
          filters: 3,
          kernelSize: 3,
          activation: 'relu',
          name: 'c',
        }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'p' }),
        tfl.layers.flatten({ name: 'f' }),
        tfl.layers.dense({ units: 2, activation: 'softmax', name: 'd' }),
      ],
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await seq.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const topology = (artifacts?.modelTopology ?? {}) as JsonObject;
    expect(topology.class_name).toBe('Sequential');
    const net = await loadBackbone(artifacts as never);
    const x = seededTensor([2, 8, 8, 2], 2);
    const ours = net.apply(x, { training: false });
    const theirs = seq.predict(x) as tf.Tensor;
    expect(maxAbsDiff(ours.dataSync(), theirs.dataSync())).toBeLessThan(1e-5);
    // tfjs-layers writes no InputLayer: the input is named after the first layer, as Keras does.
    expect(net.inputName).toBe('c_input');
    tf.dispose([x, ours, theirs]);
    net.dispose();
    seq.dispose();
    // Keras's older form: the input shape on the first layer, no InputLayer.
    const spec = parseKerasTopology(
      {
        class_name: 'Sequential',
        config: {
          name: 's',
          layers: [
            { class_name: 'ReLU', config: { name: 'r', batch_input_shape: [null, 4, 4, 1] } },
          ],
        },
      },
      'test',
    );
    expect(spec.layers.map((l) => [l.className, l.name, ...l.inbound])).toEqual([
      ['InputLayer', 'r_input'],
      ['ReLU', 'r', 'r_input'],
    ]);
    expect(spec.inputShape).toEqual([4, 4, 1]);
  });

  it('orders layers topologically whatever the file order', () => {
    const m = new KerasModelWriter('shuffled', 1);
    m.inputLayer('in', [4, 4, 1]);
    m.layer('ReLU', 'b', keras.relu(null), ['a']);
    m.layer('ReLU', 'a', keras.relu(null), ['in']);
    const files = m.write(['b']);
    const spec = parseKerasTopology(files.modelJson.modelTopology, 'test');
    expect(spec.layers.map((l) => l.name)).toEqual(['in', 'a', 'b']);
  });

  it('rejects what graft cannot run or read, saying where', () => {
    const base = () => {
      const m = new KerasModelWriter('m', 1);
      m.inputLayer('in', [4, 4, 1]);
      m.layer('ReLU', 'a', keras.relu(null), ['in']);
      return m;
    };
    const topology = (m: KerasModelWriter, outputs: string[]) =>
      m.write(outputs).modelJson.modelTopology;
    const shared = base();
    const json = topology(shared, ['a']) as {
      model_config: { config: { layers: { inbound_nodes: JsonValue[] }[] } };
    };
    json.model_config.config.layers[1]?.inbound_nodes.push([['in', 0, 0, {}]]);
    expect(code(() => parseKerasTopology(json as unknown as JsonValue, 't'))).toBe(
      'LAYER_UNSUPPORTED',
    );
    const dangling = base();
    dangling.layer('ReLU', 'b', keras.relu(null), ['ghost']);
    expect(code(() => parseKerasTopology(topology(dangling, ['b']), 't'))).toBe('MODEL_MALFORMED');
    const cycle = base();
    cycle.layer('ReLU', 'c', keras.relu(null), ['d']);
    cycle.layer('ReLU', 'd', keras.relu(null), ['c']);
    expect(code(() => parseKerasTopology(topology(cycle, ['d']), 't'))).toBe('MODEL_MALFORMED');
    expect(code(() => parseKerasTopology({ class_name: 'Graph', config: {} }, 't'))).toBe(
      'MODEL_MALFORMED',
    );
    const twoInputs = topology(base(), ['a']) as {
      model_config: { config: { input_layers: JsonValue[] } };
    };
    twoInputs.model_config.config.input_layers.push(['a', 0, 0]);
    expect(code(() => parseKerasTopology(twoInputs as unknown as JsonValue, 't'))).toBe(
      'LAYER_UNSUPPORTED',
    );
  });

  it('a nested model is named as such; open input sizes need inputShape', async () => {
    const nested = new KerasModelWriter('outer', 1);
    nested.inputLayer('in', [null, null, 3]);
    nested.layer('ReLU', 'r', keras.relu(6), ['in']);
    nested.layer('Functional', 'mobilenetv2_1.00_224', { layers: [] }, ['r']);
    const files = nested.write(['mobilenetv2_1.00_224']);
    const e = (await loadBackbone(files).catch((error: unknown) => error)) as GraftError;
    expect(e.code).toBe('LAYER_UNSUPPORTED');
    expect(e.message).toContain('nested Functional');
    const open = (await loadBackbone(files, { cutAt: 'r' }).catch(
      (error: unknown) => error,
    )) as GraftError;
    expect(open.code).toBe('SHAPE_MISMATCH');
    expect(open.hint).toContain('inputShape');
    const sized = await loadBackbone(files, { cutAt: 'r', inputShape: [5, 7, 3] });
    expect(sized.outputShape).toEqual([5, 7, 3]);
    sized.dispose();
  });
});

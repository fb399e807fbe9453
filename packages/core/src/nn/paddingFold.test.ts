import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backboneFromBlocks } from '../backbone/fromBlocks';
import { initBackend } from '../backend/initBackend';
import { Block } from './block';
import { Conv2D } from './conv2d';
import { DepthwiseConv2D } from './depthwiseConv2d';
import { seededTensor } from './testHelpers';
import { type SpatialPadding, ZeroPadding2D } from './zeroPadding2d';

// A ZeroPadding2D before a 'valid' DepthwiseConv2D or Conv2D runs as one conv with explicit
// padding (Block.run). These tests hold it to the unfolded pair: pad, then conv.

type Kind = 'depthwise' | 'conv';

const cases: Array<{
  kind: Kind;
  size: [number, number];
  strides: number;
  padding: SpatialPadding;
  batch: number;
  /** Depthwise: the channel multiplier; conv: filters per input channel. */
  multiplier: number;
  kernelSize?: number;
}> = [
  {
    kind: 'depthwise',
    size: [9, 9],
    strides: 2,
    padding: [
      [0, 1],
      [0, 1],
    ],
    batch: 2,
    multiplier: 1,
  }, // MobileNetV2's
  {
    kind: 'depthwise',
    size: [8, 7],
    strides: 2,
    padding: [
      [1, 1],
      [0, 1],
    ],
    batch: 1,
    multiplier: 1,
  },
  {
    kind: 'depthwise',
    size: [6, 5],
    strides: 1,
    padding: [
      [2, 0],
      [1, 3],
    ],
    batch: 3,
    multiplier: 2,
  },
  {
    kind: 'conv',
    size: [9, 9],
    strides: 2,
    padding: [
      [0, 1],
      [0, 1],
    ],
    batch: 2,
    multiplier: 2,
  }, // MobileNet's and EfficientNet's stems
  {
    kind: 'conv',
    size: [13, 11],
    strides: 2,
    padding: [
      [3, 3],
      [3, 3],
    ],
    batch: 1,
    multiplier: 1,
    kernelSize: 7,
  }, // ResNet's
  {
    kind: 'conv',
    size: [6, 5],
    strides: 1,
    padding: [
      [2, 0],
      [1, 3],
    ],
    batch: 3,
    multiplier: 1,
  },
];

type PaddedConv = DepthwiseConv2D | Conv2D;

function layers(c: (typeof cases)[number]): { pad: ZeroPadding2D; dw: PaddedConv } {
  const pad = new ZeroPadding2D({ name: 'pad', padding: c.padding });
  const common = {
    name: 'dw',
    inputChannels: 4,
    kernelSize: c.kernelSize ?? 3,
    strides: c.strides,
    padding: 'valid' as const,
    seed: 5,
    activation: 'relu6' as const,
  };
  const dw =
    c.kind === 'depthwise'
      ? new DepthwiseConv2D({ ...common, depthMultiplier: c.multiplier })
      : new Conv2D({ ...common, filters: 3 * c.multiplier });
  const outChannels = c.kind === 'depthwise' ? 4 * c.multiplier : 3 * c.multiplier;
  dw.bias?.variable.assign(tf.linspace(-0.5, 0.5, outChannels));
  return { pad, dw };
}

/** Output, dx and the kernel and bias gradients of the pair on `x`. */
function outputsAndGrads(
  c: (typeof cases)[number],
  forward: (pad: ZeroPadding2D, dw: PaddedConv, x: tf.Tensor) => tf.Tensor,
): Float32Array[] {
  const { pad, dw } = layers(c);
  const x = seededTensor([c.batch, c.size[0], c.size[1], 4], 7);
  const weights = dw.params().map((p) => p.variable);
  const result = tf.tidy(() => {
    const y = forward(pad, dw, x);
    const mix = seededTensor(y.shape, 9); // a loss whose gradient is not all ones
    const loss = (t: tf.Tensor) => tf.sum(tf.mul(forward(pad, dw, t), mix));
    const { grads } = tf.variableGrads(() => loss(x) as tf.Scalar, weights);
    const dx = tf.grad(loss)(x);
    return [y, dx, ...weights.map((w) => grads[w.name] as tf.Tensor)].map(
      (t) => t.dataSync() as Float32Array,
    );
  });
  x.dispose();
  for (const w of weights) w.dispose();
  return result;
}

const unfolded = (pad: ZeroPadding2D, dw: PaddedConv, x: tf.Tensor) =>
  dw.apply(pad.apply(x, { training: true }), { training: true });
const folded = (pad: ZeroPadding2D, dw: PaddedConv, x: tf.Tensor) =>
  dw.applyPadded(x, pad.config.padding, { training: true });

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`ZeroPadding2D folded into DepthwiseConv2D and Conv2D (${backend})`, () => {
    beforeAll(async () => {
      await initBackend({ backend, fallback: false });
    });

    for (const c of cases) {
      it(`gives the unfolded pair's output and gradients: ${JSON.stringify(c)}`, () => {
        const a = outputsAndGrads(c, folded);
        const b = outputsAndGrads(c, unfolded);
        a.forEach((values, i) => {
          const expected = b[i] as Float32Array;
          let max = 0;
          for (let j = 0; j < values.length; j++) {
            max = Math.max(max, Math.abs((values[j] as number) - (expected[j] as number)));
          }
          expect(values.length).toBe(expected.length);
          expect(max, `output ${i}`).toBeLessThan(1e-5);
        });
      });
    }

    it("refuses to fold into a layer that pads by itself ('same'), naming the layer", () => {
      const pad: [[number, number], [number, number]] = [
        [1, 1],
        [1, 1],
      ];
      const x = tf.zeros([1, 5, 5, 4]);
      const same = { inputChannels: 4, kernelSize: 3, padding: 'same' as const, seed: 1 };
      const conv = new Conv2D({ ...same, name: 'c', filters: 2 });
      const dw = new DepthwiseConv2D({ ...same, name: 'd' });
      expect(conv.foldsPadding()).toBe(false);
      expect(() => conv.applyPadded(x, pad, { training: false })).toThrow(
        /applyPadded needs 'valid' padding, the layer has 'same'/,
      );
      expect(() => dw.applyPadded(x, pad, { training: false })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', where: 'DepthwiseConv2D d' }),
      );
      x.dispose();
      for (const p of [...conv.params(), ...dw.params()]) p.variable.dispose();
    });

    it('gives the unfolded output with dilation 2 (tfjs has no dilated depthwise gradient)', () => {
      const pad = new ZeroPadding2D({
        name: 'pad',
        padding: [
          [2, 2],
          [1, 2],
        ],
      });
      const dw = new DepthwiseConv2D({
        name: 'dw',
        inputChannels: 4,
        kernelSize: 3,
        padding: 'valid',
        dilation: 2,
        seed: 5,
      });
      const x = seededTensor([1, 9, 8, 4], 7);
      const folded = dw.applyPadded(x, pad.config.padding, { training: false });
      const unfolded = tf.tidy(() =>
        dw.apply(pad.apply(x, { training: false }), { training: false }),
      );
      expect(folded.shape).toEqual(unfolded.shape);
      const a = folded.dataSync();
      const b = unfolded.dataSync();
      expect(Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))))).toBeLessThan(1e-5);
      tf.dispose([x, folded, unfolded]);
      for (const p of dw.params()) p.variable.dispose();
    });

    for (const c of cases.filter((k) => k.size[0] === 9)) {
      it(`a graph backbone folds the pair unless the padded tensor is asked for (${c.kind})`, async () => {
        const { pad, dw } = layers(c);
        const trunk = backboneFromBlocks({
          inputShape: [c.size[0], c.size[1], 4],
          blocks: [new Block({ name: 'b', layers: [pad, dw], stride: 2 })],
        });
        const x = seededTensor([c.batch, c.size[0], c.size[1], 4], 7);
        const kernels = async (names: string[]) => {
          const info = await tf.profile(() =>
            tf.tidy(
              () =>
                tf.variableGrads(
                  () => tf.sum(trunk.outputsAt(x, names, { training: true }).dw as tf.Tensor),
                  [dw.kernel.variable],
                ).value,
            ),
          );
          return info.kernelNames;
        };
        const folded = await kernels(['dw']);
        expect(folded).not.toContain('PadV2');
        expect(folded).not.toContain('Slice');
        expect(await kernels(['dw', 'pad'])).toContain('PadV2');
        const both = trunk.outputsAt(x, ['dw', 'pad'], { training: true });
        const one = trunk.outputsAt(x, ['dw'], { training: true });
        expect(both.pad?.shape).toEqual([c.batch, c.size[0] + 1, c.size[1] + 1, 4]);
        expect(Array.from((one.dw as tf.Tensor).dataSync())).toEqual(
          Array.from((both.dw as tf.Tensor).dataSync()),
        );
        tf.dispose([x, ...Object.values(both), ...Object.values(one)]);
        trunk.dispose();
      });

      it(`Block.run folds the pair (no pad or slice kernels), but not for a listener (${c.kind})`, async () => {
        const { pad, dw } = layers(c);
        const block = new Block({ name: 'b', layers: [pad, dw] });
        const x = seededTensor([c.batch, c.size[0], c.size[1], 4], 7);
        const kernels = async (run: () => tf.Tensor) => {
          const info = await tf.profile(() =>
            tf.tidy(() => tf.variableGrads(() => tf.sum(run()), [dw.kernel.variable]).value),
          );
          return info.kernelNames;
        };
        const direct = await kernels(() => block.apply(x, { training: true }));
        expect(direct).not.toContain('PadV2');
        expect(direct).not.toContain('Slice');
        const listenedKernels = await kernels(() => block.run(x, { training: true }, () => {}));
        expect(listenedKernels).toContain('PadV2');
        const seen: string[] = [];
        const listened = block.run(x, { training: true }, (name) => seen.push(name));
        const y = block.apply(x, { training: true });
        expect(seen).toEqual(['pad', 'dw']);
        expect(Array.from(y.dataSync())).toEqual(Array.from(listened.dataSync()));
        tf.dispose([listened, y, x]);
        for (const p of dw.params()) p.variable.dispose();
      });
    }
  });
}

import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExampleInput } from '../dataset';
import { fromArrays } from '../fromArrays';
import { createRng } from '../random';
import { drivingScenes } from '../synthetic/drivingScenes';
import { toChannels } from './channels';
import { colorJitter } from './colorJitter';
import { centerCrop, fitTo, randomCrop } from './crop';
import { fitToBackbone } from './fitToBackbone';
import { randomFlip } from './flip';
import { normalize } from './normalize';
import { resize } from './resize';
import { mapExamples } from './transform';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function image(h: number, w: number, c: number, seed = 1): ExampleInput {
  const rng = createRng(seed);
  return { data: Float32Array.from({ length: h * w * c }, () => rng.next()), shape: [h, w, c] };
}
const ctx = (seed = 0) => ({ rng: createRng(seed) });
const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('transforms', () => {
  it('resize matches tf.image.resizeBilinear with half-pixel centres, up and down', () => {
    for (const [h, w, th, tw] of [
      [10, 14, 5, 7],
      [6, 5, 13, 11],
      [9, 9, 4, 12],
    ] as const) {
      const input = image(h, w, 3);
      const ours = resize({ height: th, width: tw }).apply(input, ctx());
      const theirs = tf.tidy(() =>
        tf.image.resizeBilinear(tf.tensor3d(input.data, [h, w, 3]), [th, tw], false, true),
      );
      const expected = theirs.dataSync();
      theirs.dispose();
      expect(ours.shape).toEqual([th, tw, 3]);
      ours.data.forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i] as number, 5);
      });
    }
  });

  it('centre crop takes the middle; fitTo keeps the aspect and fills the target', () => {
    const input: ExampleInput = {
      data: Float32Array.from({ length: 4 * 6 }, (_, i) => i),
      shape: [4, 6, 1],
    };
    const c = centerCrop({ height: 2, width: 2 }).apply(input, ctx());
    expect(Array.from(c.data)).toEqual([8, 9, 14, 15]);
    expect(() => centerCrop({ height: 5, width: 2 }).apply(input, ctx())).toThrow(
      /does not fit a 4x6 image/,
    );
    // A 20x40 image with a bright left quarter: fitting to 10x10 keeps the middle half only.
    const wide = new Float32Array(20 * 40);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 10; x++) wide[y * 40 + x] = 1;
    const fitted = fitTo({ height: 10, width: 10 }).apply(
      { data: wide, shape: [20, 40, 1] },
      ctx(),
    );
    expect(fitted.shape).toEqual([10, 10, 1]);
    expect(Math.max(...fitted.data)).toBe(0);
  });

  it('normalize maps [0, 1] to the backbone range, then mean/std per channel', () => {
    const input: ExampleInput = {
      data: new Float32Array([0, 0.5, 1, 1, 0, 0.5]),
      shape: [1, 2, 3],
    };
    expect(Array.from(normalize({ inputRange: [-1, 1] }).apply(input, ctx()).data)).toEqual([
      -1, 0, 1, 1, -1, 0,
    ]);
    const imagenet = normalize({ mean: [0.5, 0, 1], std: [0.5, 1, 2] }).apply(input, ctx());
    expect(Array.from(imagenet.data)).toEqual([-1, 0.5, 0, 1, 0, -0.25]);
    const steps = fitToBackbone({ inputRange: [0, 255], size: [2, 2] });
    let x: ExampleInput = { data: new Float32Array(4 * 4 * 3).fill(0.5), shape: [4, 4, 3] };
    for (const t of steps) x = t.apply(x, ctx());
    expect(x.shape).toEqual([2, 2, 3]);
    expect(x.data[0]).toBeCloseTo(127.5);
  });

  it('randomFlip mirrors exactly, about half the time, seeded', () => {
    const input: ExampleInput = { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [1, 3, 2] };
    const flip = randomFlip();
    let flips = 0;
    for (let s = 0; s < 400; s++) {
      const out = flip.apply(input, ctx(s));
      expect(Array.from(flip.apply(input, ctx(s)).data)).toEqual(Array.from(out.data));
      if (out.data[0] === 5) {
        expect(Array.from(out.data)).toEqual([5, 6, 3, 4, 1, 2]);
        flips++;
      } else expect(out).toBe(input);
    }
    expect(flips).toBeGreaterThan(160);
    expect(flips).toBeLessThan(240);
  });

  it('randomCrop returns a window of the (padded) image at seeded positions', () => {
    const input: ExampleInput = {
      data: Float32Array.from({ length: 25 }, (_, i) => i + 1),
      shape: [5, 5, 1],
    };
    const crop = randomCrop({ height: 3, width: 3, padding: 1 });
    const corners = new Set<number>();
    for (let s = 0; s < 100; s++) {
      const out = crop.apply(input, ctx(s));
      expect(out.shape).toEqual([3, 3, 1]);
      const nonZero = Array.from(out.data).filter((v) => v > 0);
      // consecutive rows of the source differ by 5 along a column
      expect(nonZero.length).toBeGreaterThanOrEqual(4);
      corners.add(out.data[0] as number);
      expect(Array.from(crop.apply(input, ctx(s)).data)).toEqual(Array.from(out.data));
    }
    expect(corners.size).toBeGreaterThan(5);
  });

  it('colorJitter stays in [0, 1], changes the image, and is seeded', () => {
    const input = image(8, 8, 3);
    const jitter = colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4 });
    const a = jitter.apply(input, ctx(1));
    expect(bytes(jitter.apply(input, ctx(1)).data).equals(bytes(a.data))).toBe(true);
    expect(bytes(jitter.apply(input, ctx(2)).data).equals(bytes(a.data))).toBe(false);
    expect(bytes(a.data).equals(bytes(input.data))).toBe(false);
    expect(Math.min(...a.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.data)).toBeLessThanOrEqual(1);
    const grey = toChannels(1).apply(input, ctx());
    expect(grey.shape).toEqual([8, 8, 1]);
    expect(jitter.apply(grey, ctx(3)).shape).toEqual([8, 8, 1]);
  });

  it('toChannels repeats grey into RGB and takes luma back', () => {
    const grey: ExampleInput = { data: new Float32Array([0.2, 0.8]), shape: [1, 2, 1] };
    const rgb = toChannels(3).apply(grey, ctx());
    expect(Array.from(rgb.data)).toEqual(
      Array.from(new Float32Array([0.2, 0.2, 0.2, 0.8, 0.8, 0.8])),
    );
    const back = toChannels(1).apply(rgb, ctx());
    back.data.forEach((v, i) => {
      expect(v).toBeCloseTo(grey.data[i] as number, 6);
    });
  });

  it('mapExamples: same seed and epoch give the same augmented bytes, another epoch differs', async () => {
    const scenes = drivingScenes({ count: 6, seed: 2, size: 32 });
    const augs = [randomFlip(), randomCrop({ height: 28, width: 28 }), colorJitter()];
    const a = mapExamples(scenes, augs, { seed: 5, epoch: 0 });
    const b = mapExamples(scenes, augs, { seed: 5, epoch: 0 });
    const c = mapExamples(scenes, augs, { seed: 5, epoch: 1 });
    expect(a.stochastic).toBe(true);
    expect(mapExamples(scenes, [resize({ height: 16, width: 16 })]).stochastic).toBeUndefined();
    let differs = 0;
    for (let i = 0; i < 6; i++) {
      const [ea, eb, ec] = await Promise.all([a.get(i), b.get(i), c.get(i)]);
      expect(ea.input.shape).toEqual([28, 28, 3]);
      expect(bytes(ea.input.data).equals(bytes(eb.input.data))).toBe(true);
      if (!bytes(ea.input.data).equals(bytes(ec.input.data))) differs++;
      expect(a.labelsAt(i)).toEqual(scenes.labelsAt(i));
    }
    expect(differs).toBe(6);
    expect(() => mapExamples(scenes, augs)).toThrow(/random transforms need a seed/);
    const plain = fromArrays({
      inputShape: [2],
      inputs: [new Float32Array(2)],
      tasks: {},
      targets: {},
    });
    await expect(mapExamples(plain, [randomFlip()], { seed: 1 }).get(0)).rejects.toThrow(
      /expects an image \[height, width, channels\], got \[2\] \(randomFlip\)/,
    );
  });
});

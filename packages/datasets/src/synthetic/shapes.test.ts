import { describe, expect, it } from 'vitest';
import { shapeClasses, shapeMask, shapes, shapeTextures } from './shapes';

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('shapes', () => {
  it('gives byte-identical images for a seed, different ones for another seed', async () => {
    const a = shapes({ count: 10, seed: 11 });
    const b = shapes({ count: 10, seed: 11 });
    const c = shapes({ count: 10, seed: 12 });
    for (let i = 0; i < 10; i++) {
      const [ea, eb, ec] = await Promise.all([a.get(i), b.get(i), c.get(i)]);
      expect(bytes(ea.input.data).equals(bytes(eb.input.data))).toBe(true);
      expect(bytes(ea.input.data).equals(bytes(ec.input.data))).toBe(false);
      expect(ea.targets).toEqual(eb.targets);
    }
  });

  it('knows every label without painting, and the labels are uniform over classes', async () => {
    const n = 6000;
    const ds = shapes({ count: n, seed: 2, size: 32 });
    const shapeCounts = new Array<number>(shapeClasses.length).fill(0);
    const textureCounts = new Array<number>(shapeTextures.length).fill(0);
    for (let i = 0; i < n; i++) {
      const { shape, texture } = ds.labelsAt(i).targets as { shape: number; texture: number };
      shapeCounts[shape] = (shapeCounts[shape] ?? 0) + 1;
      textureCounts[texture] = (textureCounts[texture] ?? 0) + 1;
    }
    for (const c of shapeCounts) expect(Math.abs(c / n - 1 / 20)).toBeLessThan(0.015);
    for (const c of textureCounts) expect(Math.abs(c / n - 1 / 6)).toBeLessThan(0.025);
    for (const i of [0, 5, 77]) expect((await ds.get(i)).targets).toEqual(ds.labelsAt(i).targets);
    expect(Object.keys(ds.tasks)).toEqual(['shape', 'texture']);
  });

  it('draws 20 distinct, non-empty shape masks', () => {
    const size = 48;
    const masks = shapeClasses.map((_, c) => shapeMask(c, size));
    for (const [c, m] of masks.entries()) {
      const area = m.reduce((s, v) => s + v, 0) / (size * size);
      expect(area, shapeClasses[c]).toBeGreaterThan(0.08);
      expect(area, shapeClasses[c]).toBeLessThan(0.85);
    }
    for (let a = 0; a < masks.length; a++) {
      for (let b = a + 1; b < masks.length; b++) {
        let inter = 0;
        let union = 0;
        for (let i = 0; i < size * size; i++) {
          inter += masks[a]![i]! & masks[b]![i]!;
          union += masks[a]![i]! | masks[b]![i]!;
        }
        expect(inter / union, `${shapeClasses[a]} vs ${shapeClasses[b]}`).toBeLessThan(0.95); // circle vs octagon is the closest pair (0.90)
      }
    }
  });

  it('puts varied content in the image: not a flat background', async () => {
    const { input } = await shapes({ count: 1, seed: 4 }).get(0);
    let min = 1;
    let max = 0;
    for (const v of input.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(max - min).toBeGreaterThan(0.3);
    expect(input.shape).toEqual([64, 64, 3]);
  });
});

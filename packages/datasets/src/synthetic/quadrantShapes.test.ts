import { describe, expect, it } from 'vitest';
import { quadrantShapes } from './quadrantShapes';

describe('quadrantShapes', () => {
  it('is deterministic per seed', () => {
    const a = quadrantShapes({ count: 4, size: 16, seed: 3 });
    const b = quadrantShapes({ count: 4, size: 16, seed: 3 });
    const c = quadrantShapes({ count: 4, size: 16, seed: 4 });
    expect(a.images).toEqual(b.images);
    expect(a.labels).toEqual(b.labels);
    expect(a.images).not.toEqual(c.images);
  });

  it('puts a bright shape exactly in the labelled quadrants', () => {
    const size = 16;
    const { images, labels } = quadrantShapes({ count: 50, size, seed: 1 });
    for (let n = 0; n < 50; n++) {
      for (let q = 0; q < 4; q++) {
        let bright = 0;
        for (let y = (q >> 1) * 8; y < (q >> 1) * 8 + 8; y++) {
          for (let x = (q & 1) * 8; x < (q & 1) * 8 + 8; x++) {
            const i = ((n * size + y) * size + x) * 3;
            if (images[i]! >= 0.6 && images[i + 1]! >= 0.6 && images[i + 2]! >= 0.6) bright++;
          }
        }
        expect(bright > 0 ? 1 : 0).toBe(labels[n * 4 + q]);
      }
    }
    const rate = labels.reduce((s, v) => s + v, 0) / labels.length;
    expect(rate).toBeGreaterThan(0.35);
    expect(rate).toBeLessThan(0.65);
  });
});

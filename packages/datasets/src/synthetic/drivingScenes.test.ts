import { isGraftError } from '@graft/errors';
import { describe, expect, it } from 'vitest';
import { drivingScenes } from './drivingScenes';

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('drivingScenes', () => {
  it('gives byte-identical scenes for a seed, different ones for another seed', async () => {
    const a = drivingScenes({ count: 20, seed: 5 });
    const b = drivingScenes({ count: 20, seed: 5 });
    const c = drivingScenes({ count: 20, seed: 6 });
    for (let i = 0; i < 20; i++) {
      const [ea, eb, ec] = await Promise.all([a.get(i), b.get(i), c.get(i)]);
      expect(bytes(ea.input.data).equals(bytes(eb.input.data))).toBe(true);
      expect(ea.targets).toEqual(eb.targets);
      expect(bytes(ea.input.data).equals(bytes(ec.input.data))).toBe(false);
    }
  });

  it('streams the same bytes as random access in any order', async () => {
    const ds = drivingScenes({ count: 12, seed: 9, size: 48 });
    const backwards = [];
    for (let i = 11; i >= 0; i--) backwards.unshift(await ds.get(i));
    let i = 0;
    for await (const ex of ds) {
      expect(ex.id).toBe(`scene-${i}`);
      expect(ex.input.shape).toEqual([48, 48, 3]);
      expect(bytes(ex.input.data).equals(bytes(backwards[i]!.input.data))).toBe(true);
      expect(ds.labelsAt(i)).toEqual({ id: ex.id, targets: ex.targets });
      i++;
    }
    expect(i).toBe(12);
    const buffer = new Float32Array(48 * 48 * 3 * 2);
    ds.renderInto(3, buffer, 48 * 48 * 3);
    expect(bytes(buffer.subarray(48 * 48 * 3)).equals(bytes(backwards[3]!.input.data))).toBe(true);
  });

  it('has the documented label distribution, with consistent tasks, pixels in [0, 1]', () => {
    const n = 3000;
    const ds = drivingScenes({ count: n, seed: 1 });
    const presence = [0, 0, 0, 0];
    const colours = [0, 0, 0];
    const cars = [0, 0, 0, 0];
    const buffer = new Float32Array(64 * 64 * 3);
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const {
        presence: p,
        lightColour,
        carCount,
      } = ds.renderInto(i, buffer).targets as {
        presence: number[];
        lightColour: number | null;
        carCount: number;
      };
      p.forEach((v, k) => {
        presence[k] = (presence[k] ?? 0) + v;
      });
      if (lightColour !== null) {
        colours[lightColour] = (colours[lightColour] ?? 0) + 1;
        expect(p[3]).toBe(1); // a visible lamp means a visible light
      }
      cars[carCount] = (cars[carCount] ?? 0) + 1;
      expect(carCount > 0).toBe(p[1] === 1);
      if (i < 200) {
        for (const v of buffer) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    const rate = (v: number) => v / n;
    // README: pedestrian 0.38, car 0.60, stop sign 0.28, traffic light 0.33.
    for (const [k, expected] of [0.38, 0.6, 0.28, 0.33].entries()) {
      expect(Math.abs(rate(presence[k]!) - expected)).toBeLessThan(0.035);
    }
    // Light colour labelled in about 32% of scenes: red 0.13, yellow 0.06, green 0.13.
    for (const [k, expected] of [0.13, 0.06, 0.13].entries()) {
      expect(Math.abs(rate(colours[k]!) - expected)).toBeLessThan(0.025);
    }
    // Visible cars 0..3: 0.40, 0.26, 0.20, 0.14.
    for (const [k, expected] of [0.4, 0.26, 0.2, 0.14].entries()) {
      expect(Math.abs(rate(cars[k]!) - expected)).toBeLessThan(0.035);
    }
    expect(lo).toBe(0);
    expect(hi).toBeGreaterThan(0.95);
    expect(hi).toBeLessThanOrEqual(1);
  });

  it('blanks the requested fraction of labels without changing any image', async () => {
    const n = 2000;
    const full = drivingScenes({ count: n, seed: 3 });
    const holes = drivingScenes({ count: n, seed: 3, missing: { presence: 0.3, carCount: 0.5 } });
    let presenceNull = 0;
    let carNull = 0;
    for (let i = 0; i < n; i++) {
      const t = holes.labelsAt(i).targets;
      const truth = full.labelsAt(i).targets;
      const p = t.presence as readonly (number | null)[] | null;
      for (let k = 0; k < 4; k++) {
        const v = p === null ? null : (p[k] ?? null);
        if (v === null) presenceNull++;
        else expect(v).toBe((truth.presence as number[])[k]);
      }
      if (t.carCount === null) carNull++;
      else expect(t.carCount).toBe(truth.carCount);
      expect(t.lightColour).toBe(truth.lightColour);
    }
    expect(Math.abs(presenceNull / (4 * n) - 0.3)).toBeLessThan(0.03);
    expect(Math.abs(carNull / n - 0.5)).toBeLessThan(0.04);
    const [a, b] = await Promise.all([full.get(17), holes.get(17)]);
    expect(bytes(a.input.data).equals(bytes(b.input.data))).toBe(true);
  });

  it('brings objects nearer with maxDistance, leaving the default scenes as they were', async () => {
    const n = 40;
    const plain = drivingScenes({ count: n, seed: 4 });
    const one = drivingScenes({ count: n, seed: 4, maxDistance: 1 });
    const near = drivingScenes({ count: n, seed: 4, maxDistance: 0.5 });
    let moved = 0;
    let sameSky = 0;
    for (let i = 0; i < n; i++) {
      const [a, b, c] = await Promise.all([plain.get(i), one.get(i), near.get(i)]);
      expect(bytes(b.input.data).equals(bytes(a.input.data))).toBe(true);
      expect(b.targets).toEqual(a.targets);
      if (!bytes(c.input.data).equals(bytes(a.input.data))) moved++;
      // Only objects move: the background (same random stream) is painted as before, so
      // the top row of the sky is unchanged unless a near traffic light reaches it.
      if (bytes(c.input.data.subarray(0, 64 * 3)).equals(bytes(a.input.data.subarray(0, 64 * 3))))
        sameSky++;
    }
    expect(moved).toBeGreaterThan(n * 0.8);
    expect(sameSky).toBeGreaterThan(n * 0.8);
  });

  it('carries its task specs and refuses bad options with a GraftError', () => {
    const ds = drivingScenes({ count: 1, seed: 0 });
    expect(ds.tasks).toEqual({
      presence: { kind: 'multiLabel', labels: ['pedestrian', 'car', 'stopSign', 'trafficLight'] },
      lightColour: { kind: 'classification', classes: ['red', 'yellow', 'green'] },
      carCount: { kind: 'regression', outputs: 1 },
    });
    for (const bad of [
      { size: 16 },
      { count: -1 },
      { missing: 2 },
      { maxDistance: 0 },
      { maxDistance: 1.5 },
      { maxDistance: Number.NaN },
    ]) {
      try {
        drivingScenes({ count: 1, seed: 0, ...bad });
        expect.unreachable();
      } catch (e) {
        expect(isGraftError(e, 'INVALID_ARGUMENT')).toBe(true);
      }
    }
  });
});

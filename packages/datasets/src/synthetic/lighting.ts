import type { Rng } from '../random';
import type { Raster } from './raster';
import { jitter } from './sampling';

/**
 * Global gain and tint (time of day), an optional cast shadow, and per-pixel sensor noise,
 * written from the raster into `out`.
 */
export function applyLighting(r: Raster, rng: Rng, out: Float32Array, offset: number): void {
  const S = r.width;
  const gain = 0.55 + 0.6 * rng.next();
  const tint = jitter(rng, 0.08).map((v) => 1 + v);
  const noise = 0.01 + 0.05 * rng.next();
  const shadow = rng.next() < 0.3;
  const angle = rng.next() * Math.PI * 2;
  const nx = Math.cos(angle);
  const ny = Math.sin(angle);
  const cut = (nx + ny) * S * 0.5 + (rng.next() - 0.5) * S * 0.6;
  const shade = 0.55 + 0.25 * rng.next();
  let state = (rng.int(0x7fffffff) | 1) >>> 0;
  const src = r.data;
  const t0 = (tint[0] as number) * gain;
  const t1 = (tint[1] as number) * gain;
  const t2 = (tint[2] as number) * gain;
  // xorshift32 noise: one draw per pixel-channel, centred, amplitude `noise`.
  const scale = (2 * noise) / 4294967296;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const p = (y * S + x) * 3;
      const f = shadow && nx * x + ny * y > cut ? shade : 1;
      for (let c = 0; c < 3; c++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const n = (state >>> 0) * scale - noise;
        const g = c === 0 ? t0 : c === 1 ? t1 : t2;
        const v = (src[p + c] as number) * g * f + n;
        out[offset + p + c] = v < 0 ? 0 : Math.min(v, 1);
      }
    }
  }
}

import type { Rng } from '../random';
import type { Rgb } from './raster';

/** Picks an item uniformly, or by `weights` (summing to 1). */
export function pick<T>(rng: Rng, items: readonly T[], weights?: readonly number[]): T {
  if (!weights) return items[rng.int(items.length)] as T;
  let u = rng.next();
  for (let i = 0; i < items.length; i++) {
    u -= weights[i] as number;
    if (u < 0) return items[i] as T;
  }
  return items[items.length - 1] as T;
}

/** Three independent offsets in [-amount, amount]. */
export function jitter(rng: Rng, amount: number): [number, number, number] {
  return [
    amount * (2 * rng.next() - 1),
    amount * (2 * rng.next() - 1),
    amount * (2 * rng.next() - 1),
  ];
}

export function jittered(rng: Rng, c: Rgb, amount: number): Rgb {
  const j = jitter(rng, amount);
  return [c[0] + j[0], c[1] + j[1], c[2] + j[2]];
}

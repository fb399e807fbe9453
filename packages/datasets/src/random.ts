/**
 * A small, fast, seedable PRNG (mulberry32). Every random thing in graft's data pipeline
 * takes a seed so that the same seed gives the same run in Node and in the browser alike;
 * Math.random cannot be seeded.
 *
 * @example
 * ```ts
 * const rng: Rng = createRng(42);
 * rng.next(); // uniform in [0, 1)
 * rng.int(10); // 0..9
 * ```
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[];
}

/**
 * A seeded random stream (mulberry32): the same seed gives the same numbers everywhere.
 *
 * @example
 * ```ts
 * const rng = createRng(1);
 * const order = rng.shuffle([0, 1, 2, 3]);
 * ```
 */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = items[i] as T;
        items[i] = items[j] as T;
        items[j] = tmp;
      }
      return items;
    },
  };
}

/**
 * Derives an independent 32-bit seed from a seed and any number of integers (an example
 * index, an epoch, a stream number), so that example i's randomness does not depend on which
 * examples were drawn before it: random access and streaming give the same bytes.
 *
 * @example
 * ```ts
 * const rng = createRng(mixSeed(seed, epoch, index)); // example `index`'s own stream this epoch
 * ```
 */
export function mixSeed(seed: number, ...parts: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const p of parts) h = fmix32((h ^ Math.imul((p >>> 0) + 0x7f4a7c15, 0x85ebca6b)) >>> 0);
  return h;
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

import { GraftError } from '@graft/errors';
import type { Example, ExampleLabels, IndexedDataset } from '../dataset';
import { checkIndex, indexedDataset } from '../indexedDataset';
import { createRng, mixSeed, type Rng } from '../random';
import type { TaskSpecs } from '../taskSpec';
import { applyLighting } from './lighting';
import { Raster, type Rgb } from './raster';

/**
 * Shape classes, some built from parts (arrow = bar + head, cross = two bars, T, L).
 *
 * @example
 * ```ts
 * shapeClasses.length; // 20
 * shapeClasses.indexOf('triangle'); // the class index of a triangle
 * ```
 */
export const shapeClasses = [
  'circle',
  'ellipse',
  'square',
  'bar',
  'triangle',
  'rhombus',
  'pentagon',
  'hexagon',
  'octagon',
  'star',
  'cross',
  'ring',
  'crescent',
  'arrow',
  'lShape',
  'tShape',
  'heart',
  'frame',
  'semicircle',
  'plus',
] as const;

/**
 * Surface textures of the main shape.
 *
 * @example
 * ```ts
 * shapeTextures[0]; // 'solid'
 * ```
 */
export const shapeTextures = [
  'solid',
  'stripes',
  'checker',
  'dots',
  'gradient',
  'speckle',
] as const;

/**
 * The shapes' tasks: the class of the main shape (20-way) and its texture (6-way). Both are
 * classification; pre-training on them teaches edges, corners, curves, colour blobs and
 * periodic patterns, the low-level features the driving scenes need, without their labels.
 *
 * @example
 * ```ts
 * const model = multiTaskModel({ backbone, tasks: headsFor(shapeTasks) });
 * ```
 */
export const shapeTasks = {
  shape: { kind: 'classification', classes: shapeClasses },
  texture: { kind: 'classification', classes: shapeTextures },
} as const satisfies TaskSpecs;

/**
 * Options of {@link shapes}: how many images, the seed, their size, and how much clutter.
 *
 * @example
 * ```ts
 * const options: ShapesOptions = { count: 10_000, seed: 1, size: 64, clutter: 6 };
 * ```
 */
export interface ShapesOptions {
  /** Number of images. */
  count: number;
  seed: number;
  /** Height and width in pixels. Default 64, at least 16. */
  size?: number;
  /** Number of small distractor shapes per image, drawn uniformly in [0, clutter]. Default 6. */
  clutter?: number;
}

/**
 * The dataset {@link shapes} generates: an indexed dataset of task-A images that can also
 * render straight into a batch buffer.
 *
 * @example
 * ```ts
 * const data: Shapes = shapes({ count: 1000, seed: 1, size: 64 });
 * const labels = data.renderInto(0, new Float32Array(64 * 64 * 3));
 * ```
 */
export interface Shapes extends IndexedDataset {
  readonly tasks: typeof shapeTasks;
  readonly imageSize: number;
  /** Renders image `index` into `out` at `offset` (size*size*3 floats) and returns its labels. */
  renderInto(index: number, out: Float32Array, offset?: number): ExampleLabels;
}

/**
 * Synthetic task A for pre-training the shipped backbone: one large main shape (20 classes,
 * rotated, scaled, off-centre, with one of 6 textures) on a cluttered background (gradients,
 * lines, stripes, smaller shapes of other classes, some drawn over the main shape), under the
 * same lighting, shadows and sensor noise as the driving scenes. Labels are the main shape's
 * class and texture, uniformly distributed (1/20 and 1/6).
 *
 * Image `i` is a pure function of `(seed, i)`, as in `drivingScenes`.
 *
 * @example
 * ```ts
 * const taskA = shapes({ count: 20_000, seed: 1 }); // tasks: shape (20 classes), texture (6)
 * ```
 */
export function shapes(options: ShapesOptions): Shapes {
  const { count, seed } = options;
  const size = options.size ?? 64;
  const clutter = options.clutter ?? 6;
  if (!Number.isInteger(count) || count < 0) {
    throw new GraftError('INVALID_ARGUMENT', `count must be a whole number >= 0, got ${count}`, {
      where: 'shapes',
    });
  }
  if (!Number.isInteger(size) || size < 16) {
    throw new GraftError('INVALID_ARGUMENT', `size must be a whole number >= 16, got ${size}`, {
      where: 'shapes',
    });
  }
  if (!Number.isInteger(clutter) || clutter < 0) {
    throw new GraftError(
      'INVALID_ARGUMENT',
      `clutter must be a whole number >= 0, got ${clutter}`,
      {
        where: 'shapes',
      },
    );
  }
  const raster = new Raster(size, size);
  const shape = [size, size, 3] as const;
  // Labels are drawn first from the image's stream, so they are known without painting.
  const labelsOf = (index: number): ExampleLabels => {
    const rng = createRng(mixSeed(seed, index));
    return {
      id: `shape-${index}`,
      targets: { shape: rng.int(shapeClasses.length), texture: rng.int(shapeTextures.length) },
    };
  };
  const renderInto = (index: number, out: Float32Array, offset = 0): ExampleLabels => {
    const rng = createRng(mixSeed(seed, index));
    const shapeClass = rng.int(shapeClasses.length);
    const texture = rng.int(shapeTextures.length);
    paintImage(raster, rng, shapeClass, texture, clutter);
    applyLighting(raster, rng, out, offset);
    return { id: `shape-${index}`, targets: { shape: shapeClass, texture } };
  };
  const dataset = indexedDataset({
    size: count,
    tasks: shapeTasks,
    description: 'shapes',
    labelsAt: labelsOf,
    async get(index): Promise<Example> {
      const data = new Float32Array(size * size * 3);
      const { id, targets } = renderInto(index, data);
      return { id, input: { data, shape }, targets };
    },
  });
  return {
    ...dataset,
    tasks: shapeTasks,
    imageSize: size,
    renderInto(index, out, offset = 0) {
      checkIndex(index, count, 'shapes');
      return renderInto(index, out, offset);
    },
  };
}

function paintImage(
  r: Raster,
  rng: Rng,
  shapeClass: number,
  texture: number,
  clutter: number,
): void {
  const S = r.width;
  paintBackground(r, rng);
  const radius = S * (0.22 + 0.18 * rng.next());
  const cx = S * 0.5 + (rng.next() - 0.5) * (S - 2 * radius) * 0.9;
  const cy = S * 0.5 + (rng.next() - 0.5) * (S - 2 * radius) * 0.9;
  const [a, b] = contrastingPair(rng);
  const distractors = rng.int(clutter + 1);
  const over = distractors > 0 ? rng.int(Math.min(2, distractors) + 1) : 0;
  for (let i = 0; i < distractors - over; i++) paintDistractor(r, rng, shapeClass);
  paintShape(r, shapeClass, cx, cy, radius, rng.next() * Math.PI * 2, texture, a, b, rng);
  // A few small shapes on top: partial occlusion, as in real scenes.
  for (let i = 0; i < over; i++) paintDistractor(r, rng, shapeClass);
}

function paintBackground(r: Raster, rng: Rng): void {
  const S = r.width;
  const c0 = randomColour(rng, 0.15, 0.75);
  const c1 = randomColour(rng, 0.15, 0.75);
  const angle = rng.next() * Math.PI * 2;
  const gx = Math.cos(angle) / S;
  const gy = Math.sin(angle) / S;
  const stripes = rng.next() < 0.3 ? 0.3 + rng.next() * 0.8 : 0;
  const c: [number, number, number] = [0, 0, 0];
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let t = 0.5 + (x - S / 2) * gx + (y - S / 2) * gy;
      if (stripes > 0 && Math.sin((x * gy - y * gx) * S * stripes) > 0.6) t = 1 - t;
      for (let k = 0; k < 3; k++) c[k] = (c0[k] as number) * (1 - t) + (c1[k] as number) * t;
      r.setPixel(x, y, c, 0);
    }
  }
  const lines = rng.int(4);
  for (let i = 0; i < lines; i++) {
    // Thin straight lines: long edges that belong to no shape.
    const x0 = rng.next() * S;
    const y0 = rng.next() * S;
    const x1 = rng.next() * S;
    const y1 = rng.next() * S;
    const w = 0.4 + rng.next() * 1.2;
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len = Math.hypot(dx, dy) || 1;
    const nx = (-dy / len) * w;
    const ny = (dx / len) * w;
    r.fillConvex(
      [x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny],
      randomColour(rng, 0, 1),
    );
  }
}

function paintDistractor(r: Raster, rng: Rng, mainClass: number): void {
  const S = r.width;
  // Another class than the main one, so the label stays unambiguous.
  const cls = (mainClass + 1 + rng.int(shapeClasses.length - 1)) % shapeClasses.length;
  const radius = S * (0.05 + 0.09 * rng.next());
  const [a, b] = contrastingPair(rng);
  paintShape(
    r,
    cls,
    rng.next() * S,
    rng.next() * S,
    radius,
    rng.next() * Math.PI * 2,
    rng.int(shapeTextures.length),
    a,
    b,
    rng,
  );
}

/**
 * Paints shape `cls` centred at (cx, cy), `radius` pixels from centre to its furthest
 * extent, rotated by `angle`, filled with `texture` in colours a and b.
 */
function paintShape(
  r: Raster,
  cls: number,
  cx: number,
  cy: number,
  radius: number,
  angle: number,
  texture: number,
  a: Rgb,
  b: Rgb,
  rng: Rng,
): void {
  const S = r.width;
  const inside = SHAPES[cls] as Inside;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const period = 0.3 + 0.35 * rng.next(); // texture period in shape units
  const texAngle = rng.next() * Math.PI;
  const tc = Math.cos(texAngle);
  const ts = Math.sin(texAngle);
  const speckle = rng.int(0x7fffffff);
  const x0 = Math.max(0, Math.floor(cx - radius));
  const x1 = Math.min(S, Math.ceil(cx + radius) + 1);
  const y0 = Math.max(0, Math.floor(cy - radius));
  const y1 = Math.min(S, Math.ceil(cy + radius) + 1);
  const c: [number, number, number] = [0, 0, 0];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const dx = (x + 0.5 - cx) / radius;
      const dy = (y + 0.5 - cy) / radius;
      const u = cos * dx + sin * dy;
      const v = -sin * dx + cos * dy;
      if (!inside(u, v)) continue;
      const w = tc * u + ts * v;
      const q = -ts * u + tc * v;
      let t: number;
      switch (texture) {
        case 0:
          t = 0;
          break;
        case 1:
          t = Math.sin((w / period) * Math.PI) > 0 ? 1 : 0;
          break;
        case 2:
          t = (Math.floor(w / period + 8) + Math.floor(q / period + 8)) & 1;
          break;
        case 3: {
          const fw = (((w / period) % 1) + 1) % 1;
          const fq = (((q / period) % 1) + 1) % 1;
          t = (fw - 0.5) ** 2 + (fq - 0.5) ** 2 < 0.09 ? 1 : 0;
          break;
        }
        case 4:
          t = Math.min(1, Math.max(0, (w + 1) / 2));
          break;
        default:
          t = hash(x, y, speckle) < 0.35 ? 1 : 0;
      }
      for (let k = 0; k < 3; k++) c[k] = (a[k] as number) * (1 - t) + (b[k] as number) * t;
      r.setPixel(x, y, c, 0);
    }
  }
}

type Inside = (u: number, v: number) => boolean;

/** n-gon with its furthest point at radius 1. */
const polygon =
  (n: number): Inside =>
  (u, v) => {
    const sector = (2 * Math.PI) / n;
    const theta = Math.atan2(v, u) + Math.PI / 2;
    const phi = ((theta % sector) + sector) % sector;
    return Math.hypot(u, v) * Math.cos(phi - sector / 2) <= Math.cos(Math.PI / n);
  };

const SHAPES: readonly Inside[] = [
  (u, v) => u * u + v * v <= 1, // circle
  (u, v) => u * u + (v / 0.55) ** 2 <= 1, // ellipse
  (u, v) => Math.max(Math.abs(u), Math.abs(v)) <= 0.72, // square
  (u, v) => Math.abs(u) <= 0.95 && Math.abs(v) <= 0.28, // bar
  polygon(3),
  (u, v) => Math.abs(u) + Math.abs(v) / 0.55 <= 1, // rhombus
  polygon(5),
  polygon(6),
  polygon(8),
  (u, v) => {
    // five-pointed star: radius swings between 0.42 and 1 with the angle
    const theta = Math.atan2(v, u) + Math.PI / 2;
    const f = Math.abs(((((theta / ((2 * Math.PI) / 5)) % 1) + 1) % 1) - 0.5) * 2;
    return Math.hypot(u, v) <= 0.42 + 0.58 * f ** 1.5;
  },
  (u, v) =>
    (Math.abs(u) <= 0.9 && Math.abs(v) <= 0.3) || (Math.abs(v) <= 0.9 && Math.abs(u) <= 0.3), // cross: thick, long arms
  (u, v) => {
    const d = u * u + v * v;
    return d <= 1 && d >= 0.36; // ring
  },
  (u, v) => u * u + v * v <= 1 && (u - 0.45) ** 2 + v * v > 0.72, // crescent
  (u, v) =>
    (Math.abs(v) <= 0.18 && u >= -0.95 && u <= 0.2) ||
    (u >= 0.1 && u <= 0.95 && Math.abs(v) <= (0.95 - u) * 0.75), // arrow
  (u, v) =>
    (u >= -0.7 && u <= -0.25 && Math.abs(v) <= 0.8) ||
    (v >= 0.35 && v <= 0.8 && u >= -0.7 && u <= 0.7), // L
  (u, v) =>
    (v >= -0.8 && v <= -0.38 && Math.abs(u) <= 0.8) ||
    (Math.abs(u) <= 0.21 && v >= -0.8 && v <= 0.8), // T
  (u, v) => {
    const x = u * 1.25;
    const y = -v * 1.25 + 0.25;
    return (x * x + y * y - 1) ** 3 - x * x * y ** 3 <= 0; // heart
  },
  (u, v) => {
    const m = Math.max(Math.abs(u), Math.abs(v));
    return m <= 0.75 && m >= 0.48; // frame
  },
  (u, v) => u * u + v * v <= 1 && v >= 0, // semicircle
  (u, v) =>
    (Math.abs(u) <= 0.62 && Math.abs(v) <= 0.11) || (Math.abs(v) <= 0.62 && Math.abs(u) <= 0.11), // plus: thin, short
];

function randomColour(rng: Rng, lo: number, hi: number): Rgb {
  const span = hi - lo;
  return [lo + span * rng.next(), lo + span * rng.next(), lo + span * rng.next()];
}

/** Two colours far enough apart that a texture made of them is visible. */
function contrastingPair(rng: Rng): [Rgb, Rgb] {
  const a = randomColour(rng, 0, 1);
  let b = randomColour(rng, 0, 1);
  for (
    let i = 0;
    i < 8 && Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) < 0.6;
    i++
  ) {
    b = randomColour(rng, 0, 1);
  }
  return [a, b];
}

/** A stateless pixel hash in [0, 1) for speckle texture. */
function hash(x: number, y: number, seed: number): number {
  let h = Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 4294967296;
}

/** The unrotated mask of shape class `cls` on a size x size grid (1 = inside), for tests. */
export function shapeMask(cls: number, size: number): Uint8Array {
  const inside = SHAPES[cls] as Inside;
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      mask[y * size + x] = inside(((x + 0.5) / size) * 2 - 1, ((y + 0.5) / size) * 2 - 1) ? 1 : 0;
    }
  }
  return mask;
}

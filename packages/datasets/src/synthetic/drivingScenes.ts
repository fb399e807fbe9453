import { GraftError } from '@graft/errors';
import type { Example, ExampleLabels, IndexedDataset, Target } from '../dataset';
import { checkIndex, indexedDataset } from '../indexedDataset';
import { createRng, mixSeed, type Rng } from '../random';
import type { TaskSpecs } from '../taskSpec';
import { applyLighting } from './lighting';
import { Raster, type Rgb } from './raster';
import { jitter, jittered, pick } from './sampling';

/**
 * The four objects of the source notes' autonomous-driving example, in label order.
 *
 * @example
 * ```ts
 * const presence = multiLabel({ labels: drivingSceneObjects, pooling: 'max' }); // pedestrian, car, stopSign, trafficLight
 * ```
 */
export const drivingSceneObjects = ['pedestrian', 'car', 'stopSign', 'trafficLight'] as const;
/**
 * The colours a lit traffic light shows, in class order.
 *
 * @example
 * ```ts
 * const lightColour = classification({ classes: trafficLightColours }); // red, yellow, green
 * ```
 */
export const trafficLightColours = ['red', 'yellow', 'green'] as const;

/**
 * The driving scenes' tasks: which objects are visible (multi-label, not softmax: several at
 * once), the colour of the visible traffic light (3-way classification, missing when no lit
 * lamp is visible), and how many cars are visible (regression, 0 to 3).
 *
 * @example
 * ```ts
 * const model = multiTaskModel({ backbone: pretrainedBackbone(), tasks: headsFor(drivingSceneTasks) });
 * ```
 */
export const drivingSceneTasks = {
  presence: { kind: 'multiLabel', labels: drivingSceneObjects },
  lightColour: { kind: 'classification', classes: trafficLightColours },
  carCount: { kind: 'regression', outputs: 1 },
} as const satisfies TaskSpecs;

/**
 * The names of the driving scenes' tasks: `presence`, `lightColour`, `carCount`.
 *
 * @example
 * ```ts
 * const task: DrivingSceneTask = 'carCount';
 * drivingSceneTasks[task]; // { kind: 'regression', outputs: 1 }
 * ```
 */
export type DrivingSceneTask = keyof typeof drivingSceneTasks;

/**
 * Options of {@link drivingScenes}: how many scenes, the seed, their size, and which share of
 * each task's labels is blanked as missing.
 *
 * @example
 * ```ts
 * const options: DrivingScenesOptions = { count: 1200, seed: 1, size: 64, missing: { presence: 0.15, carCount: 0.2 } };
 * ```
 */
export interface DrivingScenesOptions {
  /** Number of scenes. */
  count: number;
  seed: number;
  /** Height and width in pixels. Default 64, at least 32. */
  size?: number;
  /**
   * Fraction of labels to blank as missing (`null`), either one rate for every task or a
   * rate per task. For `presence` each of the four labels is blanked independently. Blanking
   * uses its own random stream: images do not change with it. Default 0.
   */
  missing?: number | Partial<Record<DrivingSceneTask, number>>;
  /**
   * How far up the road objects may stand, as a fraction of the distance from the bottom
   * edge to the horizon: 1 (default) places them anywhere up to the horizon; 0.6 keeps every
   * object in the nearer 60% of the road, so it is drawn larger. At small image sizes a
   * distant stop sign or traffic lamp is one or two pixels, which no network can see; a
   * smaller `maxDistance` keeps the same task learnable at the same resolution. In (0, 1].
   */
  maxDistance?: number;
}

/**
 * The dataset {@link drivingScenes} generates: an indexed dataset of road scenes with the
 * driving tasks, that can also render straight into a batch buffer.
 *
 * @example
 * ```ts
 * const scenes: DrivingScenes = drivingScenes({ count: 500, seed: 1 });
 * const { targets } = scenes.labelsAt(0); // { presence: [...], lightColour: ..., carCount: ... }
 * ```
 */
export interface DrivingScenes extends IndexedDataset {
  readonly tasks: typeof drivingSceneTasks;
  /** Height = width of every scene. */
  readonly imageSize: number;
  /**
   * Renders scene `index` straight into `out` at `offset` (size*size*3 floats, HWC, [0, 1])
   * and returns its labels: the allocation-free path for filling a batch buffer.
   */
  renderInto(index: number, out: Float32Array, offset?: number): ExampleLabels;
}

/** What a scene truly shows, before any label is blanked. */
interface SceneTruth {
  presence: [number, number, number, number];
  /** Index into trafficLightColours, or null when no lit lamp is visible. */
  lightColour: number | null;
  carCount: number;
}

/**
 * Synthetic road scenes for the source notes' multi-task example (task B of the demo): sky,
 * buildings, trees and billboards along the horizon, a road in perspective with lane marks,
 * and any subset of {pedestrian, car, stop sign, traffic light} at varying depths, positions
 * and scales, drawn far to near so that near things occlude far ones. Labels are computed
 * from what stays visible (an object counts when at least 35% of it, and 3 pixels, can be
 * seen). Lighting varies (day, overcast, dusk, night; shadows; sensor noise) and red or green
 * distractors (tail lights, billboards, cones, trees) keep colour alone from giving the
 * answers away, so a model trained on a few hundred scenes is far from perfect.
 *
 * Scene `i` is a pure function of `(seed, i)`: random access, streaming and any batch order
 * give the same bytes. About 8,000 64x64 scenes per second on one core.
 *
 * @example
 * ```ts
 * const scenes = drivingScenes({ count: 1200, seed: 1, size: 64, missing: { presence: 0.15, carCount: 0.2 } });
 * const { train, validation, test } = stratifiedSplit(scenes, { fractions: { train: 0.7, validation: 0.15, test: 0.15 }, seed: 1 });
 * ```
 */
export function drivingScenes(options: DrivingScenesOptions): DrivingScenes {
  const { count, seed } = options;
  const size = options.size ?? 64;
  if (!Number.isInteger(count) || count < 0) {
    throw new GraftError('INVALID_ARGUMENT', `count must be a whole number >= 0, got ${count}`, {
      where: 'drivingScenes',
    });
  }
  if (!Number.isInteger(size) || size < 32) {
    throw new GraftError('INVALID_ARGUMENT', `size must be a whole number >= 32, got ${size}`, {
      where: 'drivingScenes',
      hint: 'Smaller scenes leave distant objects without a single pixel.',
    });
  }
  const rates = missingRates(options.missing);
  const maxDistance = options.maxDistance ?? 1;
  if (!(maxDistance > 0 && maxDistance <= 1)) {
    throw new GraftError('INVALID_ARGUMENT', `maxDistance must be in (0, 1], got ${maxDistance}`, {
      where: 'drivingScenes',
      hint: '1 places objects anywhere up to the horizon; smaller values bring them nearer.',
    });
  }
  const raster = new Raster(size, size);
  const labels: (ExampleLabels | undefined)[] = new Array(count);
  const shape = [size, size, 3] as const;

  const renderInto = (index: number, out: Float32Array, offset = 0): ExampleLabels => {
    const rng = createRng(mixSeed(seed, index));
    const truth = paintScene(raster, rng, maxDistance);
    applyLighting(raster, rng, out, offset);
    const known = labels[index] ?? labelScene(index, truth, rates, seed);
    labels[index] = known;
    return known;
  };

  const dataset = indexedDataset({
    size: count,
    tasks: drivingSceneTasks,
    description: 'drivingScenes',
    async get(index): Promise<Example> {
      const data = new Float32Array(size * size * 3);
      const { id, targets } = renderInto(index, data);
      return { id, input: { data, shape }, targets };
    },
    labelsAt(index) {
      // Labels depend on what stays visible, so they come from painting the scene once.
      return labels[index] ?? renderInto(index, scratch());
    },
  });
  let scratchBuffer: Float32Array | undefined;
  const scratch = (): Float32Array => {
    scratchBuffer ??= new Float32Array(size * size * 3);
    return scratchBuffer;
  };
  return {
    ...dataset,
    tasks: drivingSceneTasks,
    imageSize: size,
    renderInto(index, out, offset = 0) {
      checkIndex(index, count, 'drivingScenes');
      return renderInto(index, out, offset);
    },
  };
}

function missingRates(missing: DrivingScenesOptions['missing']): Record<DrivingSceneTask, number> {
  const all = typeof missing === 'number' ? missing : 0;
  const per = typeof missing === 'object' ? missing : {};
  const rates = {
    presence: per.presence ?? all,
    lightColour: per.lightColour ?? all,
    carCount: per.carCount ?? all,
  };
  for (const [task, rate] of Object.entries(rates)) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new GraftError('INVALID_ARGUMENT', `missing rate for ${task} must be in [0, 1]`, {
        where: 'drivingScenes',
      });
    }
  }
  return rates;
}

function labelScene(
  index: number,
  truth: SceneTruth,
  rates: Record<DrivingSceneTask, number>,
  seed: number,
): ExampleLabels {
  // Stream 1: independent of the painting stream, so blanking never changes an image.
  const rng = createRng(mixSeed(seed, index, 1));
  const presence = truth.presence.map((v) => (rng.next() < rates.presence ? null : v));
  const lightColour = rng.next() < rates.lightColour ? null : truth.lightColour;
  const carCount = rng.next() < rates.carCount ? null : truth.carCount;
  const targets: Record<DrivingSceneTask, Target> = {
    presence: presence.every((v) => v === null) ? null : presence,
    lightColour,
    carCount,
  };
  return { id: `scene-${index}`, targets };
}

// ---------------------------------------------------------------------------------------
// Painting. Units: pixels; `S` is the image side. Depth t in [0, 1] runs from the horizon
// (far) to the bottom edge (near); object sizes scale with 0.2 + 0.8 t.

type Lighting = 'day' | 'overcast' | 'dusk' | 'night';

const SKY: Record<Lighting, [Rgb, Rgb]> = {
  day: [
    [0.35, 0.55, 0.9],
    [0.72, 0.82, 0.95],
  ],
  overcast: [
    [0.58, 0.6, 0.64],
    [0.8, 0.8, 0.82],
  ],
  dusk: [
    [0.22, 0.18, 0.42],
    [0.95, 0.55, 0.3],
  ],
  night: [
    [0.02, 0.03, 0.08],
    [0.12, 0.12, 0.2],
  ],
};

const CAR_COLOURS: readonly Rgb[] = [
  [0.72, 0.1, 0.1],
  [0.86, 0.86, 0.86],
  [0.12, 0.12, 0.13],
  [0.6, 0.62, 0.65],
  [0.15, 0.25, 0.6],
  [0.85, 0.7, 0.12],
  [0.15, 0.4, 0.2],
];
const SKIN: readonly Rgb[] = [
  [0.9, 0.75, 0.6],
  [0.55, 0.38, 0.25],
  [0.35, 0.22, 0.15],
  [0.75, 0.6, 0.45],
];
const SATURATED: readonly Rgb[] = [
  [0.85, 0.12, 0.1],
  [0.1, 0.75, 0.25],
  [0.9, 0.8, 0.1],
  [0.15, 0.3, 0.85],
  [0.95, 0.5, 0.1],
];
const LAMP_ON: readonly Rgb[] = [
  [1, 0.12, 0.08],
  [1, 0.82, 0.1],
  [0.15, 1, 0.35],
];

type SceneObject =
  | { kind: 'car'; t: number; x: number; colour: Rgb }
  | { kind: 'pedestrian'; t: number; x: number; skin: Rgb; clothes: Rgb; legs: Rgb }
  | { kind: 'stopSign'; t: number; x: number; radius: number }
  | { kind: 'trafficLight'; t: number; x: number; width: number; pole: number }
  | { kind: 'occluder'; t: number; x: number; shape: number; colour: Rgb };

interface Road {
  horizon: number;
  /** Centre and half width of the road at depth t. */
  centre(t: number): number;
  halfWidth(t: number): number;
  /** Row of depth t. */
  row(t: number): number;
}

function paintScene(r: Raster, rng: Rng, maxDistance: number): SceneTruth {
  r.clear();
  const S = r.width;
  const lighting = pick(
    rng,
    ['day', 'overcast', 'dusk', 'night'] as const,
    [0.45, 0.25, 0.18, 0.12],
  );
  const horizon = S * (0.3 + 0.15 * rng.next());
  paintSkyAndGround(r, rng, lighting, horizon);
  const road = paintRoad(r, rng, horizon);
  paintSkyline(r, rng, lighting, horizon);

  const objects = placeObjects(rng, road, S);
  // Only when asked: at 1, 1 - (1 - t) is not always t in floating point, and the default
  // scenes must stay byte for byte what they were.
  if (maxDistance < 1) bringNearer(objects, road, maxDistance);
  objects.sort((a, b) => a.t - b.t);
  return paintObjects(r, objects, road, rng);
}

function paintSkyAndGround(r: Raster, rng: Rng, lighting: Lighting, horizon: number): void {
  const S = r.width;
  const [top, bottom] = SKY[lighting];
  const j = jitter(rng, 0.06);
  const verge = pick(
    rng,
    [
      [0.25, 0.45, 0.2],
      [0.55, 0.55, 0.5],
      [0.45, 0.38, 0.28],
    ] as const,
    [0.5, 0.3, 0.2],
  );
  const vj = jitter(rng, 0.08);
  const c: [number, number, number] = [0, 0, 0];
  for (let y = 0; y < S; y++) {
    const yc = y + 0.5;
    if (yc < horizon) {
      const t = yc / horizon;
      for (let k = 0; k < 3; k++)
        c[k] = (top[k] as number) * (1 - t) + (bottom[k] as number) * t + (j[k] as number);
    } else {
      // Ground gets a little brighter towards the viewer.
      const t = (yc - horizon) / (S - horizon);
      for (let k = 0; k < 3; k++)
        c[k] = ((verge[k] as number) + (vj[k] as number)) * (0.8 + 0.25 * t);
    }
    r.fillRow(y, 0, S, c);
  }
}

function paintRoad(r: Raster, rng: Rng, horizon: number): Road {
  const S = r.width;
  const vx = S * (0.3 + 0.4 * rng.next());
  const topHalf = S * (0.01 + 0.03 * rng.next());
  const bx = S * (0.3 + 0.4 * rng.next());
  const bottomHalf = S * (0.35 + 0.35 * rng.next());
  const road: Road = {
    horizon,
    centre: (t) => vx + (bx - vx) * t,
    halfWidth: (t) => topHalf + (bottomHalf - topHalf) * t,
    row: (t) => horizon + t * (S - horizon),
  };
  const grey = 0.22 + 0.23 * rng.next();
  const asphalt: Rgb = [grey, grey, grey * (0.95 + 0.1 * rng.next())];
  const mark: Rgb = rng.next() < 0.7 ? [0.92, 0.92, 0.9] : [0.9, 0.78, 0.2];
  const dashes = rng.next() < 0.8;
  const edges = rng.next() < 0.5;
  const phase = rng.next();
  const u = S / 64;
  for (let y = Math.max(0, Math.ceil(horizon - 0.5)); y < S; y++) {
    const t = (y + 0.5 - horizon) / (S - horizon);
    const cx = road.centre(t);
    const hw = road.halfWidth(t);
    r.fillRow(y, cx - hw, cx + hw, asphalt);
    const lineHalf = Math.max(0.3, 0.9 * t * u);
    if (dashes && (Math.sqrt(t) * 6 + phase) % 1 < 0.45) {
      r.fillRow(y, cx - lineHalf, cx + lineHalf, mark);
    }
    if (edges) {
      r.fillRow(y, cx - hw, cx - hw + 2 * lineHalf, mark);
      r.fillRow(y, cx + hw - 2 * lineHalf, cx + hw, mark);
    }
  }
  return road;
}

/** Buildings, windows, billboards and trees along the horizon: clutter and colour distractors. */
function paintSkyline(r: Raster, rng: Rng, lighting: Lighting, horizon: number): void {
  const S = r.width;
  const u = S / 64;
  const dark = lighting === 'night' || lighting === 'dusk';
  const buildings = 1 + rng.int(6);
  for (let b = 0; b < buildings; b++) {
    const x0 = S * (-0.1 + 1.1 * rng.next());
    const w = S * (0.06 + 0.2 * rng.next());
    const h = Math.max(1, S * (0.04 + 0.26 * rng.next()));
    const base = 0.25 + 0.4 * rng.next();
    const wall: Rgb = [
      base + 0.1 * (rng.next() - 0.5),
      base + 0.1 * (rng.next() - 0.5),
      base + 0.1 * (rng.next() - 0.5),
    ];
    r.fillRect(x0, horizon - h, x0 + w, horizon, wall);
    if (w > 4 * u && h > 4 * u && rng.next() < 0.6) {
      const window: Rgb = dark ? [0.85, 0.75, 0.35] : [0.2, 0.25, 0.35];
      for (let y = horizon - h + u; y < horizon - 2 * u; y += 3 * u) {
        for (let x = x0 + u; x < x0 + w - u; x += 3 * u) r.fillRect(x, y, x + u, y + u, window);
      }
    }
  }
  if (rng.next() < 0.4) {
    // A billboard: a saturated patch that looks like a sign or a lamp to a lazy model.
    const w = S * (0.06 + 0.1 * rng.next());
    const h = S * (0.04 + 0.05 * rng.next());
    const x0 = S * rng.next() - w / 2;
    const y1 = horizon - S * 0.05 * rng.next();
    r.fillRect(x0 + w / 2 - 0.5 * u, y1 - h, x0 + w / 2 + 0.5 * u, horizon, [0.3, 0.3, 0.3]);
    r.fillRect(x0, y1 - h, x0 + w, y1, pick(rng, SATURATED));
  }
  const trees = rng.int(5);
  for (let i = 0; i < trees; i++) {
    const cx = S * rng.next();
    const rx = S * (0.03 + 0.06 * rng.next());
    const green: Rgb = [0.1 + 0.15 * rng.next(), 0.3 + 0.3 * rng.next(), 0.1 + 0.12 * rng.next()];
    r.fillRect(cx - 0.5 * u, horizon - rx, cx + 0.5 * u, horizon + u, [0.3, 0.22, 0.15]);
    r.fillEllipse(cx, horizon - rx * 1.6, rx, rx * 1.2, green);
  }
}

function placeObjects(rng: Rng, road: Road, S: number): SceneObject[] {
  const objects: SceneObject[] = [];
  const side = (): number => (rng.next() < 0.5 ? -1 : 1);
  const roadside = (t: number, gap: number): number =>
    road.centre(t) + side() * (road.halfWidth(t) + S * (0.2 + 0.8 * t) * gap);

  const cars = pick(rng, [0, 1, 2, 3] as const, [0.4, 0.25, 0.2, 0.15]);
  for (let i = 0; i < cars; i++) {
    const t = 0.1 + 0.9 * rng.next();
    const x = road.centre(t) + road.halfWidth(t) * (1.2 * rng.next() - 0.6);
    objects.push({ kind: 'car', t, x, colour: jittered(rng, pick(rng, CAR_COLOURS), 0.05) });
  }
  if (rng.next() < 0.42) {
    const people = rng.next() < 0.3 ? 2 : 1;
    for (let i = 0; i < people; i++) {
      const t = 0.05 + 0.95 * rng.next();
      const crossing = rng.next() < 0.3;
      const x = crossing
        ? road.centre(t) + road.halfWidth(t) * (1.6 * rng.next() - 0.8)
        : roadside(t, 0.02 + 0.15 * rng.next());
      objects.push({
        kind: 'pedestrian',
        t,
        x,
        skin: pick(rng, SKIN),
        clothes: [rng.next(), rng.next(), rng.next()],
        legs: jittered(rng, [0.2, 0.2, 0.3], 0.1),
      });
    }
  }
  if (rng.next() < 0.32) {
    const t = 0.1 + 0.8 * rng.next();
    objects.push({
      kind: 'stopSign',
      t,
      x: roadside(t, 0.05 + 0.08 * rng.next()),
      radius: 0.9 + 0.4 * rng.next(),
    });
  }
  if (rng.next() < 0.38) {
    const lights = rng.next() < 0.25 ? 2 : 1;
    for (let i = 0; i < lights; i++) {
      const t = 0.2 + 0.7 * rng.next();
      objects.push({
        kind: 'trafficLight',
        t,
        x: roadside(t, 0.04 + 0.06 * rng.next()),
        width: 0.9 + 0.3 * rng.next(),
        pole: 0.8 + 0.5 * rng.next(),
      });
    }
  }
  const occluders = rng.int(3);
  for (let i = 0; i < occluders; i++) {
    const t = 0.3 + 0.7 * rng.next();
    const onRoad = rng.next() < 0.3;
    const x = onRoad
      ? road.centre(t) + road.halfWidth(t) * (1.6 * rng.next() - 0.8)
      : roadside(t, 0.1 * rng.next());
    const shape = rng.int(3);
    // Cones are orange-red on purpose: a stop-sign-coloured thing that is not a stop sign.
    const colour: Rgb =
      shape === 0
        ? [0.15 + 0.1 * rng.next(), 0.35 + 0.2 * rng.next(), 0.12]
        : shape === 1
          ? [0.4 + 0.2 * rng.next(), 0.4, 0.42]
          : [0.95, 0.35 + 0.15 * rng.next(), 0.1];
    objects.push({ kind: 'occluder', t, x, shape, colour });
  }
  return objects;
}

/**
 * Moves every object from depth t to 1 - maxDistance (1 - t), keeping its offset from the road
 * centre in road half-widths, so that it stays on the road, on the verge or across, as placed.
 */
function bringNearer(objects: SceneObject[], road: Road, maxDistance: number): void {
  for (const o of objects) {
    const t = 1 - maxDistance * (1 - o.t);
    const across = (o.x - road.centre(o.t)) / road.halfWidth(o.t);
    o.x = road.centre(t) + across * road.halfWidth(t);
    o.t = t;
  }
}

interface Painted {
  kind: 'car' | 'pedestrian' | 'stopSign' | 'trafficLight';
  id: number;
  /** Second id: the lit lamp of a traffic light. */
  lampId?: number;
  lightColour?: number;
  area: number;
  box: [number, number, number, number];
}

function paintObjects(r: Raster, objects: SceneObject[], road: Road, rng: Rng): SceneTruth {
  const S = r.width;
  const painted: Painted[] = [];
  const lightColour = pick(rng, [0, 1, 2] as const, [0.4, 0.2, 0.4]);
  let nextId = 1;
  for (const o of objects) {
    const y = road.row(o.t);
    const s = S * (0.2 + 0.8 * o.t);
    const id = nextId;
    let box: [number, number, number, number];
    switch (o.kind) {
      case 'car': {
        const w = 0.3 * s;
        const h = 0.55 * w;
        box = [o.x - w / 2, y - h, o.x + w / 2, y];
        const glass: Rgb = [0.15, 0.2, 0.28];
        r.fillRect(o.x - w / 2, y - 0.6 * h, o.x + w / 2, y - 0.12 * h, o.colour, id);
        r.fillRect(o.x - 0.35 * w, y - h, o.x + 0.35 * w, y - 0.55 * h, o.colour, id);
        r.fillRect(o.x - 0.28 * w, y - 0.92 * h, o.x + 0.28 * w, y - 0.62 * h, glass, id);
        const tail: Rgb = [0.85, 0.1, 0.08];
        r.fillRect(o.x - 0.48 * w, y - 0.5 * h, o.x - 0.36 * w, y - 0.38 * h, tail, id);
        r.fillRect(o.x + 0.36 * w, y - 0.5 * h, o.x + 0.48 * w, y - 0.38 * h, tail, id);
        const tyre: Rgb = [0.06, 0.06, 0.07];
        r.fillRect(o.x - 0.45 * w, y - 0.18 * h, o.x - 0.2 * w, y, tyre, id);
        r.fillRect(o.x + 0.2 * w, y - 0.18 * h, o.x + 0.45 * w, y, tyre, id);
        break;
      }
      case 'pedestrian': {
        const h = 0.4 * s;
        const w = 0.28 * h;
        const top = y - h;
        box = [o.x - w / 2, top, o.x + w / 2, y];
        r.fillRect(o.x - 0.5 * w, top + 0.18 * h, o.x + 0.5 * w, top + 0.56 * h, o.clothes, id);
        r.fillRect(o.x - 0.45 * w, top + 0.56 * h, o.x - 0.05 * w, y, o.legs, id);
        r.fillRect(o.x + 0.05 * w, top + 0.56 * h, o.x + 0.45 * w, y, o.legs, id);
        r.fillEllipse(o.x, top + 0.1 * h, 0.3 * w + 0.3, 0.1 * h + 0.3, o.skin, id);
        break;
      }
      case 'stopSign': {
        const a = 0.065 * s * o.radius;
        const cy = y - 0.32 * s;
        box = [o.x - a, cy - a, o.x + a, y];
        r.fillRect(
          o.x - Math.max(0.5, 0.02 * s),
          cy,
          o.x + Math.max(0.5, 0.02 * s),
          y,
          [0.55, 0.55, 0.58],
          id,
        );
        r.fillOctagon(o.x, cy, a, [0.8, 0.08, 0.08], id);
        if (a >= 2.5)
          r.fillRect(
            o.x - 0.62 * a,
            cy - 0.17 * a,
            o.x + 0.62 * a,
            cy + 0.17 * a,
            [0.92, 0.92, 0.92],
            id,
          );
        break;
      }
      case 'trafficLight': {
        const w = Math.max(1.2, 0.055 * s * o.width);
        const h = 3 * w;
        const bottom = y - 0.3 * s * o.pole;
        box = [o.x - w / 2, bottom - h, o.x + w / 2, y];
        r.fillRect(
          o.x - Math.max(0.5, 0.015 * s),
          bottom,
          o.x + Math.max(0.5, 0.015 * s),
          y,
          [0.3, 0.3, 0.32],
          id,
        );
        r.fillRect(o.x - w / 2, bottom - h, o.x + w / 2, bottom, [0.12, 0.12, 0.13], id);
        nextId++;
        for (let lamp = 0; lamp < 3; lamp++) {
          const on = LAMP_ON[lamp] as Rgb;
          const lit = lamp === lightColour;
          const c: Rgb = lit ? on : [on[0] * 0.25 + 0.08, on[1] * 0.25 + 0.08, on[2] * 0.25 + 0.08];
          r.fillEllipse(
            o.x,
            bottom - h + (lamp + 0.5) * w,
            0.38 * w,
            0.38 * w,
            c,
            lit ? nextId : id,
          );
        }
        painted.push({
          kind: 'trafficLight',
          id,
          lampId: nextId,
          lightColour,
          area: r.countOwned(id, ...box) + r.countOwned(nextId, ...box),
          box,
        });
        nextId++;
        continue;
      }
      case 'occluder': {
        const h = (o.shape === 1 ? 0.35 : 0.12) * s;
        const w = (o.shape === 1 ? 0.04 : 0.14) * s;
        if (o.shape === 0) r.fillEllipse(o.x, y - h / 2, w / 2, h / 2, o.colour);
        else if (o.shape === 1) r.fillRect(o.x - w / 2, y - h, o.x + w / 2, y, o.colour);
        else r.fillConvex([o.x, y - h, o.x + w / 2, y, o.x - w / 2, y], o.colour);
        continue;
      }
    }
    painted.push({ kind: o.kind, id, area: r.countOwned(id, ...box), box });
    nextId++;
  }

  const presence: [number, number, number, number] = [0, 0, 0, 0];
  let carCount = 0;
  let lightVisible: number | null = null;
  for (const p of painted) {
    let visible = r.countOwned(p.id, ...p.box);
    const lamp = p.lampId === undefined ? 0 : r.countOwned(p.lampId, ...p.box);
    visible += lamp;
    if (visible < 3 || visible < 0.35 * p.area) continue;
    presence[drivingSceneObjects.indexOf(p.kind)] = 1;
    if (p.kind === 'car') carCount++;
    if (p.kind === 'trafficLight' && lamp > 0) lightVisible = p.lightColour ?? null;
  }
  return { presence, lightColour: lightVisible, carCount };
}

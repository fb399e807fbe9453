// The live demo's training flow: `graft demo` (apps/cli/src/commands/demo.ts) in the browser.
// Generated driving scenes, the backbone shipped in @graft/core, one multi-task model whose
// heads train on WASM (heads only, for speed), per-task validation metrics after each epoch.
import {
  type BackendInfo,
  type BatchSource,
  type EpochLogs,
  initBackend,
  pretrainedBackbone,
  type StepLogs,
  Trainer,
} from '@graft/core';
import {
  batches,
  type Dataset,
  type DrivingScenes,
  drivingSceneObjects,
  drivingScenes,
  fitToBackbone,
  mapExamples,
  subset,
  trafficLightColours,
} from '@graft/datasets';
import { headsOnly } from '@graft/freeze';
import {
  classification,
  type ModelReport,
  multiLabel,
  multiTaskModel,
  regression,
} from '@graft/heads';
import * as tf from '@tensorflow/tfjs-core';

export interface DemoOptions {
  scenes: number;
  epochs: number;
  batch: number;
  seed: number;
}

export interface EpochRow {
  epoch: number;
  loss: number;
  validationLoss: number;
  presenceAuc: number;
  presenceMap: number;
  lightColourAccuracy: number;
  carCountR2: number;
  seconds: number;
}

export interface DemoEvents {
  status(text: string): void;
  step(step: number, loss: number): void | Promise<void>;
  epoch(row: EpochRow): void;
}

export interface BackendReport extends BackendInfo {
  crossOriginIsolated: boolean;
  /** tfjs chose its threaded SIMD build (it does when the page is cross-origin isolated). */
  threadedBuild: boolean;
  cores: number;
}

export interface Prediction {
  id: string;
  pixels: ImageData;
  truth: { presence: (0 | 1 | null)[]; lightColour: number | null; carCount: number | null };
  presence: number[];
  lightColour: number[];
  carCount: number;
}

/**
 * The same model as `graft demo` (apps/cli/src/commands/demo.ts, DEMO_TRUNK and DEMO_SCENES):
 * the shipped trunk cut after block 12 (a 4x4 map at 64x64 instead of 2x2, where small
 * objects vanish), the light colour read from the stem's 32x32 map, objects within the nearer
 * 60% of the road.
 */
const CUT_AT = 'block_13_expand_relu';
const LIGHT_COLOUR_AT = 'Conv1_relu';
const MAX_DISTANCE = 0.6;

export type { DrivingScenes };
export const objectNames = drivingSceneObjects;
export const colourNames = trafficLightColours;

let backendPromise: Promise<BackendReport> | undefined;

/**
 * Starts graft's WASM backend once per page; the binaries are served by this site. Threads:
 * graft's default (every logical core, when the page is cross-origin isolated), or the
 * page's `?threads=N` (for comparing thread counts on one machine).
 */
export function startBackend(wasmBase: string): Promise<BackendReport> {
  const asked = Number(new URLSearchParams(location.search).get('threads'));
  backendPromise ??= initBackend({
    wasmPaths: new URL(wasmBase, location.href).href,
    fallback: false,
    ...(Number.isInteger(asked) && asked >= 1 ? { threads: asked } : {}),
  }).then(async (info) => ({
    ...info,
    crossOriginIsolated: self.crossOriginIsolated === true,
    threadedBuild:
      info.name === 'wasm' && (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true,
    cores: navigator.hardwareConcurrency,
  }));
  return backendPromise;
}

export class TrainedDemo {
  constructor(
    private readonly model: ReturnType<typeof multiTaskModel>,
    private readonly prepare: (ds: Dataset) => Dataset,
    private readonly size: number,
  ) {}

  /** Runs the trained model on `count` scenes it has never seen (a new seed). */
  async predict(count: number, seed: number): Promise<Prediction[]> {
    const scenes = drivingScenes({ count, seed, size: this.size, maxDistance: MAX_DISTANCE });
    const out: Prediction[] = [];
    for (let i = 0; i < count; i++) {
      const raw = await scenes.get(i);
      const [ready] = await collect(this.prepare(subset(scenes, [i])));
      if (!ready) continue;
      const x = tf.tensor(ready.input.data, [1, ...ready.input.shape]);
      const y = this.model.predict(x);
      const [presence, lightColour, carCount] = await Promise.all([
        (y.presence as tf.Tensor).data(),
        (y.lightColour as tf.Tensor).data(),
        (y.carCount as tf.Tensor).data(),
      ]);
      tf.dispose([x, ...Object.values(y)]);
      out.push({
        id: raw.id,
        pixels: toImageData(raw.input.data, this.size),
        truth: raw.targets as Prediction['truth'],
        presence: Array.from(presence),
        lightColour: Array.from(lightColour),
        carCount: carCount[0] as number,
      });
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}

export async function trainDemo(options: DemoOptions, on: DemoEvents): Promise<TrainedDemo> {
  on.status('generating scenes and loading the shipped backbone…');
  const backbone = pretrainedBackbone().cut(CUT_AT);
  const size = backbone.inputShape[0] as number;
  const pre = backbone.preprocessing;
  const transforms = fitToBackbone({
    inputRange: pre.inputRange,
    mean: pre.mean,
    std: pre.std,
    size: [size, size],
  });
  const prepare = (ds: Dataset) => mapExamples(ds, transforms);
  const scenes = drivingScenes({
    count: options.scenes,
    seed: options.seed,
    size,
    missing: { presence: 0.15, carCount: 0.2 },
    maxDistance: MAX_DISTANCE,
  });
  const nTrain = Math.round(options.scenes * 0.8);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const train = prepare(subset(scenes, range(0, nTrain)));
  const validation = prepare(subset(scenes, range(nTrain, options.scenes - nTrain)));

  const model = multiTaskModel({
    backbone,
    tasks: {
      presence: multiLabel({ labels: drivingSceneObjects, pooling: 'max', hidden: [64] }),
      lightColour: classification({
        classes: trafficLightColours,
        attachAt: LIGHT_COLOUR_AT,
        pooling: 'max',
        hidden: [32],
      }),
      carCount: regression({ outputs: 1, hidden: [32] }),
    },
    seed: options.seed,
  });
  const plan = headsOnly().plan(model);
  const source = (ds: Dataset, shuffle: boolean): BatchSource => ({
    batchCount: Math.ceil(ds.size / options.batch),
    batches: (epoch) =>
      batches(ds, { batchSize: options.batch, shuffle, seed: options.seed, epoch }),
  });
  const trainer = new Trainer({
    model,
    plan,
    optimizer: { type: 'adamw', learningRate: 3e-3, weightDecay: 1e-4 },
  });
  on.status(`training the heads: ${train.size} scenes, ${options.epochs} epochs…`);
  await trainer.fit(source(train, true), {
    epochs: options.epochs,
    validation: source(validation, false),
    callbacks: [
      {
        onStepEnd: async (s: StepLogs) => {
          await on.step(s.step, s.loss);
          // Let the page paint between steps.
          await new Promise((r) => setTimeout(r, 0));
        },
        onEpochEnd: (logs: EpochLogs) => on.epoch(epochRow(logs)),
      },
    ],
  });
  trainer.dispose();
  on.status('trained: run it on new scenes below');
  return new TrainedDemo(model, prepare, size);
}

function epochRow(logs: EpochLogs): EpochRow {
  const report = logs.validation?.report as ModelReport | undefined;
  const row: EpochRow = {
    epoch: logs.epoch + 1,
    loss: logs.loss,
    validationLoss: logs.validation?.loss ?? Number.NaN,
    presenceAuc: Number.NaN,
    presenceMap: Number.NaN,
    lightColourAccuracy: Number.NaN,
    carCountR2: Number.NaN,
    seconds: logs.seconds,
  };
  for (const r of Object.values(report?.tasks ?? {})) {
    if (r.kind === 'multiLabel') {
      row.presenceAuc = r.mean.auc;
      row.presenceMap = r.mean.mAP;
    } else if (r.kind === 'classification') row.lightColourAccuracy = r.accuracy;
    else row.carCountR2 = r.mean.r2;
  }
  return row;
}

async function collect(ds: Dataset) {
  const out = [];
  for await (const e of ds) out.push(e);
  return out;
}

function toImageData(data: Float32Array, size: number): ImageData {
  const img = new ImageData(size, size);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) {
      img.data[p * 4 + c] = Math.round(Math.min(1, Math.max(0, data[p * 3 + c] as number)) * 255);
    }
    img.data[p * 4 + 3] = 255;
  }
  return img;
}

import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { isGraftError } from '../errors';
import type { Batch } from '../train/batch';
import type { TrainerCallback } from '../train/callbacks/trainerCallback';
import { type TinyModel, tinyBatch, tinyTwoTaskModel } from '../train/testing/tinyTwoTaskModel';
import type { TrainableModel } from '../train/trainableModel';
import { Trainer, type TrainerOptions } from '../train/trainer';
import { createReplicaGroupMemory, ReplicaGroup, requestReplicaStop } from './replicaGroup';

// The replicas of these tests share one thread: ReplicaGroup waits with Atomics.waitAsync, so
// while one replica waits at a barrier the others run. Each replica has its own model copy.

const models: TinyModel[] = [];
function track(model: TinyModel): TinyModel {
  models.push(model);
  return model;
}
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

function values(model: TrainableModel): Float32Array[] {
  return model.params.map((p) => p.variable.dataSync() as Float32Array);
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((x, i) => {
    const y = b[i] as Float32Array;
    for (let j = 0; j < x.length; j++)
      max = Math.max(max, Math.abs((x[j] as number) - (y[j] as number)));
  });
  return max;
}

function batches(n: number, size: number, seed: number, missingFlag = 0): Batch[] {
  return Array.from({ length: n }, (_, i) => tinyBatch({ size, seed: seed + i, missingFlag }));
}

/** Trains `replicas` copies of the tiny model side by side, each a Trainer in the group. */
async function trainReplicas(options: {
  replicas: number;
  data: Batch[];
  epochs: number;
  seed: number;
  trainer?: Partial<TrainerOptions>;
  callbacks?: (rank: number) => TrainerCallback[];
}) {
  const memory = createReplicaGroupMemory({ replicas: options.replicas, capacity: 4096 });
  const replicas = Array.from({ length: options.replicas }, (_, rank) => {
    const model = track(tinyTwoTaskModel(options.seed));
    const group = new ReplicaGroup(memory, rank);
    const trainer = new Trainer({
      model,
      optimizer: { type: 'adam', learningRate: 0.05 },
      dataParallel: group,
      onWarning: () => {},
      ...options.trainer,
    });
    return { model, trainer, group };
  });
  const histories = await Promise.all(
    replicas.map((r, rank) =>
      r.trainer.fit(options.data, {
        epochs: options.epochs,
        callbacks: options.callbacks?.(rank) ?? [],
      }),
    ),
  );
  return { replicas, histories, memory };
}

// On wasm the averaged gradients and statistics are written into tensors in place
// (replicaTensors.ts); on cpu by plain ops. Both must train the same way.
describe.each(['cpu', 'wasm'] as const)(
  'data-parallel Trainer (replicas in one thread, %s)',
  (backend) => {
    beforeAll(async () => {
      await initBackend({ backend });
      expect(tf.getBackend()).toBe(backend);
    });

    it('keeps the replicas bit-identical and logs the same numbers in each', async () => {
      const data = batches(4, 7, 100, 0.3); // odd rows: 4 + 3 per replica; missing labels
      const { replicas, histories } = await trainReplicas({
        replicas: 2,
        data,
        epochs: 2,
        seed: 3,
      });
      const [a, b] = replicas.map((r) => values(r.model)) as [Float32Array[], Float32Array[]];
      expect(maxDiff(a, b)).toBe(0);
      const withoutTimes = (h: (typeof histories)[number]) =>
        h.epochs.map(({ seconds: _seconds, ...rest }) => rest);
      expect(withoutTimes(histories[0] as (typeof histories)[number])).toEqual(
        withoutTimes(histories[1] as (typeof histories)[number]),
      );
      // It trained: the weights moved from their start.
      const start = track(tinyTwoTaskModel(3));
      expect(maxDiff(a, values(start))).toBeGreaterThan(1e-3);
      tf.dispose(data.flatMap((x) => [x.x, ...Object.values(x.targets), ...Object.values(x.mask)]));
    });

    it('with one replica, trains exactly as without a group', async () => {
      const data = batches(3, 6, 200);
      const { replicas, histories } = await trainReplicas({
        replicas: 1,
        data,
        epochs: 2,
        seed: 4,
      });
      const plain = track(tinyTwoTaskModel(4));
      const trainer = new Trainer({
        model: plain,
        optimizer: { type: 'adam', learningRate: 0.05 },
        onWarning: () => {},
      });
      const history = await trainer.fit(data, { epochs: 2 });
      // The sums pass through float32 shared memory (w = 1): the same numbers, to rounding.
      expect(maxDiff(values(replicas[0]?.model as TinyModel), values(plain))).toBeLessThan(1e-6);
      expect(histories[0]?.epochs.map((e) => e.loss)).toEqual(
        history.epochs.map((e) => expect.closeTo(e.loss, 6)),
      );
    });

    it('matches the single-replica step when batch norm is on moving statistics (no ghost batches)', async () => {
      // With batch norm in inference mode the model is per-row, so the row-weighted mean of the
      // replicas' mean gradients is the whole batch's mean gradient.
      const inference = new Map([['trunk_bn', 'inference' as const]]);
      const data = batches(3, 9, 300); // 5 + 4 rows
      const trainerFor = (model: TinyModel, group?: ReplicaGroup) =>
        new Trainer({
          model,
          optimizer: { type: 'sgd', learningRate: 0.1 },
          ...(group ? { dataParallel: group } : {}),
          onWarning: () => {},
        });
      const memory = createReplicaGroupMemory({ replicas: 2, capacity: 4096 });
      const a = track(tinyTwoTaskModel(5));
      const b = track(tinyTwoTaskModel(5));
      const single = track(tinyTwoTaskModel(5));
      // The tiny model's batch norm runs in training mode unless told otherwise: force it.
      for (const m of [a, b, single]) {
        const forward = m.forward.bind(m);
        (m as { forward: TinyModel['forward'] }).forward = (x, o) =>
          forward(x, { ...o, batchNormModes: inference });
      }
      const ta = trainerFor(a, new ReplicaGroup(memory, 0));
      const tb = trainerFor(b, new ReplicaGroup(memory, 1));
      const ts = trainerFor(single);
      await Promise.all([ta.fit(data, { epochs: 2 }), tb.fit(data, { epochs: 2 })]);
      await ts.fit(data, { epochs: 2 });
      expect(maxDiff(values(a), values(b))).toBe(0);
      expect(maxDiff(values(a), values(single))).toBeLessThan(1e-5);
    });

    it('gives a replica with no rows of a small batch nothing to train, and stays identical', async () => {
      const data = batches(2, 1, 400); // one row: replica 1 gets none
      const { replicas } = await trainReplicas({ replicas: 2, data, epochs: 1, seed: 6 });
      const [a, b] = replicas.map((r) => values(r.model)) as [Float32Array[], Float32Array[]];
      expect(maxDiff(a, b)).toBe(0);
    });

    it('stops every replica after the same step when one asks (or the starting thread)', async () => {
      const data = batches(5, 4, 500);
      const stopper: (rank: number) => TrainerCallback[] = (rank) => [
        {
          onStepEnd: (logs, control) => {
            if (rank === 1 && logs.step === 2) control.stop('replica 1 had enough');
          },
        },
      ];
      const { histories } = await trainReplicas({
        replicas: 2,
        data,
        epochs: 3,
        seed: 7,
        callbacks: stopper,
      });
      for (const h of histories) expect(h.epochs[0]?.steps).toBe(2);
      expect(histories[1]?.stopReason).toBe('replica 1 had enough');
      expect(histories[0]?.stopReason).toMatch(/another replica/);

      // One replica alone stops at an epoch's end: the others stop there too.
      const atEpochEnd = await trainReplicas({
        replicas: 2,
        data,
        epochs: 3,
        seed: 7,
        callbacks: (rank) => [
          {
            onEpochEnd: (_logs, control) => {
              if (rank === 0) control.stop('replica 0 is done');
            },
          },
        ],
      });
      for (const h of atEpochEnd.histories) expect(h.epochs.length).toBe(1);
      for (const r of atEpochEnd.replicas) expect(r.trainer.step).toBe(5);

      // Asked before the first step: no step is taken anywhere.
      const memory = createReplicaGroupMemory({ replicas: 2, capacity: 4096 });
      requestReplicaStop(memory);
      const trainers = [0, 1].map(
        (rank) =>
          new Trainer({
            model: track(tinyTwoTaskModel(8)),
            dataParallel: new ReplicaGroup(memory, rank),
            onWarning: () => {},
          }),
      );
      const stopped = await Promise.all(trainers.map((t) => t.fit(data, { epochs: 2 })));
      for (const h of stopped) {
        expect(h.epochs).toEqual([]);
        expect(h.stopReason).toMatch(/starting thread asked/);
      }
      for (const t of trainers) expect(t.step).toBe(0);
    });

    it('refuses replicas given different batches, and a failed replica releases the others', async () => {
      const memory = createReplicaGroupMemory({ replicas: 2, capacity: 4096 });
      const fits = [0, 1].map((rank) =>
        new Trainer({
          model: track(tinyTwoTaskModel(9)),
          dataParallel: new ReplicaGroup(memory, rank),
          onWarning: () => {},
        }).fit(batches(1, rank === 0 ? 4 : 6, 600), { epochs: 1 }),
      );
      const results = await Promise.allSettled(fits);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const e = (r as PromiseRejectedResult).reason;
        expect(isGraftError(e, 'REPLICA_MISMATCH') || isGraftError(e, 'REPLICA_FAILED')).toBe(true);
      }
      expect(isGraftError((results[0] as PromiseRejectedResult).reason, 'REPLICA_MISMATCH')).toBe(
        true,
      );

      // A replica whose callback throws releases the others (they would wait at the next step).
      const memory3 = createReplicaGroupMemory({ replicas: 2, capacity: 4096 });
      const throwing = await Promise.allSettled(
        [0, 1].map((rank) =>
          new Trainer({
            model: track(tinyTwoTaskModel(9)),
            dataParallel: new ReplicaGroup(memory3, rank),
            onWarning: () => {},
          }).fit(batches(4, 4, 650), {
            epochs: 1,
            callbacks: [
              {
                onStepEnd: (logs) => {
                  if (rank === 1 && logs.step === 2) throw new Error('callback broke');
                },
              },
            ],
          }),
        ),
      );
      expect((throwing[1] as PromiseRejectedResult).reason.message).toBe('callback broke');
      expect(isGraftError((throwing[0] as PromiseRejectedResult).reason, 'REPLICA_FAILED')).toBe(
        true,
      );

      // A replica that fails before the exchange (here: a bad batch) wakes the waiting one.
      const memory2 = createReplicaGroupMemory({ replicas: 2, capacity: 4096 });
      const g0 = new ReplicaGroup(memory2, 0);
      const g1 = new ReplicaGroup(memory2, 1);
      const waiting = g1.barrier('test');
      g0.fail();
      await expect(waiting).rejects.toThrow(/Replica 0 of 2 failed/);
    });

    it('refuses a task weighting that keeps per-step state outside the model', () => {
      const memory = createReplicaGroupMemory({ replicas: 2, capacity: 16 });
      expect(
        () =>
          new Trainer({
            model: track(tinyTwoTaskModel(10)),
            dataParallel: new ReplicaGroup(memory, 0),
            strategy: {
              name: 'gradnorm',
              perStepHostState: true,
              computeGradients: () => {
                throw new Error('unused');
              },
              taskWeights: () => ({}),
            },
          }),
      ).toThrow(/cannot train data-parallel/);
    });

    it('leaks no tensors across data-parallel steps', async () => {
      const data = batches(3, 5, 700);
      const run = async (epochs: number) => {
        const { replicas } = await trainReplicas({ replicas: 2, data, epochs, seed: 11 });
        for (const r of replicas) r.trainer.dispose();
        for (const m of models.splice(0)) m.dispose();
        return tf.memory().numTensors;
      };
      // One epoch or three: the same tensors remain afterwards (the data's).
      expect(await run(3)).toBe(await run(1));
    });
  },
);

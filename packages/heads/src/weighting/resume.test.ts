import {
  type Batch,
  decodeTrainingState,
  encodeTrainingState,
  initBackend,
  type Param,
  Trainer,
} from '@graft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiLabel } from '../heads/multiLabel';
import { regression } from '../heads/regression';
import { multiTaskModel } from '../model/multiTaskModel';
import { disposeBatches, quadrantBatch } from '../testing/syntheticBatches';
import { tinyTrunk } from '../testing/tinyTrunk';
import { taskWeighting } from './registry';

const EPOCHS = 4;
let data: Batch[] = [];

/** A run with a strategy whose state moves the weights: DWA, GradNorm, uncertainty. */
function setup(strategy: string, seed: number) {
  const backbone = tinyTrunk();
  const model = multiTaskModel({
    backbone,
    tasks: {
      quad: multiLabel({ labels: ['a', 'b', 'c', 'd'] }),
      amount: regression({ outputs: 1 }),
    },
    seed,
  });
  // Different initial strategy parameters too, so the state must supply them.
  const trainer = new Trainer({
    model,
    strategy: taskWeighting(strategy),
    optimizer: { type: 'adam', learningRate: 0.01 },
  });
  const values = () => {
    const all: Param[] = [...model.params, ...(trainer.strategy.params?.() ?? [])];
    return new Map(all.map((p) => [p.name, Array.from(p.variable.dataSync())]));
  };
  const dispose = () => {
    trainer.dispose();
    model.dispose();
    backbone.dispose();
  };
  return { trainer, values, dispose };
}

describe('weighting strategies resume exactly from a training state', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
    data = [0, 1, 2].map((i) => quadrantBatch({ size: 8, batch: 8, seed: 500 + i, missing: 0.3 }));
  });
  afterAll(() => disposeBatches(data));

  for (const name of ['dwa', 'gradnorm', 'uncertainty']) {
    it(`${name}: interrupted in epoch 3 and resumed in a fresh model, same weights and task weights`, async () => {
      const straight = setup(name, 4);
      const full = await straight.trainer.fit(data, { epochs: EPOCHS });

      const first = setup(name, 4);
      let bytes: Uint8Array | undefined;
      await first.trainer.fit(data, {
        epochs: EPOCHS,
        callbacks: [
          {
            onStepEnd(logs, control) {
              if (logs.step === 7) {
                bytes = encodeTrainingState(control.state());
                control.stop('interrupted');
              }
            },
          },
        ],
      });
      first.dispose();

      const fresh = setup(name, 11);
      const resumed = await fresh.trainer.fit(data, {
        epochs: EPOCHS,
        resumeFrom: decodeTrainingState(bytes as Uint8Array),
      });
      expect(fresh.values()).toEqual(straight.values());
      expect(resumed.epochs.map((e) => e.taskWeights)).toEqual(
        full.epochs.map((e) => e.taskWeights),
      );
      // DWA's weights move from epoch 3 on: the resumed epochs must use the saved history.
      if (name === 'dwa') expect(full.epochs[3]?.taskWeights.quad).not.toBe(1);
      straight.dispose();
      fresh.dispose();
    });
  }
});

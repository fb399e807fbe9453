import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/initBackend';
import { tinyBatch, tinyTwoTaskModel } from './testing/tinyTwoTaskModel';
import { Trainer } from './trainer';

describe('a long fit gives the event loop turns', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', fallback: false });
  });

  it('a macrotask queued before fit (a Ctrl-C handler, say) runs during training, not after', async () => {
    const model = tinyTwoTaskModel(1);
    const trainer = new Trainer({ model });
    const train = Array.from({ length: 20 }, (_, i) => tinyBatch({ size: 8, seed: i }));
    let ranAtStep: number | undefined;
    setImmediate(() => {
      ranAtStep = trainer.step;
    });
    // Steps of ~10 ms over in-memory batches: the loop only awaits resolved promises.
    const slowStep = {
      onStepEnd: () => {
        const until = performance.now() + 10;
        while (performance.now() < until);
      },
    };
    let stopRequested = false;
    setTimeout(() => {
      stopRequested = true;
    }, 60);
    const history = await trainer.fit(train, {
      epochs: 3,
      callbacks: [
        slowStep,
        { onStepEnd: (_, control) => (stopRequested ? control.stop('asked') : undefined) },
      ],
    });
    expect(ranAtStep).toBeDefined();
    expect(ranAtStep as number).toBeLessThan(20);
    // The timer's request reached the loop well before the 60 steps of three epochs.
    expect(history.stopReason).toBe('asked');
    expect(trainer.step).toBeLessThan(30);
    trainer.dispose();
    model.dispose();
    for (const b of train) tf.dispose([b.x, ...Object.values(b.targets), ...Object.values(b.mask)]);
  });
});

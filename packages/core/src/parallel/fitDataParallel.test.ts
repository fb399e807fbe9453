import { describe, expect, it, vi } from 'vitest';
import type * as Core from '../index';

// Worker threads load graft's built ES module (they cannot load TypeScript): so does this test,
// so that the workers and the job module share one graft. `npm test` builds it first; the
// types come from the sources, since typechecking runs before the build.
const built = new URL('../../dist/index.js', import.meta.url).href;
const core = (await import(/* @vite-ignore */ built)) as typeof Core;

const job = new URL('./testing/tinyJob.mjs', import.meta.url);

function paramValues(state: Core.DataParallelResult['state']): Map<string, Float32Array> {
  return new Map([...state.params].map(([name, t]) => [name, t.values]));
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let max = 0;
  for (const [name, x] of a) {
    const y = b.get(name) as Float32Array;
    for (let j = 0; j < x.length; j++)
      max = Math.max(max, Math.abs((x[j] as number) - (y[j] as number)));
  }
  return max;
}

describe('fitDataParallel (worker threads)', () => {
  it('trains one model on 2 worker threads and reports progress from replica 0', async () => {
    const steps: number[] = [];
    const epochs: number[] = [];
    const result = await core.fitDataParallel({
      job,
      replicas: 2,
      options: { epochs: 3, batches: 5, batchSize: 9 },
      onStepEnd: (logs) => steps.push(logs.step),
      onEpochEnd: (logs) => epochs.push(logs.epoch),
    });
    expect(result.replicas).toBe(2);
    expect(steps).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(epochs).toEqual([0, 1, 2]);
    const losses = result.history.epochs.map((e) => e.loss);
    expect(losses[2] as number).toBeLessThan(losses[0] as number);
    expect(result.state.globalStep).toBe(15);
    // The weights go into a model of one's own.
    await core.initBackend({ backend: 'cpu' });
    const { tinyModel } = await import('./testing/tinyJob.mjs');
    const model = tinyModel();
    core.restoreTrainedParams(model.params, result.state);
    const first = model.params[0] as Core.Param;
    const trained = result.state.params.get(first.name);
    expect(Array.from(first.variable.dataSync())).toEqual(Array.from(trained?.values ?? []));
  }, 60_000);

  it("forwards replica 0's Trainer warnings once, in order with the epoch reports", async () => {
    const events: string[] = [];
    await core.fitDataParallel({
      job,
      replicas: 2,
      options: { epochs: 2, batches: 2, batchSize: 6, unlabelled: true },
      onWarning: (message) => events.push(message),
      onEpochEnd: (logs) => {
        events.push(`epoch ${logs.epoch + 1}`);
      },
    });
    const noLabels = (epoch: number) =>
      expect.stringMatching(
        new RegExp(`^graft: task "level" had no labelled examples in epoch ${epoch};`),
      );
    expect(events).toEqual([noLabels(1), 'epoch 1', noLabels(2), 'epoch 2']);
  }, 60_000);

  it("prints replica 0's warnings with console.warn by default, unless the job has its own onWarning", async () => {
    const printed: unknown[] = [];
    const spy = vi.spyOn(console, 'warn').mockImplementation((message) => {
      printed.push(message);
    });
    try {
      const options = { epochs: 2, batches: 2, batchSize: 6, unlabelled: true };
      await core.fitDataParallel({ job, replicas: 2, options: { ...options, jobWarnings: false } });
      expect(printed).toEqual([
        expect.stringMatching(/^graft: task "level" had no labelled examples in epoch 1;/),
        expect.stringMatching(/^graft: task "level" had no labelled examples in epoch 2;/),
      ]);
      printed.length = 0;
      // The job's own onWarning (here: dropping them) has heard them already.
      await core.fitDataParallel({ job, replicas: 2, options });
      expect(printed).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  }, 60_000);

  it('without batch norm, 2 replicas train the same model as 1 (to float rounding)', async () => {
    const options = { epochs: 2, batches: 4, batchSize: 7, batchNorm: false };
    const one = await core.fitDataParallel({ job, replicas: 1, options });
    const two = await core.fitDataParallel({ job, replicas: 2, options });
    expect(maxDiff(paramValues(one.state), paramValues(two.state))).toBeLessThan(1e-5);
  }, 60_000);

  it('resumes from an epoch-end state to the same weights as an uninterrupted run', async () => {
    const options = { epochs: 3, batches: 4, batchSize: 8 };
    const states: Core.TrainingState[] = [];
    const whole = await core.fitDataParallel({
      job,
      replicas: 2,
      options,
      epochStates: true,
      onEpochEnd: async (_logs, state) => {
        await new Promise((resolve) => setTimeout(resolve, 5)); // an async writer, awaited
        if (state) states.push(state);
      },
    });
    expect(states.map((s) => s.globalStep)).toEqual([4, 8, 12]);
    const resumed = await core.fitDataParallel({
      job,
      replicas: 2,
      options,
      resumeFrom: states[0] as Core.TrainingState,
    });
    expect(resumed.state.globalStep).toBe(12);
    expect(maxDiff(paramValues(resumed.state), paramValues(whole.state))).toBe(0);
  }, 60_000);

  it("surfaces the failing replica's own error, and stops the others", async () => {
    await expect(
      core.fitDataParallel({ job, replicas: 2, options: { fail: { rank: 1, at: 'step' } } }),
    ).rejects.toThrow(/Replica 1 failed: replica 1 failed after step 2/);
    await expect(
      core.fitDataParallel({ job, replicas: 2, options: { fail: { rank: 0, at: 'build' } } }),
    ).rejects.toThrow(/replica 0 could not build its job/);
    await expect(
      core.fitDataParallel({ job: new URL('./testing/missing.mjs', import.meta.url), replicas: 2 }),
    ).rejects.toThrow(/Could not load the job module/);
  }, 60_000);

  it('stops every replica after the same step when the signal aborts', async () => {
    const controller = new AbortController();
    const result = await core.fitDataParallel({
      job,
      replicas: 2,
      options: { epochs: 50, batches: 10, slowSteps: true },
      signal: controller.signal,
      onStepEnd: (logs) => {
        if (logs.step === 3) controller.abort();
      },
    });
    const steps = result.state.globalStep;
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(steps).toBeLessThan(50 * 10);
    expect(result.history.stopReason).toMatch(/stopped/);
  }, 60_000);
});

import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGraftModel } from '@graft/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reporter } from '../reporter';
import { type DemoResult, runDemo } from './demo';

function captureReporter() {
  const lines: string[] = [];
  const reporter: Reporter = {
    info: (m) => lines.push(m),
    progress: (_d, t) => lines.push(t),
    summary: (_d, t) => lines.push(t),
  };
  return { lines, reporter };
}

const REDUCED = { scenes: 400, epochs: 2, batch: 32, backend: 'wasm', seed: 1 } as const;

describe('graft demo (reduced)', () => {
  let dir: string;
  let out: string;
  let result: DemoResult;
  let text: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graft-demo-'));
    out = join(dir, 'graft-demo');
    const { lines, reporter } = captureReporter();
    result = await runDemo({ ...REDUCED, out }, reporter);
    text = lines.join('\n');
  }, 600_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains the multi-task model on WASM, explains its freeze plan, and reports every task next to chance', () => {
    expect(result.backend).toBe('wasm');
    expect(text).toMatch(/^backend: wasm \(SIMD on, 1 thread\)/);
    expect(text).toMatch(/freeze: ruleOfThumb -> /);
    expect(text).toMatch(/why: \d+ labelled images/);
    for (const label of ['pedestrian', 'car', 'stopSign', 'trafficLight']) {
      expect(text).toMatch(
        new RegExp(`${label} +AUC \\d\\.\\d{3}  (above chance by|NOT above chance)`),
      );
    }
    expect(text).toMatch(
      /lightColour: accuracy \d\.\d{3} \(chance \d\.\d{3}: always the commonest/,
    );
    expect(text).toMatch(/carCount: R² -?\d\.\d{3} \(chance 0\.000: always the mean count\)/);
    expect(result.history).toHaveLength(REDUCED.epochs);
    expect(Object.keys(result.test.tasks)).toEqual(['presence', 'lightColour', 'carCount']);
    const explained = result.freezePlan.flatMap((r) => r.paramNames);
    expect(new Set(explained).size).toBe(explained.length);
  });

  it('beats chance on cars and car counts even on the reduced run', () => {
    // Two epochs on 280 scenes (seeded, so the same numbers every run: car AUC 0.74, R² 0.34
    // when written): cars, the largest objects, and their count are already clear of chance.
    // The small objects and the colour need the full run (README), so they are not asserted.
    const presence = result.test.tasks.presence;
    if (presence?.kind !== 'multiLabel') throw new Error('presence is not multi-label');
    const car = presence.labels.find((l) => l.label === 'car');
    expect(car?.auc).toBeGreaterThan(result.chance.presenceAuc + 0.15);
    const count = result.test.tasks.carCount;
    if (count?.kind !== 'regression') throw new Error('carCount is not a regression');
    expect(count.mean.r2).toBeGreaterThan(result.chance.carCountR2 + 0.15);
  });

  it('saves the model, metrics.json and report.html in the run directory and says where', async () => {
    expect(result.runDir).toBe(out);
    expect(text).toMatch(
      new RegExp(`model \\(model.json, graft.json\\), metrics.json and report.html in ${out}`),
    );
    for (const f of [
      'model.json',
      'graft.json',
      'metrics.json',
      'report.html',
      'run.log',
      'demo.json',
    ]) {
      expect((await stat(join(out, f))).size).toBeGreaterThan(0);
    }
    // The saved model loads back with its heads and predicts every task.
    const model = await loadGraftModel(join(out, 'model.json'));
    try {
      expect(model.sidecar.training?.command).toBe('graft demo');
      expect(model.tasks.map((t) => t.name)).toEqual(['presence', 'lightColour', 'carCount']);
      const shape = model.trunk.inputShape as number[];
      const x = tf.zeros([2, ...shape]);
      const y = model.predict(x);
      expect(y.presence?.shape).toEqual([2, 4]);
      expect(y.lightColour?.shape).toEqual([2, 3]);
      expect(y.carCount?.shape).toEqual([2, 1]);
      tf.dispose([x, ...Object.values(y)]);
    } finally {
      model.dispose();
    }
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.chance.presenceAuc).toBe(0.5);
    expect(Object.keys(metrics.aboveChance.presence)).toEqual([
      'pedestrian',
      'car',
      'stopSign',
      'trafficLight',
    ]);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('graft demo');
    expect(html).toContain('pedestrian');
  });

  it("replaces its own previous output, and refuses a folder that is not a demo's", async () => {
    // A second run into the same folder succeeds (1 epoch, tiny: only the replacing matters).
    const { lines, reporter } = captureReporter();
    // Every tensor the run made (trunk, heads, optimizer state, export copies) is released.
    const tensors = tf.memory().numTensors;
    await runDemo({ ...REDUCED, scenes: 60, epochs: 1, out }, reporter);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(lines.join('\n')).toContain(
      `output: ${out} (replacing the previous demo's output there)`,
    );
    const log = await readFile(join(out, 'run.log'), 'utf8');
    expect(log.match(/backend: wasm/g)).toHaveLength(1);

    const mine = join(dir, 'mine');
    await mkdir(mine);
    await writeFile(join(mine, 'notes.txt'), 'keep me');
    await expect(runDemo({ ...REDUCED, out: mine }, captureReporter().reporter)).rejects.toThrow(
      /not a demo run/,
    );
    expect(await readFile(join(mine, 'notes.txt'), 'utf8')).toBe('keep me');
    await expect(
      runDemo({ ...REDUCED, scenes: 10, out: join(dir, 'few') }, captureReporter().reporter),
    ).rejects.toThrow(/at least 40 scenes/);
    await expect(stat(join(dir, 'few'))).rejects.toThrow(/ENOENT/);
  }, 600_000);
});

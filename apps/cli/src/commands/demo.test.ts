import { describe, expect, it } from 'vitest';
import type { Reporter } from '../reporter';
import { runDemo } from './demo';

function captureReporter() {
  const lines: string[] = [];
  const reporter: Reporter = {
    info: (m) => lines.push(m),
    progress: (_d, t) => lines.push(t),
    summary: (_d, t) => lines.push(t),
  };
  return { lines, reporter };
}

describe('graft demo (reduced)', () => {
  it('trains the multi-task model on WASM, explains its freeze plan, and reports every task', async () => {
    const { lines, reporter } = captureReporter();
    const result = await runDemo(
      { scenes: 400, epochs: 2, batch: 32, backend: 'wasm', seed: 1 },
      reporter,
    );
    const text = lines.join('\n');
    expect(result.backend).toBe('wasm');
    expect(text).toMatch(/^backend: wasm \(SIMD on, 1 thread\)/);
    expect(text).toMatch(/freeze: ruleOfThumb -> /);
    expect(text).toMatch(/why: \d+ labelled images/);
    expect(text).toMatch(/presence: mean ROC-AUC \d\.\d{3}/);
    expect(text).toMatch(/lightColour: accuracy \d\.\d{3}/);
    expect(text).toMatch(/carCount: R² -?\d\.\d{3}/);
    expect(result.history).toHaveLength(2);
    expect(Object.keys(result.test.tasks)).toEqual(['presence', 'lightColour', 'carCount']);
    const explained = result.freezePlan.flatMap((r) => r.paramNames);
    expect(new Set(explained).size).toBe(explained.length);
  });
});

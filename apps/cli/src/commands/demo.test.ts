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

describe('graft demo', () => {
  it('trains on WASM, says so, and the loss goes down', async () => {
    const { lines, reporter } = captureReporter();
    const result = await runDemo(
      { steps: 24, batch: 8, size: 32, alpha: 0.35, backend: 'wasm', seed: 1 },
      reporter,
    );
    expect(result.backend).toBe('wasm');
    expect(lines[0]).toMatch(/^backend: wasm \(SIMD on, 1 thread\)/);
    const first = result.losses.slice(0, 4).reduce((a, b) => a + b) / 4;
    const last = result.losses.slice(-4).reduce((a, b) => a + b) / 4;
    expect(last).toBeLessThan(first * 0.8);
    expect(lines.at(-1)).toMatch(/^loss \d\.\d{4} -> \d\.\d{4} .* on wasm/);
  });
});

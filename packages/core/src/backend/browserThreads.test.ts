import { describe, expect, it } from 'vitest';
import { BROWSER_MAX_THREADS, chooseBrowserThreads, reportCoresForThreads } from './browserThreads';

/** Like the browser's Navigator: the core count is a getter on the prototype. */
class FakeNavigator {
  get hardwareConcurrency(): number {
    return 2;
  }
}

describe('chooseBrowserThreads', () => {
  it('defaults to every logical core, takes a request, and stays within 1..8', () => {
    expect(chooseBrowserThreads(undefined, new FakeNavigator())).toBe(2);
    expect(chooseBrowserThreads(undefined, { hardwareConcurrency: 16 })).toBe(BROWSER_MAX_THREADS);
    expect(chooseBrowserThreads(3, new FakeNavigator())).toBe(3);
    expect(chooseBrowserThreads(undefined, undefined)).toBe(1);
    expect(chooseBrowserThreads(undefined, {})).toBe(1);
  });
});

describe('reportCoresForThreads', () => {
  it('reports twice the threads while installed (tfjs starts half the cores), then restores', () => {
    const nav = new FakeNavigator();
    const restore = reportCoresForThreads(nav, 2);
    // tfjs's C++ reads emscripten_num_logical_cores() / 2: 4 / 2 lets 2 threads through.
    expect(nav.hardwareConcurrency).toBe(4);
    restore();
    expect(nav.hardwareConcurrency).toBe(2);
    expect(Object.hasOwn(nav, 'hardwareConcurrency')).toBe(false);
  });

  it('leaves a navigator alone that it cannot change', () => {
    const frozen = Object.freeze({ hardwareConcurrency: 2 });
    const restore = reportCoresForThreads(frozen, 4);
    expect(frozen.hardwareConcurrency).toBe(2);
    restore();
    expect(frozen.hardwareConcurrency).toBe(2);
  });
});

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { alsoLoggedTo, createReporter } from './reporter';

/** A stream that records what is written; `isTTY` makes it pass for a terminal. */
function sink(isTTY: boolean) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY, columns: 120 },
  );
  return { stream, text: () => text };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reporter', () => {
  it('not a terminal: plain lines, no bar, no escape codes', () => {
    const out = sink(false);
    const reporter = createReporter({ json: false, quiet: false, stream: out.stream });
    expect(reporter.steps).toBeUndefined();
    reporter.info('data: 24 examples');
    reporter.progress({ epoch: 1 }, 'epoch 1/2  loss 0.500');
    reporter.summary({ done: true }, 'done');
    expect(out.text()).toBe('data: 24 examples\nepoch 1/2  loss 0.500\ndone\n');
  });

  it('--json and --quiet: no bar even at a terminal', () => {
    for (const flags of [
      { json: true, quiet: false },
      { json: false, quiet: true },
    ]) {
      const out = sink(true);
      const reporter = createReporter({ ...flags, stream: out.stream });
      expect(reporter.steps).toBeUndefined();
      reporter.progress({ epoch: 1 }, 'epoch 1/2');
      reporter.summary({ done: true }, 'done');
      const lines = out.text().trim().split('\n');
      expect(lines.at(-1)).toBe(flags.json ? '{"type":"summary","done":true}' : 'done');
    }
  });

  it('at a terminal: a bar with steps, ETA, loss and the key metric, cleared before each line', async () => {
    const out = sink(true);
    const reporter = createReporter({ json: false, quiet: false, stream: out.stream });
    const bar = reporter.steps;
    expect(bar).toBeDefined();
    bar?.start('epoch 2/3', 4);
    for (let step = 1; step <= 3; step++) {
      // cli-progress redraws at most every 2 x its throttle time (100 ms) on updates.
      await sleep(220);
      bar?.update(step, { loss: 0.5 / step, metric: 'val loss 0.420  colour/mAP 0.810' });
    }
    const shown = out.text();
    expect(shown).toMatch(
      /epoch 2\/3 \[[^\]]+\] 3\/4 \| ETA \d+s \| loss 0\.167 \| val loss 0\.420 {2}colour\/mAP 0\.810/,
    );
    reporter.progress({ epoch: 2 }, 'epoch 2/3  loss 0.200');
    const after = out.text().slice(shown.length);
    // The bar's line is cleared, then the epoch line printed; the bar is gone for good.
    const clearLine = `${String.fromCharCode(27)}[`;
    expect(after.indexOf(clearLine)).toBeGreaterThanOrEqual(0);
    expect(after.indexOf(clearLine)).toBeLessThan(after.indexOf('epoch 2/3  loss 0.200'));
    expect(after.endsWith('epoch 2/3  loss 0.200\n')).toBe(true);
    bar?.update(4, { loss: 0.1 });
    await sleep(250);
    expect(out.text().slice(shown.length)).toBe(after);
  });

  it('alsoLoggedTo: the log gets every line the reporter prints, even those --quiet hides', () => {
    const out = sink(false);
    const logged: string[] = [];
    const reporter = alsoLoggedTo(
      (line) => logged.push(line),
      createReporter({ json: false, quiet: true, stream: out.stream }),
    );
    reporter.info('data: 24 examples');
    reporter.progress({ epoch: 1 }, 'epoch 1/2  loss 0.500');
    reporter.summary({ done: true }, 'done');
    expect(logged).toEqual(['data: 24 examples', 'epoch 1/2  loss 0.500', 'done']);
    expect(out.text()).toBe('done\n');
  });
});

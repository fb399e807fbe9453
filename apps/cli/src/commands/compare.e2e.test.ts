import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, GRAFT_BIN, runGraft, writeLabelledPngs } from '../testing/cliTestKit';

const graft = (args: string[], cwd: string) => runGraft(args, cwd, 120_000);

/**
 * 48 small PNGs (red / blue tint, a shape class, a size value) and a CSV with missing labels;
 * 30% of them are the validation split every run is scored on.
 */
function writeFixture(dir: string): void {
  writeLabelledPngs(dir, 48);
  writeFileSync(
    join(dir, 'graft.yaml'),
    `data: { adapter: manifest, path: labels.csv }
backbone: { source: shipped, inputSize: 32 }
split: { validation: 0.3, test: 0 }
tasks:
  colour: { kind: multiLabel, labels: [red, blue] }
  shape: { kind: classification, classes: [round, square], head: { hidden: [8] } }
  size: { kind: regression }
epochs: 2
batchSize: 8
output: run
`,
  );
}

interface Stat {
  mean: number | null;
  sd: number;
  n: number;
  values: (number | null)[];
}
interface Row {
  label: string;
  trunk: string;
  plan: string;
  tasks: string[];
  trainExamples: number;
  metrics: Record<string, Stat>;
  seconds: number;
  trainableParams: number;
  sameRunsAs?: string;
}

describe('graft compare (built CLI, subprocess)', () => {
  const fixture = fixtureDir('graft-compare-e2e-', writeFixture);

  it('runs the three studies, prints the tables and a verdict, and writes the run directory', async () => {
    const r = await graft(
      [
        'compare',
        'graft.yaml',
        '--fractions',
        '0.5,1',
        '--policies',
        'headsOnly,lastBlocks(2),ruleOfThumb',
      ],
      fixture.dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/data: 48 examples \(33 train \/ 15 validation/);
    for (const title of [
      'Transfer vs scratch',
      'Multi-task vs one network per task',
      'Freeze policies',
    ]) {
      expect(r.stdout).toContain(`\n${title}\nrun `);
    }
    expect(r.stdout).toMatch(/^scratch 50% +all +17 /m);
    expect(r.stdout).toMatch(/^lastBlocks\(2\) +lastBlocks\(2\) +33 /m);
    expect(r.stdout).toMatch(/\nverdict:\n {2}- /);

    const out = join(fixture.dir, 'run-compare');
    for (const f of ['compare.json', 'config.json', 'run.log', 'report.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const doc = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(doc.tasks).toEqual([
      { task: 'colour', kind: 'multiLabel', metric: 'AUC' },
      { task: 'shape', kind: 'classification', metric: 'accuracy' },
      { task: 'size', kind: 'regression', metric: 'R²' },
    ]);
    expect(doc.examples).toEqual({ train: 33, validation: 15 });
    const transfer: Row[] = doc.transfer.rows;
    expect(transfer.map((x) => `${x.label}:${x.trunk}:${x.trainExamples}`)).toEqual([
      'transfer 50%:pretrained:17',
      'scratch 50%:scratch:17',
      'transfer 100%:pretrained:33',
      'scratch 100%:scratch:33',
    ]);
    // The numbers come from the runs: a re-initialised trunk trains every weight and scores
    // differently from the pre-trained one, and the verdict's deltas are the rows' differences.
    expect(transfer[1]?.plan).toBe('all');
    expect(transfer[1]?.trainableParams).toBeGreaterThan((transfer[0] as Row).trainableParams);
    const mean = (row: Row | undefined, task: string) => row?.metrics[task]?.mean as number;
    expect(
      ['colour', 'shape', 'size'].some((t) => mean(transfer[2], t) !== mean(transfer[3], t)),
    ).toBe(true);
    for (const d of doc.transfer.differences) {
      const [pre, scratch] = transfer.filter(
        (x) => x.trainExamples === (d.fraction === 1 ? 33 : 17),
      );
      if (d.delta === null) continue;
      expect(d.delta).toBeCloseTo(mean(pre, d.task) - mean(scratch, d.task), 10);
    }
    const multi: Row[] = doc.multiTask.rows;
    expect(multi.map((x) => x.tasks.join('+'))).toEqual([
      'colour+shape+size',
      'colour',
      'shape',
      'size',
    ]);
    expect(multi[0]?.sameRunsAs).toBe('transfer 100%');
    expect(doc.multiTask.differences).toHaveLength(3);
    const policies: Row[] = doc.policies.rows;
    expect(policies.map((x) => x.plan)).toEqual([
      'headsOnly',
      'lastBlocks(2)',
      expect.stringMatching(/^ruleOfThumb -> /),
    ]);
    // lastBlocks(2) trains two trunk blocks more than headsOnly.
    expect(policies[1]?.trainableParams).toBeGreaterThan((policies[0] as Row).trainableParams);
    expect(doc.policies.best).toHaveLength(3);
    expect(doc.verdict).toEqual([
      ...doc.transfer.verdict,
      ...doc.multiTask.verdict,
      ...doc.policies.verdict,
      expect.stringMatching(
        /^one seed per configuration: .*size \(R²\) differences are judged against --min-delta 0\.01 alone/,
      ),
    ]);
    for (const line of doc.verdict) expect(r.stdout).toContain(`  - ${line}`);
    // Identical runs were trained once: 4 transfer + 3 single-task + lastBlocks(2) at most.
    expect(doc.runsTrained).toBeLessThanOrEqual(8);
    const log = readFileSync(join(out, 'run.log'), 'utf8');
    expect(log.match(/\d+(\.\d+)? s\n/g)?.length).toBe(doc.runsTrained);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<svg[\s>]/g)?.length).toBe(3);
    expect(html).not.toMatch(/<script/i);
    expect((html.match(/(?:src|href)=["'][^"']+/g) ?? []).filter((u) => !u.includes('#'))).toEqual(
      [],
    );
    expect(html).toContain('Does transfer help here?');
  });

  it('--json prints one JSON document, the content of compare.json; --seeds gives a spread', async () => {
    const r = await graft(
      [
        'compare',
        'graft.yaml',
        '--studies',
        'policies',
        '--policies',
        'headsOnly,all',
        '--seeds',
        '2',
        '--epochs',
        '1',
        '--output',
        'json-run',
        '--json',
      ],
      fixture.dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const { type, runDir, ...doc } = JSON.parse(lines[0] as string);
    expect(type).toBe('summary');
    expect(runDir).toBe('json-run');
    expect(doc).toEqual(
      JSON.parse(readFileSync(join(fixture.dir, 'json-run', 'compare.json'), 'utf8')),
    );
    expect(doc.seeds).toEqual([1, 2]);
    expect(doc.epochs).toBe(1);
    expect(doc.transfer.skipped).toMatch(/not asked for/);
    expect(doc.transfer.rows).toEqual([]);
    const all: Row = doc.policies.rows[1];
    expect(all.label).toBe('all');
    // Two seeds, two runs: head init and batch order differ, so the numbers do too.
    expect(all.metrics.size?.values).toHaveLength(2);
    expect(all.metrics.size?.values[0]).not.toBe(all.metrics.size?.values[1]);
    expect(all.metrics.size?.sd).toBeGreaterThan(0);
    expect(doc.runsTrained).toBe(4);
  });

  it('bad input: one clear line, non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['compare', 'graft.yaml', '--fractions', '0,1', '--output', 'never'],
        /^graft: Training fraction 0 is not in \(0, 1\] \(--fractions\)/,
      ],
      [
        ['compare', 'graft.yaml', '--policies', 'headsOnly,frozen', '--output', 'never'],
        /^graft: Unknown freeze policy "frozen" \(--policies\)/,
      ],
      [
        ['compare', 'graft.yaml', '--studies', 'transfer'],
        /^graft: The run directory already exists \(run-compare\)/,
      ],
      [
        ['compare', 'graft.yaml', '--set', 'split.validation=0', '--output', 'never'],
        /^graft: compare scores every run on the validation split, which is empty/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await graft(args, fixture.dir);
      expect(r.code, args.join(' ')).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toMatch(message);
    }
    expect(existsSync(join(fixture.dir, 'never'))).toBe(false);

    // A comparison that fails part-way removes its folder and says where its log went.
    const failed = await graft(
      [
        'compare',
        'graft.yaml',
        '--set',
        'optimizer.learningRate=1e38',
        '--epochs',
        '3',
        '--studies',
        'policies',
        '--policies',
        'all',
        '--output',
        'failed',
        '--quiet',
      ],
      fixture.dir,
    );
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(
      /^graft: the failed comparison's folder was removed; its log is in (.*run\.log)\n/,
    );
    expect(failed.stderr).toMatch(/\ngraft: Loss became NaN/);
    expect(existsSync(join(fixture.dir, 'failed'))).toBe(false);
    const kept = failed.stderr.match(/its log is in (.*run\.log)/)?.[1] as string;
    expect(readFileSync(kept, 'utf8')).toMatch(/failed: Loss became NaN/);
    rmSync(dirname(kept), { recursive: true, force: true });
  });

  it('Ctrl-C stops a comparison at once, exit 130, leaving no folder, only its log', async () => {
    const child = spawn(
      'node',
      [GRAFT_BIN, 'compare', 'graft.yaml', '--epochs', '50', '--output', 'stopped', '--quiet'],
      { cwd: fixture.dir },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    // Wait until the comparison is under way (its folder holds the config), then interrupt.
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(fixture.dir, 'stopped', 'config.json')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(existsSync(join(fixture.dir, 'stopped', 'config.json'))).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(
      /^graft: comparison stopped by SIGINT; its folder was removed, its log is in (.*run\.log)\n$/,
    );
    expect(existsSync(join(fixture.dir, 'stopped'))).toBe(false);
    const kept = stderr.match(/its log is in (.*run\.log)/)?.[1] as string;
    expect(readFileSync(kept, 'utf8')).toMatch(/stopped by SIGINT/);
    rmSync(dirname(kept), { recursive: true, force: true });
  });
});

import { describe, expect, it } from 'vitest';
import { renderCompareReport } from './renderCompareReport';
import { sampleCompareReport } from './sampleCompareReport';

describe('renderCompareReport', () => {
  it('renders a self-contained page: one inline SVG chart per study, tables, verdicts, no scripts or external resources', async () => {
    const html = await renderCompareReport(sampleCompareReport());
    expect(html.match(/<svg[\s>]/g)?.length).toBe(3);
    expect(html).not.toMatch(/<script/i);
    const urls = (html.match(/(?:src|href)=["'][^"']+/g) ?? []).filter((u) => !u.includes('#'));
    expect(urls).toEqual([]);
    expect(html).toContain('<h2>Does transfer help here?</h2>');
    expect(html).toContain('<li>best over all tasks (mean rank 1.3): lastBlocks:2</li>');
    // Two seeds: mean ± sd; an undefined metric is n/a in the table.
    expect(html).toContain('<td>0.805 ± 0.007</td>');
    expect(html).toContain('<td>n/a</td>');
    expect(html).toContain('<td>ruleOfThumb (= lastBlocks:2)</td>');
  });

  it('says why a study did not run, and escapes names from user data', async () => {
    const report = sampleCompareReport();
    report.multiTask = {
      skipped: 'the config has one task',
      rows: [],
      differences: [],
      verdict: [],
    };
    report.title = '<img src=x onerror=alert(1)>';
    const html = await renderCompareReport(report);
    expect(html.match(/<svg[\s>]/g)?.length).toBe(2);
    expect(html).toContain('Not run: the config has one task');
    expect(html).not.toContain('<img');
  });

  it('draws one mark per defined metric: undefined ones are left out, not drawn as 0', async () => {
    const { transferSpec } = await import('./compareCharts');
    const report = sampleCompareReport();
    const spec = transferSpec(report.tasks, report.transfer.rows) as {
      data: { values: unknown[] };
    };
    // 6 rows x 3 tasks, minus scratch's 3 undefined carCount values.
    expect(spec.data.values).toHaveLength(15);
  });
});

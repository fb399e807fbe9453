import { describe, expect, it } from 'vitest';
import { renderReport } from './renderReport';
import { sampleReport } from './sampleReport';

describe('renderReport', () => {
  it('renders a self-contained page: inline SVG charts, no scripts, no external resources', async () => {
    const html = await renderReport(sampleReport());
    // 3 learning curves + per-label bars + confusion matrix.
    expect(html.match(/<svg[\s>]/g)?.length).toBe(5);
    expect(html).not.toMatch(/<script/i);
    const urls = (html.match(/(?:src|href)=["'][^"']+/g) ?? []).filter((u) => !u.includes('#'));
    expect(urls).toEqual([]);
    expect(html).toContain('<h2>Task: lightColour <small>(classification)</small></h2>');
    expect(html).toContain('<td>carCount</td>'.replace('carCount', '0.4100'));
    expect(html).toContain('ruleOfThumb -&gt; lastBlocks(2)');
  });

  it('escapes names that come from user data', async () => {
    const report = sampleReport();
    report.title = '<img src=x onerror=alert(1)>';
    const html = await renderReport(report);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

// report.html in headless Chromium (issue 7): renders the sample train report and the sample
// `graft compare` report with the built CLI's renderers, opens each as a file, and checks that
// it loads without console errors or network requests and that every chart rendered with a
// real size; saves a screenshot of each beside this file.
// usage: node apps/cli/browser-check/report.mjs   (needs: npm run build, apt-get install -y chromium)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import {
  renderCompareReport,
  renderReport,
  sampleCompareReport,
  sampleReport,
} from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'graft-report-'));
const pages = [
  {
    name: 'report.html',
    html: await renderReport(sampleReport()),
    charts: 5,
    shot: 'report-screenshot.png',
  },
  {
    name: 'compare report.html',
    html: await renderCompareReport(sampleCompareReport()),
    charts: 3,
    shot: 'compare-report-screenshot.png',
  },
];

const context = await chromium.launchPersistentContext(join(work, 'profile'), {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let ok = true;
try {
  for (const [i, { name, html, charts: expected, shot }] of pages.entries()) {
    const file = join(work, `report-${i}.html`);
    writeFileSync(file, html);
    const page = await context.newPage();
    const requests = [];
    const errors = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file://')) requests.push(r.url());
    });
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`file://${file}`);
    const charts = await page.$$eval('figure svg', (svgs) =>
      svgs.map((s) => {
        const r = s.getBoundingClientRect();
        return {
          width: r.width,
          height: r.height,
          marks: s.querySelectorAll('path, rect, line').length,
        };
      }),
    );
    const screenshot = join(here, shot);
    await page.screenshot({ path: screenshot, fullPage: true });
    const checks = {
      charts_rendered:
        charts.length === expected &&
        charts.every((c) => c.width > 100 && c.height > 50 && c.marks > 5),
      no_requests: requests.length === 0,
      no_errors: errors.length === 0,
    };
    const pageOk = Object.values(checks).every(Boolean);
    ok &&= pageOk;
    console.log(
      JSON.stringify({ check: name, ok: pageOk, checks, charts, requests, errors, screenshot }),
    );
    await page.close();
  }
} finally {
  await context.close();
  rmSync(work, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

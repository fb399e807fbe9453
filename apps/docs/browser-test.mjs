// Browser test of the docs site: serves the BUILT site (run `npm run docs:build` first;
// `npm run test:docs-browser` does both) cross-origin isolated, opens the demo page in Debian's
// Chromium (headless, via playwright-core), starts training and checks that the loss decreased
// over at least 20 steps, that the backend is WASM, that the page reports the threaded build
// on every core when isolated (one thread otherwise), and that the page asked nothing of any
// other origin. Saves apps/docs/demo-screenshot.png. Pass --no-isolation to test the
// single-threaded path, --threads N to ask the page for N threads.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serveSite } from './scripts/serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const chromePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromePath)) {
  console.error(`docs browser test: no Chromium at ${chromePath} (apt-get install -y chromium)`);
  process.exit(1);
}
const isolated = !process.argv.includes('--no-isolation');
// --threads N opens demo.html?threads=N (graft's default otherwise: every logical core).
const threadsArg = process.argv.indexOf('--threads');
const askedThreads = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : undefined;
const { server, origin } = await serveSite({ isolated });
const profile = mkdtempSync(join(tmpdir(), 'graft-docs-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromePath,
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
let ok = false;
try {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 1400 });
  const foreign = [];
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  const wasmFiles = [];
  const notFound = [];
  context.on('response', (r) => {
    if (r.url().endsWith('.wasm')) wasmFiles.push(r.url().split('/').pop());
    if (r.status() >= 400) notFound.push(`${r.status()} ${r.url()}`);
  });
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.text()} (${m.location()?.url ?? ''})`);
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  await page.goto(`${origin}/demo.html${askedThreads ? `?threads=${askedThreads}` : ''}`);
  await page.waitForFunction(() => window.__graftDemo?.backend || window.__graftDemo?.error, null, {
    timeout: 60_000,
  });
  const started = performance.now();
  await page.click('[data-testid=train]');
  await page.waitForFunction(
    () => window.__graftDemo?.losses.length >= 20 || window.__graftDemo?.error,
    null,
    { timeout: 300_000 },
  );
  // Let it finish (validation metrics, predictions on new scenes) for the screenshot.
  await page.waitForFunction(() => window.__graftDemo?.done || window.__graftDemo?.error, null, {
    timeout: 600_000,
  });
  await page.waitForTimeout(500);
  const seconds = (performance.now() - started) / 1000;
  const state = await page.evaluate(() => window.__graftDemo);
  const backendText = await page.textContent('[data-testid=backend]');
  await page.screenshot({ path: join(here, 'demo-screenshot.png'), fullPage: true });

  const l = state.losses;
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  const checks = {
    no_error: !state.error,
    backend_wasm: state.backend?.name === 'wasm' && /wasm/.test(backendText ?? ''),
    // Isolated: tfjs's threaded SIMD build on every logical core (graft's default, at most
    // 8); otherwise the single-threaded build. The page says which, and how many threads.
    build_reported: isolated
      ? state.backend?.threadedBuild === true && /threaded SIMD build/.test(backendText)
      : state.backend?.threadedBuild === false && /single-threaded/.test(backendText),
    threads_match_isolation: isolated
      ? state.backend?.threads === (askedThreads ?? Math.min(8, state.backend?.cores ?? 0)) &&
        new RegExp(`${state.backend?.threads} threads?\\b`).test(backendText)
      : state.backend?.threads === 1,
    at_least_20_steps: l.length >= 20,
    loss_decreased: l.length >= 20 && mean(l.slice(-5)) < mean(l.slice(0, 5)) && l.at(-1) < l[0],
    metrics_shown: state.epochs >= 1,
    same_origin_only: foreign.length === 0,
    no_console_errors: consoleErrors.length === 0,
  };
  ok = Object.values(checks).every(Boolean);
  console.log(
    JSON.stringify({
      check: 'docs-demo',
      isolated,
      askedThreads,
      ok,
      checks,
      backend: state.backend,
      backendText: backendText?.trim(),
      steps: l.length,
      lossFirst: l[0],
      lossLast: l.at(-1),
      seconds: +seconds.toFixed(1),
      wasmFiles,
      foreign,
      notFound,
      consoleErrors,
      screenshot: 'apps/docs/demo-screenshot.png',
    }),
  );
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);

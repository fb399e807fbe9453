// Browser check for @graft/core: bundles browser-check/page.ts with esbuild the way an app
// would, serves it on 127.0.0.1 with tfjs-backend-wasm's .wasm files, opens it in Debian's
// Chromium (headless, via playwright-core) and checks that graft trains on WASM there, that
// the loss goes down and that the page asked nothing of any other origin.
// usage: node packages/core/browser-check/run.mjs   (needs: apt-get install -y chromium)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const wasmDir = join(
  dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
  'dist',
);
const chromePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromePath)) {
  console.error(`browser check: no Chromium at ${chromePath} (apt-get install -y chromium)`);
  process.exit(1);
}

const bundle = await build({
  entryPoints: [join(here, 'page.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  // Node-only branches of @graft/core import these lazily; they never run in a browser.
  external: ['node:*'],
  logLevel: 'error',
});
const js = bundle.outputFiles[0].text;
const html =
  '<!doctype html><meta charset="utf-8"><title>graft</title><script type="module" src="page.js"></script>';

// Pages under /isolated/ are served cross-origin isolated (COOP/COEP), which is what lets
// tfjs pick its threaded SIMD build in a browser.
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname.startsWith('/isolated/')) {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    url.pathname = url.pathname.slice('/isolated'.length);
  }
  if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
  if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  if (url.pathname === '/page.js')
    return res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
  const wasm = url.pathname.match(/^\/wasm\/([\w.-]+\.wasm)$/);
  if (wasm && existsSync(join(wasmDir, wasm[1]))) {
    return res
      .writeHead(200, { 'content-type': 'application/wasm' })
      .end(readFileSync(join(wasmDir, wasm[1])));
  }
  res.writeHead(404).end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const profile = mkdtempSync(join(tmpdir(), 'graft-chromium-'));
// A fresh profile per run; playwright passes it to Chromium as --user-data-dir.
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
let failed = false;
try {
  for (const isolated of [false, true]) {
    const page = await context.newPage();
    const foreign = [];
    page.on('request', (r) => {
      if (
        !r.url().startsWith(origin) &&
        !r.url().startsWith('data:') &&
        !r.url().startsWith('blob:')
      ) {
        foreign.push(r.url());
      }
    });
    const consoleErrors = [];
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await page.goto(isolated ? `${origin}/isolated/` : origin);
    await page.waitForFunction(() => window.__graftResult !== undefined, null, {
      timeout: 120_000,
    });
    const result = await page.evaluate(() => window.__graftResult);
    const checks = {
      no_error: !result.error,
      backend_wasm: result.info?.name === 'wasm' && result.backend === 'wasm',
      simd: result.info?.simd === true,
      // Isolated pages get tfjs's threaded build (multithreadFlag); how many threads its
      // pool really runs is reported, not asserted: see the performance issue.
      threads: isolated
        ? result.crossOriginIsolated && result.multithreadFlag && result.info?.threads >= 1
        : result.info?.threads === 1,
      loss_decreased: Array.isArray(result.losses) && result.losses.at(-1) < result.losses[0],
      same_origin_only: foreign.length === 0,
      no_console_errors: consoleErrors.length === 0,
    };
    const ok = Object.values(checks).every(Boolean);
    failed ||= !ok;
    console.log(
      JSON.stringify({ check: 'browser', isolated, ok, checks, result, foreign, consoleErrors }),
    );
    await page.close();
  }
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

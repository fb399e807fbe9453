// Browser check for @graft/datasets: bundles page.ts with esbuild the way an app would (no
// Node built-ins, no pngjs), serves it with a generated manifest, PNG and JPEG on 127.0.0.1,
// opens it in Debian's Chromium (headless, via playwright-core) and checks that
// - drivingScenes and shapes give the same bytes as in Node (same seed),
// - the manifest adapter fetches and decodes PNG (exactly) and JPEG (within a few levels)
//   with the platform's decoder, and batches become tensors of the documented shapes.
// usage: node packages/datasets/browser-check/run.mjs   (needs: apt-get install -y chromium)
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import jpeg from 'jpeg-js';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';

const here = dirname(fileURLToPath(import.meta.url));
const chromePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromePath)) {
  console.error(`browser check: no Chromium at ${chromePath} (apt-get install -y chromium)`);
  process.exit(1);
}

function rgba(w, h, pixel) {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data.set([...pixel(x, y), 255], (y * w + x) * 4);
  }
  return data;
}
const gradient = (x, y) => [x * 20, y * 30, 200 - x * 10];
const png = new PNG({ width: 6, height: 4 });
rgba(6, 4, gradient).copy(png.data);
const files = {
  '/data/labels.csv': Buffer.from('image,flag\nimg/a.png,1\nimg/b.jpg,?\n'),
  '/data/img/a.png': PNG.sync.write(png),
  '/data/img/b.jpg': Buffer.from(
    jpeg.encode({ data: rgba(8, 8, gradient), width: 8, height: 8 }, 95).data,
  ),
};

const bundle = await build({
  entryPoints: [join(here, 'page.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  external: ['node:*'], // Node-only branches import these lazily; they never run here
  logLevel: 'error',
});
const html =
  '<!doctype html><meta charset="utf-8"><title>graft datasets</title><script type="module" src="page.js"></script>';
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/favicon.ico') return res.writeHead(204).end();
  if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  if (path === '/page.js') {
    return res
      .writeHead(200, { 'content-type': 'text/javascript' })
      .end(bundle.outputFiles[0].text);
  }
  if (files[path]) return res.writeHead(200).end(files[path]);
  res.writeHead(404).end();
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;

// The same fingerprints computed in Node, from the same source files.
const node = await build({
  entryPoints: [join(here, 'fingerprintNode.ts')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  packages: 'external',
  logLevel: 'error',
});
// Written beside this file so that its bare imports resolve from the workspace's node_modules.
const nodeModule = join(here, `.fingerprint-${process.pid}.mjs`);
writeFileSync(nodeModule, node.outputFiles[0].text);
let expected;
try {
  expected = await (await import(pathToFileURL(nodeModule).href)).fingerprints();
} finally {
  rmSync(nodeModule);
}

const browser = await chromium.launch({ executablePath: chromePath, args: ['--no-sandbox'] });
const failures = [];
let result;
try {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
  await page.goto(base);
  await page
    .waitForSelector('#result, #error', { state: 'attached', timeout: 60_000 })
    .catch((e) => {
      throw new Error(`page gave no result: ${pageErrors.join('; ') || e.message}`);
    });
  const error = await page.$('#error');
  if (error) throw new Error(`page failed: ${await error.textContent()}`);
  result = JSON.parse(await page.textContent('#result'));
} finally {
  await browser.close();
  server.close();
}

const check = (ok, what) => {
  if (!ok) failures.push(what);
};
check(
  result.scenes === expected.scenes,
  `drivingScenes bytes differ: browser ${result.scenes}, node ${expected.scenes}`,
);
check(
  result.shapes === expected.shapes,
  `shapes bytes differ: browser ${result.shapes}, node ${expected.shapes}`,
);
check(
  JSON.stringify(result.labels) === JSON.stringify(expected.labels),
  'drivingScenes labels differ',
);
const [a, b] = result.decoded;
check(
  a?.id === 'img/a.png' && JSON.stringify(a.shape) === '[4,6,3]',
  `png shape ${JSON.stringify(a?.shape)}`,
);
const pngOk = a?.data.every((v, i) => {
  const p = Math.floor(i / 3);
  return Math.abs(v * 255 - gradient(p % 6, Math.floor(p / 6))[i % 3]) < 1e-3;
});
check(pngOk, 'PNG pixels differ from what was written');
check(
  b?.id === 'img/b.jpg' && JSON.stringify(b.shape) === '[8,8,3]',
  `jpeg shape ${JSON.stringify(b?.shape)}`,
);
const jpegError = Math.max(
  ...(b?.data ?? [1]).map((v, i) => {
    const p = Math.floor(i / 3);
    return Math.abs(v * 255 - gradient(p % 8, Math.floor(p / 8))[i % 3]);
  }),
);
check(jpegError < 12, `JPEG pixels off by ${jpegError} levels`);
check(
  JSON.stringify(result.batchShapes[0]) === '[[4,64,64,3],[4,4],[4]]',
  `batch shapes ${JSON.stringify(result.batchShapes[0])}`,
);
check(result.tensorsLeft === 0, `${result.tensorsLeft} tensors left`);

console.log(
  JSON.stringify({
    browserCheck: 'datasets',
    ok: failures.length === 0,
    failures,
    fingerprints: { scenes: result.scenes, shapes: result.shapes },
    jpegMaxErrorLevels: jpegError,
  }),
);
process.exit(failures.length === 0 ? 0 : 1);

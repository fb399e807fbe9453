// Serves the built site (apps/docs/.vitepress/dist) on 127.0.0.1 with the COOP/COEP headers
// that make the page cross-origin isolated (tfjs's threaded SIMD build), or without them.
// usage: node apps/docs/scripts/serve.mjs [--port 4173] [--no-isolation]   (the preview server)
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const siteDir = resolve(dirname(fileURLToPath(import.meta.url)), '../.vitepress/dist');

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain',
};

export async function serveSite({ port = 0, isolated = true } = {}) {
  if (!existsSync(join(siteDir, 'index.html'))) {
    throw new Error(`no built site at ${siteDir}: run npm run docs:build first`);
  }
  const server = createServer((req, res) => {
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    let file = join(siteDir, normalize(path));
    if (!file.startsWith(siteDir)) return res.writeHead(403).end();
    if (!existsSync(file) && existsSync(`${file}.html`)) file = `${file}.html`;
    if (!existsSync(file) || !statSync(file).isFile()) {
      const notFound = join(siteDir, '404.html');
      return res
        .writeHead(404, { 'content-type': types['.html'] })
        .end(existsSync(notFound) ? readFileSync(notFound) : 'not found');
    }
    res
      .writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
      .end(readFileSync(file));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--port');
  const { origin } = await serveSite({
    port: i > 0 ? Number(process.argv[i + 1]) : 4173,
    isolated: !process.argv.includes('--no-isolation'),
  });
  console.log(`graft docs: ${origin}/`);
}

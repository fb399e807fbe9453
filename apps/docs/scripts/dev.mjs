// `npm run docs:dev`: generated inputs, then VitePress's dev server (cross-origin isolated:
// the config sets COOP/COEP on Vite's server).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vitepress';
import { copyWasm, generateApi } from './prepare.mjs';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..');
copyWasm();
if (!process.argv.includes('--no-api')) await generateApi();
const server = await createServer(docs, { host: '127.0.0.1' });
await server.listen();
server.printUrls();

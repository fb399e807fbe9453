// `npm run docs:build`: generated inputs (wasm binaries, API pages), then the static site in
// apps/docs/.vitepress/dist. VitePress fails the build on a dead internal link.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vitepress';
import { copyWasm, generateApi } from './prepare.mjs';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..');
copyWasm();
await generateApi();
await build(docs);

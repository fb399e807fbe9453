import { defineConfig } from 'tsup';

// ESM only: the report's charts come from vega, an ES module with top-level await, which no
// CommonJS build can require; a CJS build of the CLI would be a file that cannot load.
export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});

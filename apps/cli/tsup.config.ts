import { defineConfig } from 'tsup';

// ESM only: the report's charts come from vega, an ES module with top-level await, which no
// CommonJS build can require; a CJS build of the CLI would be a file that cannot load.
export default defineConfig({
  // trainReplicaJob: the job module `graft train --replicas` hands fitDataParallel's worker
  // threads; it is found next to bin.js (new URL('./trainReplicaJob.js', import.meta.url)).
  entry: {
    index: 'src/index.ts',
    bin: 'src/bin.ts',
    trainReplicaJob: 'src/parallel/trainReplicaJob.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});

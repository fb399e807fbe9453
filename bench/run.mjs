// `npm run bench`: every benchmark, each beside its peer in the same run, one JSON document.
// Writes bench/results/latest.json (latest-quick.json with --quick) and prints it. Each part
// runs in its own process so that a crash, a slow peer or one part's memory cannot skew
// another's timings, and so that every part gets its own peak RSS (from /usr/bin/time when
// present, else the child's own report). Ratios are computed here, from this run only.
//
// Parts:
//   kernels       graft's WASM training kernels vs tfjs cpu and stock WASM (bench/kernels.mjs)
//   datasets      generators, and the heads-only step on cached features vs recomputing the
//                 frozen trunk (bench/datasets.mjs)
//   train_step    the reference step (MobileNetV2 0.35, 96x96, batch 16) with a 500-step
//                 leak check, and the same step with tf.train.adam (bench/trainStep.mjs)
//   profile       where that step's time goes (bench/profile.mjs -> bench/results/profile.json)
//   train_matrix  full fine-tune step, widths 0.35/1.0 x 96/224 px x batch 16/32: graft,
//                 PyTorch 1 thread, tfjs-layers where it can finish
//   inference     images/s at batch 1 and 32: graft WASM vs tfjs-layers WASM and cpu
//   demo          `graft demo --json` end to end
//   scaling       two graft processes side by side, PyTorch 1 and 2 threads; bench/threads.mjs
// Without --quick it then regenerates the tables of apps/docs/guides/guide/performance.md.
// usage: node bench/run.mjs [--quick] [--only kernels,datasets,train_step,profile,matrix,
//                                                  inference,demo,scaling] [--merge]
// (npm run bench builds first)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const quick = process.argv.includes('--quick');
// --only kernels,matrix,...: run only those parts (into bench/results/latest-only.json).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set(process.argv[onlyAt + 1].split(',')) : undefined;
const want = (part) => !only || only.has(part);
// --only ... --merge: replace those parts in bench/results/latest.json, keep the others, and
// record in env.parts_rerun when and at which commit they were measured again.
const merge = only !== undefined && process.argv.includes('--merge');
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const python = '/usr/bin/python3';
const nodePath = { NODE_PATH: join(root, 'node_modules') };
const scratch = mkdtempSync(join(os.tmpdir(), 'graft-bench-'));
const started = performance.now();

/**
 * Runs one child and returns the last JSON line it printed, plus its wall time and peak RSS.
 * A child that fails returns `{ error }` with the end of its output, so the document always
 * says what happened to every part.
 */
function runJson(label, cmd, args, { env = {}, lastLine = true } = {}) {
  const rssFile = join(scratch, 'rss.txt');
  rmSync(rssFile, { force: true });
  const [bin, argv] = timeBin ? [timeBin, ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(bin, argv, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  const wallS = +((performance.now() - t0) / 1000).toFixed(1);
  let peakRssMb;
  if (timeBin && existsSync(rssFile)) {
    const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
    if (Number.isFinite(kb)) peakRssMb = Math.round(kb / 1024);
  }
  process.stderr.write(`[bench] ${label}: ${wallS}s${peakRssMb ? `, ${peakRssMb} MB` : ''}\n`);
  const lines = (r.stdout ?? '').trim().split('\n').filter(Boolean);
  let parsed;
  try {
    parsed = lastLine ? JSON.parse(lines.at(-1)) : lines.map((l) => JSON.parse(l));
  } catch {
    const tail = (r.stderr || r.stdout || '').trim();
    const aborted = /Aborted\(\)/.test(tail);
    // An uncaught error's own line ("GraftError: ... (where). hint") says the most; the
    // stack and the error's printed properties follow it.
    const thrown = tail.split('\n').find((l) => /^\w*Error: /.test(l));
    parsed = {
      error: aborted
        ? `aborted inside WASM (Emscripten abort()) with a peak RSS of ${peakRssMb ?? '?'} MB; a 32-bit WASM heap holds at most 4 GiB`
        : (thrown ??
          tail
            .split('\n')
            .filter((l) => !/^\s+at /.test(l))
            .slice(-6)
            .join('\n')
            .slice(-600)),
      exit: r.status,
      signal: r.signal,
    };
  }
  const peak = peakRssMb ?? parsed?.max_rss_mb;
  return lastLine
    ? { ...parsed, wall_s: wallS, peak_rss_mb: peak }
    : { lines: parsed, wall_s: wallS, peak_rss_mb: peak };
}

function gitState() {
  const git = (...a) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout?.trim();
  const dirty = (git('status', '--porcelain', '--', 'packages', 'bench') ?? '')
    .split('\n')
    .filter(Boolean);
  return { commit: git('rev-parse', 'HEAD'), uncommitted_in_packages_and_bench: dirty };
}

const ratio = (a, b, d = 2) =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? +(a / b).toFixed(d) : undefined;

const hasTorch =
  existsSync(python) &&
  spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
const noTorch = {
  peer: 'pytorch',
  skipped: 'python3-torch not installed (apt-get install python3-torch python3-torchvision)',
};

const freshEnv = {
  node: process.version,
  cpus: os.cpus().length,
  cpu_model: os.cpus()[0]?.model,
  memory_gb: Math.round(os.totalmem() / 2 ** 30),
  loadavg_before: os.loadavg().map((v) => +v.toFixed(2)),
  date: new Date().toISOString(),
  quick,
  peak_rss_from: timeBin ? '/usr/bin/time %M' : 'process.resourceUsage().maxRSS in the child',
  ...gitState(),
};
const latestPath = join(here, 'results', 'latest.json');
const results = merge ? JSON.parse(readFileSync(latestPath, 'utf8')) : { env: freshEnv };
if (merge) {
  results.env.parts_rerun = [
    ...(results.env.parts_rerun ?? []),
    {
      parts: [...only],
      date: freshEnv.date,
      commit: freshEnv.commit,
      uncommitted_in_packages_and_bench: freshEnv.uncommitted_in_packages_and_bench,
      loadavg_before: freshEnv.loadavg_before,
    },
  ];
}

// ---- kernels, datasets -----------------------------------------------------------------
if (want('kernels')) {
  results.kernels = runJson('kernels', 'node', [
    join(here, 'kernels.mjs'),
    ...(quick ? ['--quick'] : []),
  ]);
}
if (want('datasets')) {
  results.datasets = runJson('datasets (generators, feature cache)', 'node', [
    join(here, 'datasets.mjs'),
    ...(quick ? ['--quick'] : []),
  ]);
}

// ---- the reference training step ---------------------------------------------------------
if (want('train_step')) {
  results.train_step = runJson('train step 0.35/96/16 (graft, wasm)', 'node', [
    join(here, 'trainStep.mjs'),
    ...(quick ? ['--quick'] : ['--leak-steps', '500']),
  ]);
  // The same step with tfjs's own Adam (13 kernels per variable), to show what the fused one buys.
  results.train_step_tfjs_adam = runJson('train step (graft kernels, tf.train.adam)', 'node', [
    join(here, 'trainStep.mjs'),
    '--optimizer',
    'tfjs',
    ...(quick ? ['--quick'] : []),
  ]);
}
const profileOut = join(here, 'results', quick ? 'profile-quick.json' : 'profile.json');
if (want('profile')) {
  results.profile = runJson('profile 0.35/96/16', 'node', [
    join(here, 'profile.mjs'),
    '--steps',
    quick ? '2' : '6',
    '--out',
    profileOut,
  ]);
}

// ---- the training-step matrix ------------------------------------------------------------
// Per configuration graft then PyTorch back to back, so that load from other work falls on
// both alike. tfjs-layers on cpu is 150-300x slower than graft: it runs one step (after a
// warm-up step) at the smallest configuration only; tfjs-layers on WASM cannot train a
// convnet at all (no Conv2DBackpropFilter kernel), shown once.
const configs = [];
for (const alpha of [0.35, 1]) {
  for (const size of [96, 224]) {
    for (const batch of [16, 32]) configs.push({ alpha, size, batch });
  }
}
const quickConfigs = new Set(['0.35/96/16', '0.35/224/16', '1/96/16']);
const key = (c) => `${c.alpha}/${c.size}/${c.batch}`;
const isSmallest = (c) => c.alpha === 0.35 && c.size === 96 && c.batch === 16;
const matrix = [];
const matrixConfigs = quick ? configs.filter((x) => quickConfigs.has(key(x))) : configs;
for (const c of want('matrix') ? matrixConfigs : []) {
  const big = c.alpha === 1 && c.size === 224;
  const steps = String(quick ? 2 : big ? 3 : 5);
  const shape = [String(c.alpha), String(c.size), String(c.batch)];
  const row = { config: key(c), ...c };
  row.graft = runJson(`matrix ${key(c)} graft`, 'node', [
    join(here, 'trainStep.mjs'),
    '--alpha',
    shape[0],
    '--size',
    shape[1],
    '--batch',
    shape[2],
    '--steps',
    steps,
    '--profile',
    '0',
  ]);
  row.pytorch_1_thread = hasTorch
    ? runJson(`matrix ${key(c)} pytorch 1 thread`, python, [
        join(here, 'peers/mnv2_torch.py'),
        '1',
        ...shape,
        steps,
      ])
    : noTorch;
  if (isSmallest(c) && !quick) {
    row.tfjs_layers_cpu = runJson(
      `matrix ${key(c)} tfjs-layers cpu`,
      'node',
      [join(here, 'peers/mnv2_tfjs_layers.cjs'), 'cpu', ...shape, '1'],
      { env: nodePath },
    );
    row.tfjs_layers_wasm = runJson(
      `matrix ${key(c)} tfjs-layers wasm`,
      'node',
      [join(here, 'peers/mnv2_tfjs_layers.cjs'), 'wasm', ...shape, '1'],
      { env: nodePath },
    );
  } else {
    row.tfjs_layers_cpu = {
      skipped: quick
        ? 'not run with --quick (about 35 s per step at 0.35/96/16)'
        : 'not run: tfjs-layers on cpu is 150-300x slower than graft (see its run at width 0.35, 96x96, batch 16), minutes to tens of minutes per step at the larger configurations',
    };
    row.tfjs_layers_wasm = {
      skipped:
        "not run: tfjs-layers cannot train a convnet on WASM (Kernel 'Conv2DBackpropFilter' not registered; see 0.35/96/16)",
    };
  }
  // By wall time, and by CPU time (images per CPU second): every runtime here runs on one
  // thread, so on a machine busy with other work the CPU-time ratio is the steadier one.
  row.ratios = {};
  for (const peer of ['pytorch_1_thread', 'tfjs_layers_cpu']) {
    const digits = peer === 'tfjs_layers_cpu' ? 1 : 2;
    // From the step times (same batch): images/s is rounded, and a slow peer's to 0.1.
    const wall = ratio(row[peer]?.step_s, row.graft?.step_s, digits);
    const cpu = ratio(row[peer]?.cpu_s_per_step, row.graft?.cpu_s_per_step, digits);
    if (wall !== undefined) row.ratios[`graft_vs_${peer}`] = wall;
    if (cpu !== undefined) row.ratios[`graft_vs_${peer}_cpu_time`] = cpu;
  }
  matrix.push(row);
}
if (want('matrix')) results.train_matrix = matrix;

// ---- inference ---------------------------------------------------------------------------
const inference = [];
const inferenceConfigs = quick
  ? [[0.35, 96]]
  : [
      [0.35, 96],
      [1, 224],
    ];
for (const [alpha, size] of want('inference') ? inferenceConfigs : []) {
  const shape = [String(alpha), String(size)];
  const row = { config: `${alpha}/${size}`, alpha, size };
  row.graft_wasm = runJson(`inference ${alpha}/${size} graft wasm`, 'node', [
    join(here, 'inference.mjs'),
    '--alpha',
    shape[0],
    '--size',
    shape[1],
    '--batches',
    '1,32',
    '--min-seconds',
    quick ? '1' : '3',
  ]);
  const iterations = alpha === 1 ? '4' : '10';
  row.tfjs_layers_wasm = runJson(
    `inference ${alpha}/${size} tfjs-layers wasm`,
    'node',
    [join(here, 'peers/mnv2_tfjs_layers.cjs'), 'wasm', ...shape, '32', iterations, 'infer'],
    { env: nodePath },
  );
  row.tfjs_layers_cpu =
    alpha === 0.35
      ? runJson(
          `inference ${alpha}/${size} tfjs-layers cpu`,
          'node',
          [join(here, 'peers/mnv2_tfjs_layers.cjs'), 'cpu', ...shape, '32', '2', 'infer'],
          { env: nodePath },
        )
      : {
          skipped:
            'not run: a batch of 32 at 1.0/224 is about 19 GFLOP, most of a minute per batch on the cpu backend',
        };
  row.ratios = {};
  for (const peer of ['tfjs_layers_wasm', 'tfjs_layers_cpu']) {
    for (const b of [1, 32]) {
      const g = row.graft_wasm?.results?.find((r) => r.batch === b);
      const p = row[peer]?.results?.find((r) => r.batch === b);
      const wall = ratio(g?.images_per_s, p?.images_per_s);
      const cpu = ratio(g?.images_per_cpu_s, p?.images_per_cpu_s);
      if (wall !== undefined) row.ratios[`graft_vs_${peer}_batch${b}`] = wall;
      if (cpu !== undefined) row.ratios[`graft_vs_${peer}_batch${b}_cpu_time`] = cpu;
    }
  }
  inference.push(row);
}
if (want('inference')) results.inference = inference;

// ---- heads-only step: cached features vs recomputing the trunk ---------------------------
const fc = results.datasets?.featureCache;
if (fc && want('datasets')) {
  results.heads_only_step = {
    from: 'datasets.featureCache',
    trunk: fc.trunk,
    examples: fc.examples,
    batch: fc.batchSize,
    step_ms_recomputing_trunk: fc.uncachedStepMs,
    step_ms_cached_features: fc.cachedStepMs,
    epoch_ms_recomputing_trunk: fc.uncachedEpochMs,
    epoch_ms_cached_features: fc.cachedEpochMs,
    cache_build_ms: fc.cacheBuildMs,
    speedup: fc.speedup,
  };
}

// ---- the demo, end to end ----------------------------------------------------------------
const demoArgs = quick ? ['--scenes', '300', '--epochs', '2'] : [];
const demo =
  want('demo') &&
  runJson(
    `demo ${demoArgs.join(' ') || '(defaults)'}`,
    'node',
    [join(root, 'apps/cli/dist/bin.js'), 'demo', '--json', ...demoArgs],
    { lastLine: false },
  );
const summary = demo.lines?.find?.((l) => l.type === 'summary');
if (demo) {
  results.demo = demo.lines
    ? {
        command: `node apps/cli/dist/bin.js demo --json ${demoArgs.join(' ')}`.trim(),
        wall_s: demo.wall_s,
        reported_seconds: summary ? +summary.seconds.toFixed(1) : undefined,
        backend: summary?.backend,
        policy: summary?.policy,
        peak_rss_mb: demo.peak_rss_mb,
        progress: demo.lines.filter((l) => l.type === 'progress').length,
      }
    : demo;
}

// ---- using the second core ---------------------------------------------------------------
// Can this machine scale the reference step past one core at all? Two independent graft
// processes side by side (aggregate images/s) and PyTorch with 2 threads say how much a
// second core gives when the work splits well; bench/threads.mjs says what graft's threaded
// WASM build and graft's data-parallel training (fitDataParallel) get out of it.
if (want('scaling')) {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const stepArgs = ['--steps', quick ? '4' : '10', '--profile', '0'];
  const one = runJson('scaling: one graft process', 'node', [
    join(here, 'trainStep.mjs'),
    ...stepArgs,
  ]);
  const script = join(here, 'trainStep.mjs');
  const side = runJson(
    `scaling: ${cores} graft processes side by side`,
    'bash',
    [
      '-c',
      `${Array.from({ length: cores }, () => `node ${script} ${stepArgs.join(' ')} &`).join(' ')} wait`,
    ],
    { lastLine: false },
  );
  const sideIps = side.lines?.map?.((l) => l.images_per_s);
  const aggregate =
    sideIps?.length === cores && sideIps.every((v) => typeof v === 'number')
      ? sideIps.reduce((a, v) => a + v, 0)
      : undefined;
  const torch = (threads) =>
    hasTorch
      ? runJson(`scaling: pytorch ${threads} thread(s)`, python, [
          join(here, 'peers/mnv2_torch.py'),
          String(threads),
          '0.35',
          '96',
          '16',
          quick ? '3' : '10',
        ])
      : noTorch;
  const t1 = torch(1);
  const tN = torch(cores);
  const base = one.images_per_s;
  results.scaling = {
    config: '0.35/96/16',
    rows: [
      { name: 'graft, one process (1 thread)', images_per_s: base, vs_one_graft_process: 1 },
      {
        name: `graft, ${cores} independent processes side by side (sum)`,
        images_per_s: aggregate && +aggregate.toFixed(2),
        per_process: sideIps,
        vs_one_graft_process: ratio(aggregate, base),
        ...(aggregate
          ? {}
          : { error: `expected ${cores} results, got: ${JSON.stringify(side).slice(0, 300)}` }),
      },
      { name: 'PyTorch, 1 thread', ...t1, vs_one_graft_process: ratio(t1.images_per_s, base) },
      {
        name: `PyTorch, ${cores} threads`,
        ...tN,
        vs_one_graft_process: ratio(tN.images_per_s, base),
      },
    ],
    pytorch_threads_speedup: ratio(tN.images_per_s, t1.images_per_s),
    graft_processes_speedup: ratio(aggregate, base),
  };
  results.threads = runJson('threads (bench/threads.mjs)', 'node', [
    join(here, 'threads.mjs'),
    ...(quick ? ['--quick'] : ['--rounds', '4', '--steps', '40']),
  ]);
  delete results.threads.children;
}

// ---- ratios, all from this run -------------------------------------------------------------
const matrixRows = results.train_matrix ?? [];
const inferenceRows = results.inference ?? [];
const ref = matrixRows.find((r) => r.config === '0.35/96/16');
results.ratios = {
  train_step_graft_vs_pytorch_1_thread: ref?.ratios.graft_vs_pytorch_1_thread,
  train_step_graft_vs_pytorch_1_thread_cpu_time: ref?.ratios.graft_vs_pytorch_1_thread_cpu_time,
  train_step_graft_vs_tfjs_layers_cpu: ref?.ratios.graft_vs_tfjs_layers_cpu,
  train_step_graft_vs_tfjs_layers_cpu_cpu_time: ref?.ratios.graft_vs_tfjs_layers_cpu_cpu_time,
  fused_adam_vs_tf_train_adam: ratio(
    results.train_step?.images_per_s,
    results.train_step_tfjs_adam?.images_per_s,
  ),
  fused_adam_vs_tf_train_adam_cpu_time: ratio(
    results.train_step?.images_per_cpu_s,
    results.train_step_tfjs_adam?.images_per_cpu_s,
  ),
  heads_only_cached_vs_recomputing: results.heads_only_step?.speedup,
  graft_two_processes_vs_one: results.scaling?.graft_processes_speedup,
  pytorch_two_threads_vs_one: results.scaling?.pytorch_threads_speedup,
  per_config_graft_vs_pytorch_1_thread: Object.fromEntries(
    matrixRows.map((r) => [r.config, r.ratios.graft_vs_pytorch_1_thread ?? null]),
  ),
  per_config_graft_vs_pytorch_1_thread_cpu_time: Object.fromEntries(
    matrixRows.map((r) => [r.config, r.ratios.graft_vs_pytorch_1_thread_cpu_time ?? null]),
  ),
  inference: Object.fromEntries(inferenceRows.map((r) => [r.config, r.ratios])),
};
const loadAfter = os.loadavg().map((v) => +v.toFixed(2));
const wallS = +((performance.now() - started) / 1000).toFixed(0);
if (merge) {
  Object.assign(results.env.parts_rerun.at(-1), { loadavg_after: loadAfter, wall_s: wallS });
} else {
  results.env.loadavg_after = loadAfter;
  results.env.total_wall_s = wallS;
}

rmSync(scratch, { recursive: true, force: true });
mkdirSync(join(here, 'results'), { recursive: true });
const json = JSON.stringify(results, null, 2);
const outName = only && !merge ? 'latest-only.json' : quick ? 'latest-quick.json' : 'latest.json';
writeFileSync(join(here, 'results', outName), `${json}\n`);
console.log(json);
// The docs' performance page shows these results: regenerate its tables.
if (!quick && (!only || merge)) {
  spawnSync('node', [join(root, 'apps/docs/scripts/benchTables.mjs')], { stdio: 'inherit' });
}

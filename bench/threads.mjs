// Threads in Node: the full fine-tune step of bench/trainStep.mjs (MobileNetV2 0.35, 96x96,
// batch 16, 4 sigmoid outputs, graft's fused Adam, every weight trainable) three ways:
//   - "1 thread":         the single-threaded SIMD build (graft's default in Node);
//   - "N threads":        tfjs's threaded SIMD build started by graft on worker_threads
//                         (initBackend({threads: N})): XNNPACK splits every kernel;
//   - "data-parallel N":  graft's fitDataParallel: N worker threads, each a single-threaded
//                         backend and a model copy training on batch/N rows of every batch
//                         (bench/dataParallelJob.mjs), the row-weighted mean gradient
//                         reduced in shared memory, every replica applying the same update.
//                         Batch norm normalises over batch/N rows per replica ("ghost" batch
//                         norm), so this is not bit-for-bit the batch-16 step.
// Every variant trains the same job (bench/dataParallelJob.mjs) in one fit call and is timed
// the same way: the gaps between step ends after the warm-up steps, median.
// The WASM backend starts once per process with a fixed thread count, so every measurement
// is its own child process, run interleaved (1, N, dp, 1, N, dp, ...) so that load from other
// work on the machine falls on all alike. Prints one JSON object: per-variant medians over
// the children's median step times, speedups against 1 thread (of the medians and of each
// round), load averages and the idle CPU seen before each child, CPU time per step, where the
// time goes by kernel with N threads, and the share of graft's single-threaded native
// kernels (src/native: depthwise backprop, batch norm) with N threads.
// Needs the built package: cd packages/core && npx tsup
// usage: node bench/threads.mjs [--threads N] [--rounds 4] [--steps 20] [--wait-idle 0.9]
//                               [--variants threads,dp] [--batch 16] [--warmup 80] [--quick]

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const SIZE = 96;
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const BATCH = arg('batch', 16);
const quick = args.includes('--quick');
// Steps before timing starts, in every variant. One thread reaches its steady speed within
// ~5 steps; a 2-worker run needs ~40, since both cores are busy training and V8 optimises the
// JavaScript (the tfjs engine, graft's kernels' glue) in background threads that have to wait
// for them. Measured, median ms per 20 steps of MobileNetV2-0.35/96/16 on 2 workers:
// 116, 79, 67, 66, 64, 66. Training runs are hundreds of steps, so the steady speed is the
// one that counts; 80 leaves a margin.
const WARMUP = arg('warmup', quick ? 10 : 80);
const here = fileURLToPath(import.meta.url);

if (args.includes('--child')) {
  await threadsChild(arg('threads', 1), arg('steps', 8));
} else if (args.includes('--child-dp')) {
  await dataParallelChild(arg('replicas', 2), arg('steps', 8));
} else {
  parent();
}

function parent() {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const n = arg('threads', Math.min(cores, 8));
  const rounds = arg('rounds', quick ? 2 : 4);
  const steps = arg('steps', quick ? 6 : 20);
  const waitIdle = arg('wait-idle', 0);
  const kinds = (args[args.indexOf('--variants') + 1] ?? '').split(',');
  const wanted = args.includes('--variants') ? kinds : ['threads', 'dp'];
  const variants = [{ name: '1 thread', flags: ['--child', '--threads', '1'] }];
  if (wanted.includes('threads')) {
    variants.push({ name: `${n} threads`, flags: ['--child', '--threads', String(n)] });
  }
  if (wanted.includes('dp')) {
    variants.push({ name: `data-parallel ${n}`, flags: ['--child-dp', '--replicas', String(n)] });
  }
  const loadBefore = os.loadavg();
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const idle = waitIdle > 0 ? waitForIdle(waitIdle) : undefined;
      const flags = [...v.flags, '--batch', String(BATCH), '--warmup', String(WARMUP)];
      runs.push({ variant: v.name, round: r, idle_before: idle, ...runChild(flags, steps) });
    }
  }
  const loadAfter = os.loadavg();
  const ok = (name) => runs.filter((x) => x.variant === name && x.ok);
  const base = median(ok('1 thread').map((x) => x.step_s));
  const summary = {};
  for (const v of variants) {
    const mine = ok(v.name);
    const step = median(mine.map((x) => x.step_s));
    const paired = [];
    for (let r = 0; r < rounds; r++) {
      const a = ok('1 thread').find((x) => x.round === r);
      const b = mine.find((x) => x.round === r);
      if (a && b) paired.push(round(a.step_s / b.step_s, 3));
    }
    summary[v.name] = {
      step_s: step && round(step, 4),
      images_per_s: step && round(BATCH / step, 1),
      speedup: base && step ? round(base / step, 3) : null,
      paired_speedups: paired,
      process_cpu_s_per_step: median(mine.map((x) => x.process_cpu_s)),
      ok_children: mine.length,
    };
  }
  const nThreads = ok(`${n} threads`).at(-1);
  console.log(
    JSON.stringify({
      bench: 'wasm_threads_train_step',
      model: `mobilenetv2 alpha 0.35, 96x96x3, batch ${BATCH}, full fine-tune, Adam`,
      warmup_steps: WARMUP,
      node: process.version,
      cores,
      cpu_model: os.cpus()[0]?.model,
      threads: n,
      rounds,
      steps_per_child: steps,
      wait_idle: waitIdle || undefined,
      load_avg_before: loadBefore.map((x) => round(x, 2)),
      load_avg_after: loadAfter.map((x) => round(x, 2)),
      summary,
      same_first_loss_1_vs_n_threads:
        new Set(
          runs.filter((x) => x.ok && x.variant !== `data-parallel ${n}`).map((x) => x.loss_first),
        ).size === 1,
      native_kernels_ms_per_step_n_threads: nThreads?.native_kernels_ms,
      native_kernels_share_of_step_n_threads: nThreads?.native_kernels_share,
      profile_top_kernels_ms_n_threads: nThreads?.profile_top_kernels_ms,
      children: runs.map(({ profile_top_kernels_ms, ...rest }) => rest),
    }),
  );
}

function median(xs) {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? null : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(x, digits) {
  return +x.toFixed(digits);
}

function runChild(flags, steps) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [here, ...flags, '--steps', String(steps)], {
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const wall = round((performance.now() - t0) / 1000, 1);
  const last = (r.stdout ?? '').trim().split('\n').filter(Boolean).at(-1);
  try {
    // exit_code 0 and no signal: the child ended on its own (no worker kept it alive).
    return { ok: r.status === 0, exit_code: r.status, child_wall_s: wall, ...JSON.parse(last) };
  } catch {
    return {
      ok: false,
      exit_code: r.status,
      signal: r.signal,
      error: (r.stderr || r.stdout || '').trim().slice(-600),
    };
  }
}

/** Idle fraction of all CPUs over the next `ms` milliseconds, from /proc/stat (Linux). */
function idleFraction(ms) {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
    const n = f.map(Number);
    return { idle: n[3] + n[4], total: n.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const b = read();
  return (b.idle - a.idle) / Math.max(1, b.total - a.total);
}

/**
 * With --wait-idle F: before each child, waits (up to 15 min) until the machine's CPUs were
 * at least F idle over 2 s, so that other work on a shared machine stays out of the figures.
 * Returns the idle fraction seen.
 */
function waitForIdle(threshold) {
  const deadline = Date.now() + 15 * 60_000;
  let idle = idleFraction(2000);
  while (idle < threshold && Date.now() < deadline) idle = idleFraction(2000);
  return round(idle, 3);
}

/**
 * CPU seconds (user + system) of the calling thread, from /proc/thread-self (Linux): the
 * single-threaded variant's floor on an idle machine, whatever else runs here now.
 */
function threadCpuS() {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

async function threadsChild(threads, steps) {
  const { initBackend, Trainer } = await import('@graft/core');
  const tf = await import('@tensorflow/tfjs-core');
  const { default: job } = await import('./dataParallelJob.mjs');
  const warnings = [];
  const info = await initBackend({ threads, fallback: false, onWarning: (m) => warnings.push(m) });
  // The same job as the data-parallel variant, trained by one Trainer in this thread and
  // timed the same way: the gaps between step ends, after the warm-up steps.
  const {
    trainer: options,
    data,
    fit,
  } = job({
    options: { alpha: 0.35, size: SIZE, batch: BATCH, steps: WARMUP + steps },
  });
  const trainer = new Trainer(options);
  const stamps = [];
  let lossFirst;
  let cpu0;
  let main0;
  await trainer.fit(data, {
    ...fit,
    callbacks: [
      {
        onStepEnd: (logs) => {
          stamps.push(performance.now());
          lossFirst ??= logs.loss;
          if (logs.step === WARMUP) {
            cpu0 = process.cpuUsage();
            main0 = threadCpuS();
          }
        },
      },
    ],
  });
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = threadCpuS() - main0;
  const times = stamps.slice(WARMUP).map((t, i) => (t - (stamps[WARMUP - 1 + i] ?? t)) / 1000);
  const stepS = median(times);
  const step = () => trainer.fit([data[0]], { epochs: 1 });

  // One profiled step: kernel times by name.
  const profile = await tf.profile(() => step());
  // (The profiled step is one fit call of one batch: kernel times, not the step time above.)
  const byKernel = new Map();
  for (const k of profile.kernels) {
    const e = byKernel.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    e.calls += 1;
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name, e);
  }
  // graft's native kernels (src/native) are single-threaded whatever the thread count.
  const native = [
    'DepthwiseConv2dNativeBackpropFilter',
    'DepthwiseConv2dNativeBackpropInput',
    'GraftBatchNormTrain',
    'GraftBatchNormTrainGrad',
  ];
  const nativeMs = native.reduce((s, k) => s + (byKernel.get(k)?.ms ?? 0), 0);
  console.log(
    JSON.stringify({
      threads: info.threads,
      simd: info.simd,
      warnings,
      loss_first: round(lossFirst, 6),
      step_s: round(stepS, 4),
      step_s_min: round(Math.min(...times), 4),
      step_s_max: round(Math.max(...times), 4),
      main_cpu_s: round(mainCpu / steps, 4),
      process_cpu_s: round((cpu.user + cpu.system) / 1e6 / steps, 4),
      native_kernels_ms: round(nativeMs, 1),
      native_kernels_share: round(nativeMs / 1000 / stepS, 3),
      profile_top_kernels_ms: [...byKernel.values()]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 12)
        .map((e) => ({ ...e, ms: round(e.ms, 1) })),
    }),
  );
  // No process.exit(): the child must end on its own (pthread workers must not hold it).
}

async function dataParallelChild(replicas, steps) {
  const { fitDataParallel } = await import('@graft/core');
  const warmup = WARMUP; // as in threadsChild
  const stamps = [];
  const cpu0 = process.cpuUsage();
  let cpuAtWarm;
  let lossFirst;
  const result = await fitDataParallel({
    job: new URL('./dataParallelJob.mjs', import.meta.url),
    replicas,
    options: { alpha: 0.35, size: SIZE, batch: BATCH, steps: steps + warmup },
    onStepEnd: (logs) => {
      stamps.push(performance.now());
      lossFirst ??= logs.loss;
      if (logs.step === warmup) cpuAtWarm = process.cpuUsage(cpu0);
    },
  });
  const cpu = process.cpuUsage(cpu0);
  // Step times from replica 0's step-end messages: the gaps after the warm-up steps.
  const times = stamps.slice(warmup).map((t, i) => (t - (stamps[warmup - 1 + i] ?? t)) / 1000);
  const usedCpu = (cpu.user + cpu.system - (cpuAtWarm.user + cpuAtWarm.system)) / 1e6;
  console.log(
    JSON.stringify({
      replicas: result.replicas,
      loss_first: round(lossFirst ?? Number.NaN, 6),
      step_s: round(median(times), 4),
      step_s_min: round(Math.min(...times), 4),
      step_s_max: round(Math.max(...times), 4),
      process_cpu_s: round(usedCpu / steps, 4),
    }),
  );
}

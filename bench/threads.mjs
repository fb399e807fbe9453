// Threads in Node: the full fine-tune step of bench/trainStep.mjs (MobileNetV2 0.35, 96x96,
// batch 16, 4 sigmoid outputs, Adam, every weight trainable) on 1 thread and on N threads.
// The WASM backend starts once per process with a fixed thread count, so every measurement
// is its own child process, run interleaved (1, N, 1, N, ...) so that load from other work
// on the machine falls on both alike. Prints one JSON object: per-variant medians over the
// children's median step times, the speedup, the speedup of each adjacent pair, the load
// average around the run, CPU time per step (main thread and whole process: on an idle
// machine the step cannot take less wall time than the main thread's CPU time, so their
// ratio bounds the speedup whatever else runs), where the time goes by kernel with N
// threads, and the share of graft's single-threaded native kernels.
// Needs the built package: cd packages/core && npx tsup
// usage: node bench/threads.mjs [--threads N] [--rounds 4] [--steps 8] [--quick]

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = args.includes('--quick');

if (args.includes('--child')) {
  await child(arg('threads', 1), arg('steps', 8));
} else {
  parent();
}

function parent() {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const threads = arg('threads', Math.min(cores, 8));
  const rounds = arg('rounds', quick ? 2 : 4);
  const steps = arg('steps', quick ? 4 : 8);
  const loadBefore = os.loadavg();
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    for (const t of [1, threads]) runs.push({ round: r, ...runChild(t, steps) });
  }
  const loadAfter = os.loadavg();
  const of = (t) => runs.filter((x) => x.threads_requested === t && x.ok);
  const one = of(1);
  const many = of(threads);
  const med = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length === 0 ? null : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const paired = [];
  for (let r = 0; r < rounds; r++) {
    const a = one.find((x) => x.round === r);
    const b = many.find((x) => x.round === r);
    if (a && b) paired.push(+(a.step_s / b.step_s).toFixed(3));
  }
  const stepOne = med(one.map((x) => x.step_s));
  const stepMany = med(many.map((x) => x.step_s));
  const lastMany = many.at(-1);
  console.log(
    JSON.stringify({
      bench: 'wasm_threads_train_step',
      model: 'mobilenetv2 alpha 0.35, 96x96x3, batch 16, full fine-tune, Adam',
      node: process.version,
      cores,
      cpu_model: os.cpus()[0]?.model,
      threads,
      rounds,
      steps_per_child: steps,
      load_avg_before: loadBefore.map((x) => +x.toFixed(2)),
      load_avg_after: loadAfter.map((x) => +x.toFixed(2)),
      step_s_1_thread: stepOne && +stepOne.toFixed(4),
      [`step_s_${threads}_threads`]: stepMany && +stepMany.toFixed(4),
      images_per_s_1_thread: stepOne && +(16 / stepOne).toFixed(1),
      [`images_per_s_${threads}_threads`]: stepMany && +(16 / stepMany).toFixed(1),
      speedup: stepOne && stepMany ? +(stepOne / stepMany).toFixed(3) : null,
      paired_speedups: paired,
      main_thread_cpu_s_per_step: {
        1: med(one.map((x) => x.main_cpu_s)),
        [threads]: med(many.map((x) => x.main_cpu_s)),
      },
      process_cpu_s_per_step: {
        1: med(one.map((x) => x.process_cpu_s)),
        [threads]: med(many.map((x) => x.process_cpu_s)),
      },
      speedup_bound_idle_machine:
        one.length && many.length
          ? +(med(one.map((x) => x.main_cpu_s)) / med(many.map((x) => x.main_cpu_s))).toFixed(3)
          : null,
      same_loss_all_children: new Set(runs.filter((x) => x.ok).map((x) => x.loss_first)).size === 1,
      native_kernels_ms_per_step: lastMany?.native_kernels_ms,
      native_kernels_share_of_step: lastMany?.native_kernels_share,
      [`profile_top_kernels_ms_${threads}_threads`]: lastMany?.profile_top_kernels_ms,
      children: runs.map(({ profile_top_kernels_ms, ...rest }) => rest),
    }),
  );
}

function runChild(threads, steps) {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--child',
      '--threads',
      String(threads),
      '--steps',
      String(steps),
    ],
    { encoding: 'utf8', timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const wall = +((performance.now() - t0) / 1000).toFixed(1);
  const last = (r.stdout ?? '').trim().split('\n').filter(Boolean).at(-1);
  try {
    // exit_code 0 with no timeout: the process ended on its own (no worker kept it alive).
    return { ok: r.status === 0, exit_code: r.status, child_wall_s: wall, ...JSON.parse(last) };
  } catch {
    return {
      ok: false,
      threads_requested: threads,
      exit_code: r.status,
      signal: r.signal,
      error: (r.stderr || r.stdout || '').trim().slice(-600),
    };
  }
}

/** CPU seconds (user + system) of this process's main thread, from /proc (Linux). */
function mainThreadCpuS() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

async function child(threads, steps) {
  const { initBackend, mobileNetV2 } = await import('@graft/core');
  const tf = await import('@tensorflow/tfjs-core');
  const warnings = [];
  const info = await initBackend({ threads, fallback: false, onWarning: (m) => warnings.push(m) });
  const size = 96;
  const batch = 16;
  const trunk = mobileNetV2({ alpha: 0.35, inputShape: [size, size, 3], seed: 1 });
  const channels = trunk.outputShape[trunk.outputShape.length - 1];
  const headW = tf.variable(
    tf.randomNormal([channels, 4], 0, 0.05, 'float32', 2),
    true,
    'head/kernel',
  );
  const headB = tf.variable(tf.zeros([4]), true, 'head/bias');
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3);
  const y = tf.cast(tf.greater(tf.randomUniform([batch, 4], 0, 1, 'float32', 4), 0.5), 'float32');
  const optimizer = tf.train.adam(1e-3);
  const trainable = [
    ...trunk.params.filter((p) => p.trainable).map((p) => p.variable),
    headW,
    headB,
  ];
  const step = () => {
    const loss = optimizer.minimize(
      () => {
        const features = trunk.apply(x, { training: true });
        const logits = tf.add(tf.matMul(tf.mean(features, [1, 2]), headW), headB);
        return tf.losses.sigmoidCrossEntropy(y, logits);
      },
      true,
      trainable,
    );
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  const lossFirst = step();
  step(); // warm-up: XNNPACK operator caches, first-use allocations
  const times = [];
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuS();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    step();
    times.push((performance.now() - t) / 1000);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = mainThreadCpuS() - main0;
  times.sort((a, b) => a - b);
  const median =
    times.length % 2
      ? times[times.length >> 1]
      : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;

  // One profiled step: kernel times by name. graft's native kernels (src/native: depthwise
  // backprop) run in their own single-threaded module.
  const profile = await tf.profile(() => {
    step();
  });
  const byKernel = new Map();
  for (const k of profile.kernels) {
    const e = byKernel.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    e.calls += 1;
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name, e);
  }
  const nativeKernels = [
    'DepthwiseConv2dNativeBackpropFilter',
    'DepthwiseConv2dNativeBackpropInput',
  ];
  const nativeMs = nativeKernels.reduce((s, n) => s + (byKernel.get(n)?.ms ?? 0), 0);
  const workerThreads = readdirSyncSafe('/proc/self/task').length;
  console.log(
    JSON.stringify({
      threads_requested: threads,
      threads: info.threads,
      simd: info.simd,
      warnings,
      loss_first: +lossFirst.toFixed(6),
      step_s: +median.toFixed(4),
      step_s_min: +times[0].toFixed(4),
      step_s_max: +times[times.length - 1].toFixed(4),
      main_cpu_s: +(mainCpu / steps).toFixed(4),
      process_cpu_s: +((cpu.user + cpu.system) / 1e6 / steps).toFixed(4),
      process_cpu_per_wall: +((cpu.user + cpu.system) / 1e6 / wall).toFixed(2),
      os_threads: workerThreads,
      native_kernels_ms: +nativeMs.toFixed(1),
      native_kernels_share: +(nativeMs / 1000 / median).toFixed(3),
      profile_top_kernels_ms: [...byKernel.values()]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 12)
        .map((e) => ({ ...e, ms: +e.ms.toFixed(1) })),
    }),
  );
  // No process.exit(): the child must end on its own (pthread workers must not hold it).
}

function readdirSyncSafe(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

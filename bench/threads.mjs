// Threads in Node: the full fine-tune step of bench/trainStep.mjs (MobileNetV2 0.35, 96x96,
// batch 16, 4 sigmoid outputs, graft's fused Adam, every weight trainable) three ways:
//   - "1 thread":         the single-threaded SIMD build (graft's default in Node);
//   - "N threads":        tfjs's threaded SIMD build started by graft on worker_threads
//                         (initBackend({threads: N})): XNNPACK splits every kernel;
//   - "data-parallel N":  a prototype: N worker threads, each its own single-threaded
//                         backend and model copy, each the step on batch/N images; the
//                         gradients are averaged through shared memory and every replica
//                         applies the same Adam update (so the copies stay identical).
//                         Batch norm then normalises over batch/N images per replica
//                         ("ghost" batch norm), so this is not bit-for-bit the batch-16 step.
// The WASM backend starts once per process with a fixed thread count, so every measurement
// is its own child process, run interleaved (1, N, dp, 1, N, dp, ...) so that load from other
// work on the machine falls on all alike. Prints one JSON object: per-variant medians over
// the children's median step times, speedups against 1 thread (of the medians and of each
// round), load averages and the idle CPU seen before each child, CPU time per step, where the
// time goes by kernel with N threads, and the share of graft's single-threaded native
// kernels (src/native: depthwise backprop) with N threads.
// Needs the built package: cd packages/core && npx tsup
// usage: node bench/threads.mjs [--threads N] [--rounds 4] [--steps 8] [--wait-idle 0.9]
//                               [--variants threads,dp] [--quick]

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const SIZE = 96;
const BATCH = 16;
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = args.includes('--quick');
const here = fileURLToPath(import.meta.url);

if (!isMainThread && workerData?.role === 'replica') {
  await replica(workerData);
} else if (args.includes('--child')) {
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
  const steps = arg('steps', quick ? 4 : 8);
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
      runs.push({ variant: v.name, round: r, idle_before: idle, ...runChild(v.flags, steps) });
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
      // CPU time of the busiest thread per step: the wall time floor on an idle machine for
      // variants whose threads sleep rather than spin while waiting (1 thread, data-parallel;
      // not XNNPACK's pool, whose spinning inflates it).
      busiest_thread_cpu_s: median(
        mine.map((x) => x.main_cpu_s ?? (x.replica_cpu_s ? Math.max(...x.replica_cpu_s) : null)),
      ),
      ok_children: mine.length,
    };
  }
  // Wall-time floors on an idle machine for variants whose threads sleep while they wait:
  // no less than the busiest thread's CPU time, nor than the process's CPU time spread over
  // every core (V8's own background threads, e.g. the garbage collector, need cores too).
  const idleFloor = (name) => {
    const v = summary[name];
    if (!v?.busiest_thread_cpu_s || !v.process_cpu_s_per_step) return null;
    return Math.max(v.busiest_thread_cpu_s, v.process_cpu_s_per_step / cores);
  };
  const floor1 = idleFloor('1 thread');
  const floorDp = idleFloor(`data-parallel ${n}`);
  const nThreads = ok(`${n} threads`).at(-1);
  console.log(
    JSON.stringify({
      bench: 'wasm_threads_train_step',
      model: 'mobilenetv2 alpha 0.35, 96x96x3, batch 16, full fine-tune, Adam',
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
      // Idle-machine wall-time floors (see idleFloor) and their ratio: about the speedup
      // data-parallel would reach on an idle machine, whatever load the run itself saw.
      idle_floor_s_1_thread: floor1 && round(floor1, 4),
      idle_floor_s_data_parallel: floorDp && round(floorDp, 4),
      data_parallel_idle_projection: floor1 && floorDp ? round(floor1 / floorDp, 3) : undefined,
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
 * The benchmark's model, data and loss; `part`/`parts` selects this replica's rows of the
 * batch (data is generated for the whole batch, so every variant sees the same images).
 */
async function buildStep({ threads, part = 0, parts = 1 }) {
  const { initBackend, mobileNetV2, ParamOptimizer } = await import('@graft/core');
  const tf = await import('@tensorflow/tfjs-core');
  const warnings = [];
  const info = await initBackend({ threads, fallback: false, onWarning: (m) => warnings.push(m) });
  const trunk = mobileNetV2({ alpha: 0.35, inputShape: [SIZE, SIZE, 3], seed: 1 });
  const channels = trunk.outputShape[trunk.outputShape.length - 1];
  const headW = tf.variable(
    tf.randomNormal([channels, 4], 0, 0.05, 'float32', 2),
    true,
    'head/kernel',
  );
  const headB = tf.variable(tf.zeros([4]), true, 'head/bias');
  const rows = BATCH / parts;
  const xAll = tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 3);
  const yAll = tf.cast(
    tf.greater(tf.randomUniform([BATCH, 4], 0, 1, 'float32', 4), 0.5),
    'float32',
  );
  const x = tf.slice(xAll, [part * rows, 0, 0, 0], [rows, -1, -1, -1]);
  const y = tf.slice(yAll, [part * rows, 0], [rows, -1]);
  const trainable = [
    ...trunk.params.filter((p) => p.trainable).map((p) => p.variable),
    headW,
    headB,
  ];
  const loss = () => {
    const features = trunk.apply(x, { training: true });
    const logits = tf.add(tf.matMul(tf.mean(features, [1, 2]), headW), headB);
    return tf.losses.sigmoidCrossEntropy(y, logits);
  };
  // graft's fused Adam (one kernel call per step), as graft's Trainer and bench/trainStep.mjs
  // use it; tf.train.adam would add ~2,000 kernel calls of per-op overhead to every step.
  const params = [
    ...trunk.params.filter((p) => p.trainable),
    { name: 'head/kernel', variable: headW, block: 'head', kind: 'kernel', trainable: true },
    { name: 'head/bias', variable: headB, block: 'head', kind: 'bias', trainable: true },
  ];
  const adam = new ParamOptimizer({ type: 'adam', learningRate: 1e-3 });
  /** One Adam update from gradients by variable name (disposed here). */
  const apply = (grads) => {
    const entries = params.map((param) => ({
      param,
      grad: grads[param.variable.name],
      lrScale: 1,
    }));
    adam.step(entries, { learningRate: 1e-3 });
    tf.dispose(Object.values(grads));
  };
  return { tf, info, warnings, trainable, loss, apply };
}

/**
 * CPU seconds (user + system) of the calling thread (main thread or worker), from
 * /proc/thread-self (Linux). A thread that never spins waiting for another needs at least
 * this much wall time on an idle machine, whatever else runs here now.
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
  const { tf, info, warnings, trainable, loss, apply } = await buildStep({ threads });
  const step = () => {
    const { value, grads } = tf.variableGrads(loss, trainable);
    apply(grads);
    const v = value.dataSync()[0];
    value.dispose();
    return v;
  };
  const lossFirst = step();
  step(); // warm-up: XNNPACK operator caches, first-use allocations
  const times = [];
  const cpu0 = process.cpuUsage();
  const main0 = threadCpuS();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    step();
    times.push((performance.now() - t) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  const mainCpu = threadCpuS() - main0;
  const stepS = median(times);

  // One profiled step: kernel times by name.
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
  // graft's native kernels (src/native) run in their own single-threaded module.
  const native = ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'];
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
  // A generous fixed bound keeps the prototype simple (MobileNetV2-0.35 + head has ~0.4 M
  // trainable values). Layout: each replica's gradients, one after the other.
  const maxParams = 4_000_000;
  const grads = new SharedArrayBuffer(replicas * maxParams * 4);
  const control = new SharedArrayBuffer(4 * 4);
  const losses = new SharedArrayBuffer(replicas * 8);
  const results = await Promise.all(
    Array.from(
      { length: replicas },
      (_, part) =>
        new Promise((resolve, reject) => {
          const w = new Worker(here, {
            workerData: {
              role: 'replica',
              part,
              replicas,
              steps,
              grads,
              control,
              losses,
              maxParams,
            },
          });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  const r0 = results[0];
  console.log(
    JSON.stringify({
      replicas,
      warnings: r0.warnings,
      loss_first: r0.loss_first,
      step_s: r0.step_s,
      step_s_min: r0.step_s_min,
      step_s_max: r0.step_s_max,
      // Per replica, median ms per step: waiting for the other replicas, and averaging the
      // gradients + building their tensors + the Adam update.
      barrier_wait_ms: results.map((r) => r.barrier_wait_ms),
      reduce_ms: results.map((r) => r.reduce_ms),
      replicas_identical: results.every((r) => r.checksum === r0.checksum),
      process_cpu_s: r0.process_cpu_s,
      // Each replica thread's own CPU time per step (it waits in Atomics.wait, not spinning).
      replica_cpu_s: results.map((r) => r.thread_cpu_s),
    }),
  );
}

async function replica({ part, replicas, steps, grads, control, losses, maxParams }) {
  const { tf, warnings, trainable, loss, apply } = await buildStep({
    threads: 1,
    part,
    parts: replicas,
  });
  const sizes = trainable.map((v) => v.size);
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > maxParams) throw new Error(`${total} parameters exceed the prototype's buffer`);
  // Every replica averages all gradients in the same order and applies the same fused Adam
  // update (one kernel call), so the copies stay bit-identical without exchanging weights.
  const slots = new Float32Array(grads); // [replica][total] gradients
  const mean = new Float32Array(total);
  const lossSlots = new Float64Array(losses);
  const ctl = new Int32Array(control);
  const barrier = () => {
    const generation = Atomics.load(ctl, 1);
    if (Atomics.add(ctl, 0, 1) === replicas - 1) {
      Atomics.store(ctl, 0, 0);
      Atomics.add(ctl, 1, 1);
      Atomics.notify(ctl, 1);
    } else {
      while (Atomics.load(ctl, 1) === generation) Atomics.wait(ctl, 1, generation);
    }
  };
  const waits = [];
  const reduces = [];
  // A view of a tensor's data in the WASM heap: unlike dataSync(), no copy, so no 1.6 MB of
  // garbage per step for V8's collector (whose threads compete with the other replica).
  const heapView = (t) => tf.backend().typedArrayFromHeap(t);
  const step = () => {
    const { value, grads: g } = tf.variableGrads(loss, trainable);
    for (let i = 0; i < trainable.length; i++) {
      const t = g[trainable[i].name];
      slots.set(heapView(t), part * total + offsets[i]);
      t.dispose();
    }
    lossSlots[part] = value.dataSync()[0];
    value.dispose();
    const t0 = performance.now();
    barrier(); // every replica's gradients are in
    const t1 = performance.now();
    mean.set(slots.subarray(0, total));
    for (let r = 1; r < replicas; r++) {
      const from = r * total;
      for (let j = 0; j < total; j++) mean[j] += slots[from + j];
    }
    const inv = 1 / replicas;
    for (let j = 0; j < total; j++) mean[j] *= inv;
    let l = 0;
    for (let r = 0; r < replicas; r++) l += lossSlots[r];
    const t2 = performance.now();
    barrier(); // everybody has read the gradients and losses: the slots may be rewritten
    const t3 = performance.now();
    const averaged = {};
    for (let i = 0; i < trainable.length; i++) {
      const v = trainable[i];
      averaged[v.name] = tf.tensor(mean.subarray(offsets[i], offsets[i] + sizes[i]), v.shape);
    }
    apply(averaged);
    const t4 = performance.now();
    waits.push(t1 - t0 + (t3 - t2));
    reduces.push(t2 - t1 + (t4 - t3));
    return l / replicas;
  };
  const lossFirst = step();
  step(); // warm-up
  waits.length = 0;
  reduces.length = 0;
  const times = [];
  const cpu0 = process.cpuUsage();
  const thread0 = threadCpuS();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    step();
    times.push((performance.now() - t) / 1000);
  }
  const cpu = process.cpuUsage(cpu0); // the whole process: every replica
  const threadCpu = threadCpuS() - thread0;
  // The replicas' weights must still be identical: a cheap checksum of every variable.
  let checksum = 0;
  for (const v of trainable) {
    const d = v.dataSync();
    for (let j = 0; j < d.length; j += 97) checksum += d[j] * ((j % 7) + 1);
  }
  parentPort.postMessage({
    warnings,
    loss_first: round(lossFirst, 6),
    step_s: round(median(times), 4),
    step_s_min: round(Math.min(...times), 4),
    step_s_max: round(Math.max(...times), 4),
    barrier_wait_ms: round(median(waits), 2),
    reduce_ms: round(median(reduces), 2),
    process_cpu_s: round((cpu.user + cpu.system) / 1e6 / steps, 4),
    thread_cpu_s: round(threadCpu / steps, 4),
    checksum,
  });
}

// Writes the measured numbers into guides/guide/performance.md from the benchmark results
// (bench/results/latest.json, bench/results/profile.json), so that the page shows what the
// last `npm run bench` measured and nothing retyped. Each generated part sits between
// `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; the prose around it is left alone.
// `npm run bench` runs this after writing its results.
// usage: node apps/docs/scripts/benchTables.mjs [--check] [--results F] [--profile F] [--out F]
//   --check: change nothing, exit 1 if the page is not what the results give.
//   --results / --profile: other result files (e.g. bench/results/latest-quick.json);
//   --out: write the page elsewhere.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(docs, '../..');
const pagePath = resolve(docs, 'guides/guide/performance.md');
const readJson = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined);
const option = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const latest = readJson(resolve(root, option('results', 'bench/results/latest.json')));
const profile = readJson(resolve(root, option('profile', 'bench/results/profile.json')));
const pageOut = resolve(option('out', pagePath));
if (!latest) {
  console.error('bench/results/latest.json is missing: run `npm run bench` first');
  process.exit(1);
}

// ---- formatting ----------------------------------------------------------------------------
const fmt = (v, digits) => {
  if (v === undefined || v === null || Number.isNaN(v)) return '';
  if (typeof v !== 'number') return String(v);
  if (digits !== undefined) return v.toFixed(digits);
  return String(v);
};
const thousands = (v) => (typeof v === 'number' ? v.toLocaleString('en-US') : fmt(v));
const x = (v, d = 2) =>
  typeof v === 'number' ? `${v.toFixed(Math.abs(v) >= 20 ? Math.min(d, 1) : d)}x` : '';
const pct = (v) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '');
const mb = (v) => (typeof v === 'number' ? `${thousands(v)} MB` : '');
const code = (s) => `\`${s}\``;
/** A Markdown table with every column padded to its widest cell (the way biome formats). */
function table(headers, rows) {
  for (const r of rows) {
    if (r.length !== headers.length) {
      throw new Error(
        `table row has ${r.length} cells for ${headers.length} columns: ${r.join(' | ')}`,
      );
    }
  }
  const cells = [headers, ...rows].map((r) => r.map((c) => fmt(c).replaceAll('|', '\\|')));
  const widths = headers.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(cells[0]),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...cells.slice(1).map(line),
  ].join('\n');
}
// A run that gave no number shows as a short word in its table cell; the reason goes into a
// numbered note under the table.
let notes = [];
const failure = (r) => {
  if (!r) return 'not run';
  const reason = r.skipped ?? (r.error ? code(r.error.split('\n')[0]) : undefined);
  if (!reason) return '';
  let i = notes.indexOf(reason);
  if (i < 0) i = notes.push(reason) - 1;
  return `${r.skipped ? 'not run' : 'fails'} (${i + 1})`;
};
/** The table, then the notes its cells refer to, one per line. */
function withNotes(tableText) {
  const text = notes.length
    ? `${tableText}\n\n${notes.map((n, i) => `(${i + 1}) ${n}`).join('\\\n')}`
    : tableText;
  notes = [];
  return text;
}

// ---- parts -----------------------------------------------------------------------------------
const env = latest.env ?? {};
/** What `git status --porcelain -- packages bench` said at the start of the run, in words. */
function uncommitted(lines = []) {
  const inPackages = lines.filter((l) => l.slice(3).startsWith('packages/')).length;
  const inBench = lines.length - inPackages;
  return inPackages
    ? ` with ${inPackages} uncommitted files under packages/ (work in progress at the time, built into what was measured)`
    : ` (packages/ as committed${inBench ? `; ${inBench} uncommitted files under bench/` : ''})`;
}
const parts = {};

parts.env = [
  `Measured ${env.date?.slice(0, 16).replace('T', ' ')} UTC at commit ${code((env.commit ?? '?').slice(0, 10))}` +
    uncommitted(env.uncommitted_in_packages_and_bench) +
    `, on ${env.cpus} cores (${env.cpu_model}), ${env.memory_gb ?? '?'} GB, Node ${env.node}.`,
  `Load average before and after the run: ${(env.loadavg_before ?? []).join(' / ')} and ${(env.loadavg_after ?? []).join(' / ')}` +
    ` (other work shared the machine). The whole run took ${env.total_wall_s ?? '?'} s.`,
  ...(env.parts_rerun ?? []).map(
    (r) =>
      `Re-run afterwards into the same results (\`--only ${r.parts.join(',')} --merge\`): ${r.date?.slice(0, 16).replace('T', ' ')} UTC at commit ${code((r.commit ?? '?').slice(0, 10))}, load average ${(r.loadavg_before ?? []).join(' / ')} before and ${(r.loadavg_after ?? []).join(' / ')} after.`,
  ),
].join('\n');

const matrix = latest.train_matrix ?? [];
const ref = matrix.find((r) => r.config === '0.35/96/16');
{
  const ts = latest.train_step ?? {};
  const adam = latest.train_step_tfjs_adam ?? {};
  const g = ref?.graft;
  // graft over the other runtime, from step times (images/s is rounded).
  const rel = (r, key) =>
    typeof r?.[key] === 'number' && typeof g?.[key] === 'number' ? x(r[key] / g[key]) : '';
  const row = (name, backend, r, isGraft) => [
    name,
    backend,
    r?.step_s !== undefined ? fmt(r.step_s, 3) : failure(r),
    fmt(r?.images_per_s),
    fmt(r?.images_per_cpu_s),
    isGraft ? '' : rel(r, 'step_s'),
    isGraft ? '' : rel(r, 'cpu_s_per_step'),
    mb(r?.peak_rss_mb),
  ];
  parts.reference = withNotes(
    table(
      [
        'runtime',
        'backend',
        'seconds per step',
        'images / s',
        'images / CPU s',
        'graft is (wall)',
        'graft is (CPU)',
        'peak RSS',
      ],
      [
        row('**graft** (Trainer, fused Adam)', 'WASM, SIMD, 1 thread', g, true),
        row('tfjs-layers 4.22', 'cpu (pure JS)', ref?.tfjs_layers_cpu),
        row('tfjs-layers 4.22', 'WASM', ref?.tfjs_layers_wasm),
        row('PyTorch 1.13 (Debian, oneDNN)', '1 thread', ref?.pytorch_1_thread),
      ],
    ),
  );
  parts['reference-notes'] = [
    `graft's step issues ${thousands(ts.kernel_calls_per_step)} kernel calls` +
      (ts.custom_grad_ops_per_step
        ? ` and ${ts.custom_grad_ops_per_step} custom-gradient ops`
        : '') +
      ` per step. With \`tf.train.adam\` in place of graft's fused Adam the same step issues ${thousands(adam.kernel_calls_per_step)}` +
      ` and runs at ${fmt(adam.images_per_s)} images/s (${fmt(adam.images_per_cpu_s)} per CPU second), against ${fmt(ts.images_per_s)} (${fmt(ts.images_per_cpu_s)}) in the run just before it.`,
    ts.leak_check
      ? `Leak check over ${ts.leak_check.steps} more steps: ${ts.leak_check.before.tensors} tensors and ${thousands(ts.leak_check.before.bytes)} tfjs bytes before, ${ts.leak_check.after.tensors} and ${thousands(ts.leak_check.after.bytes)} after; WASM heap ${thousands(ts.leak_check.halfway?.heap)} bytes halfway, ${thousands(ts.leak_check.after.heap)} at the end (${ts.leak_check.grew ? 'it grew' : 'no growth'}).`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
}

parts.matrix = withNotes(
  table(
    [
      'width',
      'size',
      'batch',
      'params',
      'graft images / s',
      'PyTorch 1 thread',
      'graft / PyTorch',
      'graft images / CPU s',
      'PyTorch',
      'graft / PyTorch (CPU)',
      'tfjs-layers cpu',
      'graft peak RSS',
      'PyTorch peak RSS',
    ],
    matrix.map((r) => [
      r.alpha === 1 ? '1.0' : fmt(r.alpha),
      `${r.size}x${r.size}`,
      r.batch,
      thousands(r.graft?.params),
      r.graft?.images_per_s ?? failure(r.graft),
      r.pytorch_1_thread?.images_per_s ?? failure(r.pytorch_1_thread),
      x(r.ratios?.graft_vs_pytorch_1_thread),
      r.graft?.images_per_cpu_s ?? '',
      r.pytorch_1_thread?.images_per_cpu_s ?? '',
      x(r.ratios?.graft_vs_pytorch_1_thread_cpu_time),
      r.tfjs_layers_cpu?.images_per_s ?? failure(r.tfjs_layers_cpu),
      mb(r.graft?.peak_rss_mb),
      mb(r.pytorch_1_thread?.peak_rss_mb),
    ]),
  ),
);
{
  const h = latest.heads_only_step;
  parts['heads-only'] = h
    ? table(
        ['heads-only training', 'ms per step', 'ms per epoch'],
        [
          [
            'recomputing the frozen trunk every step',
            h.step_ms_recomputing_trunk,
            h.epoch_ms_recomputing_trunk,
          ],
          [
            'cached trunk features ([`cacheFeatures`](../api/datasets/functions/cacheFeatures.md))',
            h.step_ms_cached_features,
            h.epoch_ms_cached_features,
          ],
          ['building the cache (once)', '', h.cache_build_ms],
        ],
      ) +
      `\n\nTrunk: ${h.trunk}; ${h.examples} examples, batch ${h.batch}. Cached epochs are **${x(h.speedup, 1)}** faster.`
    : 'not measured';
}

{
  const rows = [];
  for (const r of latest.inference ?? []) {
    for (const b of [1, 32]) {
      const get = (p) => p?.results?.find((e) => e.batch === b)?.images_per_s;
      rows.push([
        r.alpha === 1 ? '1.0' : fmt(r.alpha),
        `${r.size}x${r.size}`,
        b,
        get(r.graft_wasm) ?? failure(r.graft_wasm),
        get(r.tfjs_layers_wasm) ?? failure(r.tfjs_layers_wasm),
        get(r.tfjs_layers_cpu) ?? failure(r.tfjs_layers_cpu),
        x(r.ratios?.[`graft_vs_tfjs_layers_wasm_batch${b}`]),
        x(r.ratios?.[`graft_vs_tfjs_layers_wasm_batch${b}_cpu_time`]),
        x(r.ratios?.[`graft_vs_tfjs_layers_cpu_batch${b}`], 1),
      ]);
    }
  }
  parts.inference = withNotes(
    table(
      [
        'width',
        'size',
        'batch',
        'graft WASM images / s',
        'tfjs-layers WASM',
        'tfjs-layers cpu',
        'graft / tfjs-layers WASM',
        'same, by CPU time',
        'graft / tfjs-layers cpu',
      ],
      rows,
    ),
  );
}

{
  const d = latest.demo ?? {};
  parts.demo = d.error
    ? `The demo failed: ${code(d.error.split('\n')[0])}`
    : table(
        ['command', 'wall time', 'training and evaluation (reported)', 'peak RSS'],
        [
          [
            code(d.command ?? ''),
            `${fmt(d.wall_s)} s`,
            `${fmt(d.reported_seconds)} s`,
            mb(d.peak_rss_mb),
          ],
        ],
      );
}

{
  const s = latest.scaling;
  parts.scaling = s
    ? withNotes(
        table(
          ['run', 'images / s', 'vs one graft process'],
          s.rows.map((r) => [r.name, r.images_per_s ?? failure(r), x(r.vs_one_graft_process)]),
        ),
      )
    : 'not measured in this run';
  const t = latest.threads;
  if (t?.summary) {
    parts.threads = table(
      ['variant (bench/threads.mjs)', 'seconds per step', 'images / s', 'speedup vs 1 thread'],
      Object.entries(t.summary).map(([name, v]) => [
        name,
        fmt(v.step_s),
        fmt(v.images_per_s),
        x(v.speedup),
      ]),
    );
    parts.threads += `\n\nLoad average before and after \`bench/threads.mjs\`: ${(t.load_avg_before ?? []).join(' / ')} and ${(t.load_avg_after ?? []).join(' / ')}.`;
  } else {
    parts.threads = t?.error
      ? `bench/threads.mjs failed: ${code(t.error.split('\n')[0])}`
      : 'not measured in this run';
  }
}

if (profile) {
  const p = profile;
  parts['profile-summary'] = [
    `Step ${fmt(p.step_ms_plain)} ms without recording (${fmt(p.images_per_s_plain)} images/s), ${fmt(p.step_ms_recorded)} ms while recording; mean of ${p.steps} steps each, alternating.`,
    `Time inside kernels: ${fmt(p.kernel_ms_per_step)} ms over ${thousands(p.kernel_calls_per_step)} kernel calls per step (plus ${thousands(p.nested_kernel_calls_per_step)} calls that graft's kernels make to other kernels' functions inside them).`,
    // Two estimates, since the plain and recorded step times each carry the run's noise: a
    // per-call figure from either would suggest more precision than there is.
    `JavaScript and the tfjs engine around the kernels: ${fmt(p.overhead_ms_per_step)} ms per step as the plain step minus the kernel time` +
      (p.overhead_ms_per_step_recorded !== undefined
        ? `, ${fmt(p.overhead_ms_per_step_recorded)} ms as the recorded step minus it (the phases below).`
        : '.'),
    `Measured ${p.date?.slice(0, 16).replace('T', ' ')} UTC at commit ${code((p.commit ?? '?').slice(0, 10))}` +
      (p.uncommitted_in_packages
        ? ` with ${p.uncommitted_in_packages} uncommitted files under packages/`
        : '') +
      ` (backend ${p.backend}, SIMD ${p.simd}, ${p.threads} thread).`,
  ].join('\n');
  parts['profile-phases'] = table(
    ['phase', 'wall ms', 'in kernels ms', 'JS / engine ms', 'kernel calls'],
    p.phases.map((r) => [
      r.phase,
      r.wall_ms,
      r.kernel_ms,
      r.overhead_ms,
      thousands(r.kernel_calls),
    ]),
  );
  parts['profile-categories'] = table(
    ['category', 'ms per step', 'share of the step', 'kernel calls'],
    p.categories.map((r) => [r.category, fmt(r.ms, 1), pct(r.share), thousands(r.calls)]),
  );
  parts['profile-layers'] = table(
    ['layer class, phase', 'ms per step', 'kernel calls'],
    p.by_layer_class.map((r) => [r.layer, fmt(r.ms, 1), thousands(r.calls)]),
  );
  parts['profile-kernels'] = table(
    ['kernel [phase]', 'ms per step', 'calls'],
    p.top_kernels.slice(0, 15).map((r) => [r.kernel, fmt(r.ms, 1), thousands(r.calls)]),
  );
  const customGrad = Object.entries(p.custom_grad_ops_per_step ?? {});
  parts['profile-custom-grad'] = customGrad.length
    ? customGrad.map(([k, v]) => `${v} × ${k}`).join(', ')
    : 'none: every op of the step is a registered kernel with a registered gradient.';
}

{
  const ks = latest.kernels?.kernels ?? [];
  // The fastest call is the steadier figure on a shared machine; the median is shown too.
  const gflops = (flops, ms) =>
    typeof ms === 'number' && ms > 0 ? +(flops / ms / 1e6).toFixed(2) : '';
  parts.kernels = table(
    [
      'kernel',
      'shape',
      'graft WASM GFLOP/s (fastest call)',
      '(median)',
      'forward conv, same shape',
      'tfjs cpu GFLOP/s',
      'vs stock WASM (medians)',
    ],
    ks.map((k) => [
      code(k.kernel),
      k.shape,
      gflops(k.flops, k.wasm_min_ms),
      fmt(k.wasm_gflops),
      fmt(k.forward_wasm_gflops),
      fmt(k.cpu_gflops),
      k.speedup_vs_stock ? x(k.speedup_vs_stock, 1) : '(no stock kernel)',
    ]),
  );
}

// ---- splice ----------------------------------------------------------------------------------
const page = readFileSync(pagePath, 'utf8');
let next = page;
for (const [name, body] of Object.entries(parts)) {
  const re = new RegExp(`(<!-- bench:${name} -->)[\\s\\S]*?(<!-- /bench:${name} -->)`);
  if (re.test(next)) next = next.replace(re, (_m, open, close) => `${open}\n\n${body}\n\n${close}`);
}
if (process.argv.includes('--check')) {
  if (next !== page) {
    console.error(
      `${pagePath} differs from bench/results: run node apps/docs/scripts/benchTables.mjs`,
    );
    process.exit(1);
  }
  console.log('performance.md matches bench/results');
} else {
  writeFileSync(pageOut, next);
  console.log(`wrote ${pageOut}`);
}

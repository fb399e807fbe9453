// Writes the freeze-policy experiment's numbers into guides/guide/freezing.md from
// bench/results/freezeExperiment.json (written by bench/freezeExperiment.mjs), so the page
// shows what the experiment measured and nothing retyped. Also copies the JSON to
// guides/public/freezeExperiment.json (the site serves it) and renders the chart to
// guides/public/freezeExperiment.svg with Vega-Lite, the chart library the CLI's report uses.
// Each generated part sits between `<!-- freeze:NAME -->` and `<!-- /freeze:NAME -->`.
// usage: node apps/docs/scripts/freezeTables.mjs [--check]
//   --check: change nothing, exit 1 if the page, the JSON copy or the chart is stale.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(docs, '../..');
const resultsPath = resolve(root, 'bench/results/freezeExperiment.json');
const pagePath = resolve(docs, 'guides/guide/freezing.md');
const jsonCopy = resolve(docs, 'guides/public/freezeExperiment.json');
const svgPath = resolve(docs, 'guides/public/freezeExperiment.svg');
const check = process.argv.includes('--check');

if (!existsSync(resultsPath)) {
  console.error('bench/results/freezeExperiment.json is missing: run bench/freezeExperiment.mjs');
  process.exit(1);
}
const raw = readFileSync(resultsPath, 'utf8');
const result = JSON.parse(raw);

/** A Markdown table with every column padded to its widest cell (the way biome formats). */
function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c).replaceAll('|', '\\|')));
  const widths = headers.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(cells[0]),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...cells.slice(1).map(line),
  ].join('\n');
}
const pm = (s, digits = 3) =>
  s && Number.isFinite(s.mean) ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : '';
const signed = (v) => (v >= 0 ? `+${v.toFixed(3)}` : v.toFixed(3));
const ORDER = [
  'headsOnly',
  'lastBlocks(2)',
  'fineTune',
  'all',
  'ruleOfThumb',
  'ruleOfThumb(dissimilar)',
  'scratch',
  'bnOnly',
  'headsOnlyLong',
];
const sizes = Object.keys(result.bySize)
  .map(Number)
  .sort((a, b) => a - b);

const parts = {};
{
  const rows = [];
  for (const size of sizes) {
    const s = result.bySize[size];
    for (const policy of ORDER) {
      const p = s.policies[policy];
      if (!p) continue;
      const LABELS = {
        ruleOfThumb: `ruleOfThumb → ${p.resolvesTo}`,
        'ruleOfThumb(dissimilar)': `ruleOfThumb, similarToPretraining: false → ${p.resolvesTo}`,
        scratch: 'scratch (random init, all)',
        bnOnly: 'bnOnly (side check, not ranked)',
        headsOnlyLong: 'headsOnly, 5x the epochs (side check, not ranked)',
      };
      const name = LABELS[policy] ?? policy;
      const best = policy === s.best;
      const auc = pm(p.presenceAuc);
      rows.push([
        size,
        best ? `**${name}**` : name,
        best ? `**${auc}**` : auc,
        pm(p.presenceMap),
        pm(p.lightColourAccuracy),
        pm(p.carCountR2, 2),
        p.seconds ? `${p.seconds.mean.toFixed(0)} s` : '',
        policy.startsWith('ruleOfThumb') ? '' : p.featureCache ? 'yes' : 'no',
      ]);
    }
  }
  parts.runs = table(
    [
      'images',
      'policy',
      'presence AUC',
      'presence mAP',
      'light colour accuracy',
      'car count R²',
      'wall time per run',
      'feature cache',
    ],
    rows,
  );
}
parts.summary = table(
  [
    'images',
    'seeds',
    'epochs',
    'best policy',
    'ruleOfThumb picks',
    'its gap to the best',
    'with similarToPretraining: false',
    'transfer − scratch',
    'whole trunk − partial',
  ],
  sizes.map((size) => {
    const s = result.bySize[size];
    return [
      size,
      s.seeds.length,
      s.epochs ?? '',
      s.best,
      s.ruleOfThumb ?? 'n/a',
      s.ruleOfThumbGap === null ? 'n/a' : s.ruleOfThumbGap.toFixed(3),
      s.ruleOfThumbDissimilar === null
        ? 'n/a'
        : `${s.ruleOfThumbDissimilar} (gap ${s.ruleOfThumbDissimilarGap.toFixed(3)})`,
      s.transferMinusScratch === null ? 'n/a' : signed(s.transferMinusScratch),
      s.fullMinusPartial === null ? 'n/a' : signed(s.fullMinusPartial),
    ];
  }),
);
parts.findings = (result.findings?.summary ?? []).map((line) => `- ${line}`).join('\n');
// The feature cache's own benchmark (bench/featureCache.mjs): cached vs uncached in one
// process, which the experiment's wall times (runs spread over a shared machine) cannot show.
{
  const cachePath = resolve(root, 'bench/results/featureCache.json');
  const c = existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : undefined;
  parts.cache = c
    ? `Measured by \`bench/featureCache.mjs\` (heads only, shipped trunk, ${c.images} scenes, ${c.epochs} epochs, one process): epochs after the first took ${c.laterEpochSeconds.auto} s with the cache and ${c.laterEpochSeconds.off} s without (**${c.laterEpochSpeedup}x**); the whole run ${c.wholeRunSpeedup}x faster; largest weight difference between the two: ${c.maxWeightDiff}.`
    : 'not measured';
}
parts.setup = [
  `${result.experiment}. Metric: ${result.metric}, on ${result.validationImages} held-out scenes.`,
  `Seeds vary ${result.seedsVary}. Epochs: ${result.epochs}.`,
  `Command: \`${result.command}\`.`,
].join(' ');

// ---- the chart -------------------------------------------------------------------------------
// Vega and Vega-Lite come from the CLI's dependencies (its report draws with them).
const cliRequire = createRequire(resolve(root, 'apps/cli/package.json'));
const vega = await import(pathToFileURL(cliRequire.resolve('vega')).href);
const vegaLite = await import(pathToFileURL(cliRequire.resolve('vega-lite')).href);
const points = sizes.flatMap((size) =>
  ORDER.filter((p) => !p.startsWith('ruleOfThumb') && result.bySize[size].policies[p]).map(
    (policy) => {
      const a = result.bySize[size].policies[policy].presenceAuc;
      return { size, policy, auc: a.mean, low: a.mean - a.std, high: a.mean + a.std };
    },
  ),
);
const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: 'Validation presence AUC by training-set size (mean ± std over seeds)',
  width: 520,
  height: 280,
  data: { values: points },
  encoding: {
    x: { field: 'size', type: 'quantitative', scale: { type: 'log' }, title: 'training images' },
    color: { field: 'policy', type: 'nominal', sort: ORDER },
  },
  layer: [
    {
      mark: { type: 'line', point: true },
      encoding: {
        y: {
          field: 'auc',
          type: 'quantitative',
          scale: { zero: false },
          title: 'presence mean ROC-AUC',
        },
      },
    },
    {
      mark: { type: 'rule' },
      encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
    },
  ],
};
const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
// The site's lint (biome's a11y rules) wants a title and no ARIA roles on plain groups; the
// chart is an image with alt text in the page, so Vega's roles carry nothing there.
const svg = `${(await view.toSVG())
  .replace(/ (role|aria-roledescription)="[^"]*"/g, '')
  .replace(/^(<svg[^>]*>)/, `$1<title>${spec.title}</title>`)}\n`;
view.finalize();
// The JSON copy as the repository's formatter prints it, so `biome check` passes on it.
const biome = resolve(root, 'node_modules/.bin/biome');
const jsonText = execFileSync(biome, ['format', `--stdin-file-path=${jsonCopy}`], {
  input: raw,
  encoding: 'utf8',
});

// ---- splice ----------------------------------------------------------------------------------
const page = readFileSync(pagePath, 'utf8');
let next = page;
for (const [name, body] of Object.entries(parts)) {
  const re = new RegExp(`(<!-- freeze:${name} -->)[\\s\\S]*?(<!-- /freeze:${name} -->)`);
  if (!re.test(next)) {
    console.error(`freezing.md has no <!-- freeze:${name} --> ... <!-- /freeze:${name} --> block`);
    process.exit(1);
  }
  next = next.replace(re, (_m, open, close) => `${open}\n\n${body}\n\n${close}`);
}
const outputs = [
  [pagePath, page, next],
  [jsonCopy, existsSync(jsonCopy) ? readFileSync(jsonCopy, 'utf8') : '', jsonText],
  [svgPath, existsSync(svgPath) ? readFileSync(svgPath, 'utf8') : '', svg],
];
if (check) {
  const stale = outputs.filter(([, before, after]) => before !== after).map(([p]) => p);
  if (stale.length > 0) {
    console.error(`stale: ${stale.join(', ')}: run node apps/docs/scripts/freezeTables.mjs`);
    process.exit(1);
  }
  console.log('freezing.md, freezeExperiment.json and .svg match bench/results');
} else {
  for (const [path, before, after] of outputs) if (before !== after) writeFileSync(path, after);
  console.log(`wrote ${pagePath}, ${jsonCopy}, ${svgPath}`);
}

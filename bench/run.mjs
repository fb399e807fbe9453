// `npm run bench`: every benchmark, each beside its peer in the same run, one JSON document.
// Writes bench/results/latest.json and prints it. Each part runs in its own Node process so a
// crash or a slow peer in one part cannot skew another's timings.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const quick = process.argv.includes('--quick');

function runJson(label, cmd, args, env = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = +((performance.now() - t0) / 1000).toFixed(1);
  process.stderr.write(`[bench] ${label}: ${seconds}s\n`);
  const lines = (r.stdout ?? '').trim().split('\n').filter(Boolean);
  const last = lines.at(-1);
  try {
    return JSON.parse(last);
  } catch {
    return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim().slice(-600) };
  }
}

const results = {
  env: {
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    date: new Date().toISOString(),
  },
};

results.kernels = runJson('kernels', 'node', [
  join(here, 'kernels.mjs'),
  ...(quick ? ['--quick'] : []),
]);
results.datasets = runJson('datasets (generators, feature cache)', 'node', [
  join(here, 'datasets.mjs'),
]);
results.train_step = runJson('train step (graft, wasm)', 'node', [
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

// Peers on the same step (width 0.35, 96x96, batch 16, 4 sigmoid outputs, Adam).
const peers = [];
if (!quick) {
  peers.push(
    runJson(
      'peer tfjs-layers cpu',
      'node',
      [join(here, 'peers/mnv2_tfjs_layers.cjs'), 'cpu', '0.35', '96', '16', '1'],
      { NODE_PATH: join(root, 'node_modules') },
    ),
  );
  peers.push(
    runJson(
      'peer tfjs-layers wasm',
      'node',
      [join(here, 'peers/mnv2_tfjs_layers.cjs'), 'wasm', '0.35', '96', '16', '1'],
      { NODE_PATH: join(root, 'node_modules') },
    ),
  );
  if (existsSync('/usr/bin/python3')) {
    const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], {
      encoding: 'utf8',
    });
    peers.push(
      hasTorch.status === 0
        ? runJson('peer pytorch 1 thread', '/usr/bin/python3', [
            join(here, 'peers/mnv2_torch.py'),
            '1',
            '0.35',
            '96',
            '16',
            '5',
          ])
        : {
            peer: 'pytorch',
            error:
              'python3-torch not installed (apt-get install python3-torch python3-torchvision)',
          },
    );
  }
}
results.peers = peers;

const graftIps = results.train_step?.images_per_s;
results.ratios = Object.fromEntries(
  peers
    .filter((p) => typeof p.images_per_s === 'number' && typeof graftIps === 'number')
    .map((p) => [
      `graft_wasm_vs_${p.peer}_${p.backend ?? p.threads ?? ''}`,
      +(graftIps / p.images_per_s).toFixed(2),
    ]),
);

mkdirSync(join(here, 'results'), { recursive: true });
const json = JSON.stringify(results, null, 2);
writeFileSync(join(here, 'results', quick ? 'latest-quick.json' : 'latest.json'), `${json}\n`);
console.log(json);
void execFileSync;

import { access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Backbone,
  countParams,
  formatBackboneSummary,
  GraftError,
  initBackend,
  loadBackbone,
  loadGraftModel,
  type Param,
  pretrainedBackbone,
  summarizeBlocks,
} from '@graft/core';
import type { ExplainRow, FreezableModel } from '@graft/freeze';
import { multiTaskModel, regression } from '@graft/heads';
import type { TrainConfig } from '../config/trainConfig';
import { freezePolicy } from '../pipeline/model';

export interface InspectOptions {
  /** A model.json (path or http(s) URL), a run directory, or `shipped` (the backbone inside @graft/core). */
  model: string;
  /** `ruleOfThumb`, `headsOnly`, `all`, `bnOnly`, `fineTune`, `discriminative`, `lastBlocks:N`, `gradual:N`. */
  policy: string;
  /** Labelled examples the rule of thumb decides from. */
  labelled: number;
  /** List every layer too. */
  layers: boolean;
}

export interface InspectResult {
  source: string;
  input: readonly number[];
  output: readonly number[];
  params: number;
  blocks: ReturnType<typeof summarizeBlocks>;
  heads: {
    task: string;
    kind?: string;
    labels?: string[];
    thresholds?: number[];
    params: number;
  }[];
  layers?: {
    name: string;
    className: string;
    block: string;
    outputShape: number[];
    params: number;
  }[];
  policy: string;
  plan: Omit<ExplainRow, 'paramNames'>[];
  /** Human-readable tables. */
  text: string;
}

/** `lastBlocks:2` -> the config's `{ policy: 'lastBlocks', n: 2 }`. */
export function parsePolicy(text: string): TrainConfig['freeze'] {
  const [name, arg] = text.split(':');
  const n = arg === undefined ? Number.NaN : Number(arg);
  const bad = () =>
    new GraftError('INVALID_ARGUMENT', `Unknown freeze policy "${text}"`, {
      where: '--policy',
      hint: 'Use ruleOfThumb, headsOnly, all, bnOnly, fineTune, discriminative, lastBlocks:N or gradual:N.',
    });
  switch (name) {
    case 'ruleOfThumb':
    case 'headsOnly':
    case 'all':
    case 'bnOnly':
    case 'fineTune':
      if (arg !== undefined) throw bad();
      return name;
    case 'discriminative':
      return { policy: 'discriminative', decay: arg === undefined ? 0.7 : n };
    case 'lastBlocks':
      if (!(Number.isInteger(n) && n >= 0)) throw bad();
      return { policy: 'lastBlocks', n };
    case 'gradual':
      if (!(Number.isInteger(n) && n >= 1)) throw bad();
      return { policy: 'gradual', every: n };
    default:
      throw bad();
  }
}

/**
 * `graft inspect <model.json>`: the trunk block by block (layers, output shape, stride,
 * parameter counts), the heads of a graft model, and the freeze plan a policy would produce
 * for it — for a bare backbone, with one new head attached, as `graft train` would.
 */
export async function runInspect(options: InspectOptions): Promise<InspectResult> {
  const freeze = parsePolicy(options.policy);
  await initBackend({ backend: 'wasm' });
  const loaded = await load(options.model);
  try {
    const { trunk } = loaded;
    let freezable: FreezableModel = { params: loaded.params, blocks: trunk.blocks };
    let dispose = () => {};
    if (loaded.heads.length === 0) {
      const probe = multiTaskModel({
        backbone: trunk,
        tasks: { new_head: regression({ outputs: 1 }) },
      });
      freezable = probe;
      dispose = () => probe.dispose();
    }
    const tasks = loaded.heads.length > 0 ? loaded.heads.map((h) => h.task) : ['new_head'];
    const policy = freezePolicy(
      freeze,
      Object.fromEntries(tasks.map((t) => [t, options.labelled])),
    );
    let rows: ExplainRow[];
    let planName: string;
    try {
      const plan = policy.plan(freezable);
      rows = plan.explain();
      planName = plan.policy;
    } finally {
      dispose();
    }
    const heads = loaded.heads.map((h) => ({
      ...h,
      params: countParams(loaded.params.filter((p) => p.block === `head:${h.task}`)),
    }));
    const layers = options.layers
      ? trunk.nodes.map((n) => ({
          name: n.layer.name,
          className: n.layer.className,
          block: n.block,
          outputShape: [...n.outputShape],
          params: countParams(n.layer.params()),
        }))
      : undefined;
    const plan = rows.map(({ paramNames: _names, ...r }) => r);
    const text = [
      `${options.model}:`,
      formatBackboneSummary(trunk),
      ...(layers
        ? [
            '',
            table(
              ['layer', 'class', 'block', 'output', 'params'],
              layers.map((l) => [
                l.name,
                l.className,
                l.block,
                `[${l.outputShape.join(', ')}]`,
                l.params.toLocaleString('en-US'),
              ]),
            ),
          ]
        : []),
      '',
      heads.length > 0
        ? table(
            ['head', 'kind', 'outputs', 'thresholds', 'params'],
            heads.map((h) => [
              h.task,
              h.kind ?? '?',
              (h.labels ?? []).join(', '),
              h.thresholds ? h.thresholds.map((t) => t.toFixed(2)).join(', ') : '',
              h.params.toLocaleString('en-US'),
            ]),
          )
        : 'no heads (a bare backbone): the plan below is for it with one new head attached',
      '',
      `freeze plan: ${planName}${policy.name === 'ruleOfThumb' ? ` (${options.labelled} labelled examples; --labelled to change)` : ''}`,
      table(
        ['block', 'params', 'trainable', 'lr scale', 'why'],
        plan.map((r) => [
          r.block,
          r.params.toLocaleString('en-US'),
          r.trainable ? 'yes' : 'no',
          String(r.lrScale),
          r.reason,
        ]),
      ),
    ].join('\n');
    return {
      source: options.model,
      input: trunk.inputShape,
      output: trunk.outputShape,
      params: countParams(loaded.params),
      blocks: summarizeBlocks(trunk),
      heads,
      ...(layers ? { layers } : {}),
      policy: planName,
      plan,
      text,
    };
  } finally {
    loaded.dispose();
  }
}

interface Loaded {
  trunk: Backbone;
  params: readonly Param[];
  heads: { task: string; kind?: string; labels?: string[]; thresholds?: number[] }[];
  dispose(): void;
}

async function load(source: string): Promise<Loaded> {
  if (source === 'shipped') {
    const trunk = pretrainedBackbone();
    return { trunk, params: trunk.params, heads: [], dispose: () => trunk.dispose() };
  }
  if (/^https?:\/\//i.test(source)) {
    // A model.json served over HTTP: a backbone, as `backbone.source` in a config takes it.
    const trunk = await loadBackbone(source);
    return { trunk, params: trunk.params, heads: [], dispose: () => trunk.dispose() };
  }
  const path = source.endsWith('.json') ? source : join(source, 'model.json');
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new GraftError('MODEL_NOT_FOUND', `No model.json at ${path}`, {
      ...(path === source ? {} : { where: source }),
      hint: 'Pass a TF.js model.json (path or URL), a run directory, or `shipped`.',
    });
  }
  const sidecar = await access(join(path, '..', 'graft.json')).then(
    () => true,
    () => false,
  );
  if (sidecar) {
    const model = await loadGraftModel(path);
    return {
      trunk: model.trunk,
      params: model.params,
      heads: model.tasks.map((t) => ({
        task: t.name,
        ...(t.kind ? { kind: t.kind } : {}),
        ...(t.labels ? { labels: t.labels } : {}),
        ...(t.thresholds ? { thresholds: t.thresholds } : {}),
      })),
      dispose: () => model.dispose(),
    };
  }
  const trunk = await loadBackbone(path);
  return { trunk, params: trunk.params, heads: [], dispose: () => trunk.dispose() };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

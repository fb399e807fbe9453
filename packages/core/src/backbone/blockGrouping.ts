import { GraftError } from '../errors';

/**
 * How layers are grouped into blocks: by Keras naming conventions (`block_3_expand` ->
 * `block_3`), by the graph's residual and downsampling structure, or `auto` (names when a
 * known convention covers the model, else structure).
 *
 * @example
 * ```ts
 * const trunk = await loadBackbone('model.json', { blocks: 'names' }); // block_3_expand -> block_3
 * ```
 */
export type BlockGrouping = 'auto' | 'names' | 'structure';

/** What grouping needs to know about a layer, available before anything is built. */
export interface GroupingNode {
  readonly name: string;
  readonly inputs: readonly string[];
  /** Spatial stride > 1, and whether by pooling (ends a stage) or convolution (starts one). */
  readonly downsamples?: 'pool' | 'conv';
}

/**
 * Which block each layer of a loaded model belongs to, the blocks' order, and how they were
 * found.
 *
 * @example
 * ```ts
 * // loadBackbone groups layers into blocks; the result names the method it used.
 * const trunk = await loadBackbone('model.json', { blocks: 'structure' });
 * ```
 */
export interface BlockAssignment {
  /** Block names in order, input to output. */
  readonly order: readonly string[];
  readonly blockOf: ReadonlyMap<string, string>;
  /** How the blocks were found, e.g. `names (MobileNetV2: block_N)` or `structure`. */
  readonly method: string;
}

interface NamePattern {
  readonly description: string;
  readonly regex: RegExp;
  readonly key: (m: RegExpExecArray) => string;
  /** Block for layers before the first numbered block. */
  readonly head: string;
  /** Block for layers after the last numbered block. */
  readonly tail: string;
}

/**
 * Keras applications' naming conventions, most specific first. A convention applies when it
 * names at least half the layers, at least two blocks, each block one contiguous run.
 */
const NAME_PATTERNS: readonly NamePattern[] = [
  {
    // graft's built-in names match these, so a loaded Keras MobileNetV2 and mobileNetV2()
    // have the same blocks.
    description: 'MobileNetV2: block_N, expanded_conv = block_0',
    regex: /^(?:block_(\d+)|expanded_conv)_/,
    key: (m) => `block_${m[1] ?? 0}`,
    head: 'stem',
    tail: 'conv_head',
  },
  {
    description: 'MobileNet: conv_dw_N / conv_pw_N = block_N',
    regex: /^conv_(?:dw|pw|pad)_(\d+)(?:_|$)/,
    key: (m) => `block_${m[1]}`,
    head: 'stem',
    tail: 'top',
  },
  {
    description: 'ResNet / DenseNet: convS_blockN',
    regex: /^(conv\d+_block\d+)_/,
    key: (m) => m[1] as string,
    head: 'stem',
    tail: 'top',
  },
  {
    description: 'EfficientNet: blockNx',
    regex: /^(block\d+[a-z])_/,
    key: (m) => m[1] as string,
    head: 'stem',
    tail: 'top',
  },
  {
    description: 'VGG / Xception: blockN',
    regex: /^(block\d+)_/,
    key: (m) => m[1] as string,
    head: 'stem',
    tail: 'top',
  },
];

/** Groups layers (in execution order, the input excluded) into ordered blocks. */
export function groupIntoBlocks(
  nodes: readonly GroupingNode[],
  input: string,
  mode: BlockGrouping,
  where: string,
): BlockAssignment {
  if (mode !== 'structure') {
    for (const pattern of NAME_PATTERNS) {
      const byNames = groupByNames(nodes, pattern);
      if (byNames) return byNames;
    }
    if (mode === 'names') {
      throw new GraftError('INVALID_ARGUMENT', 'No known naming convention covers this model', {
        where,
        hint: `Known: ${NAME_PATTERNS.map((p) => p.description).join('; ')}. Use blocks: 'structure' or 'auto'.`,
      });
    }
  }
  return groupByStructure(nodes, input);
}

function groupByNames(
  nodes: readonly GroupingNode[],
  pattern: NamePattern,
): BlockAssignment | undefined {
  const keys = nodes.map((n) => {
    const m = pattern.regex.exec(n.name);
    return m ? pattern.key(m) : undefined;
  });
  const matched = keys.filter((k) => k !== undefined);
  if (matched.length * 2 < nodes.length || new Set(matched).size < 2) return undefined;
  let lastMatch = -1;
  keys.forEach((k, i) => {
    if (k !== undefined) lastMatch = i;
  });
  const order: string[] = [];
  const blockOf = new Map<string, string>();
  let current = pattern.head;
  for (const [i, node] of nodes.entries()) {
    const key = keys[i];
    if (key !== undefined && key !== current) {
      // A block that comes back after another has started is not a stage: no convention.
      if (order.includes(key)) return undefined;
      current = key;
    } else if (key === undefined && i > lastMatch) {
      current = pattern.tail;
    }
    if (order[order.length - 1] !== current) order.push(current);
    blockOf.set(node.name, current);
  }
  return { order, blockOf, method: `names (${pattern.description})` };
}

/**
 * Splits the graph at its cut points (layers whose output is, at that moment, the only
 * tensor later layers still need), so a residual or branching unit is never split. A block
 * ends after a unit that merges branches (a residual add, a squeeze-excite multiply, a
 * concatenation) and after a downsampling pooling layer; a strided convolution starts a new
 * block when the current one already downsamples. Blocks are named stage_0, stage_1, ...
 */
function groupByStructure(nodes: readonly GroupingNode[], input: string): BlockAssignment {
  const remaining = new Map<string, number>();
  for (const node of nodes) {
    for (const p of node.inputs) remaining.set(p, (remaining.get(p) ?? 0) + 1);
  }
  const units: GroupingNode[][] = [];
  let unit: GroupingNode[] = [];
  const live = new Set<string>([input]);
  for (const node of nodes) {
    unit.push(node);
    for (const p of node.inputs) {
      const left = (remaining.get(p) ?? 0) - 1;
      remaining.set(p, left);
      if (left === 0) live.delete(p);
    }
    live.add(node.name);
    if (live.size === 1) {
      units.push(unit);
      unit = [];
    }
  }
  if (unit.length > 0) units.push(unit);

  const blocks: GroupingNode[][] = [];
  let block: GroupingNode[] = [];
  let blockDownsamples = false;
  const close = () => {
    if (block.length > 0) blocks.push(block);
    block = [];
    blockDownsamples = false;
  };
  for (const u of units) {
    const convDownsample = u.some((n) => n.downsamples === 'conv');
    if (convDownsample && blockDownsamples) close();
    block.push(...u);
    if (u.some((n) => n.downsamples !== undefined)) blockDownsamples = true;
    const merges = u.some((n) => n.inputs.length > 1);
    const pools = u.some((n) => n.downsamples === 'pool');
    if (merges || pools) close();
  }
  close();
  const order = blocks.map((_, i) => `stage_${i}`);
  const blockOf = new Map<string, string>();
  blocks.forEach((b, i) => {
    for (const n of b) blockOf.set(n.name, `stage_${i}`);
  });
  return { order, blockOf, method: 'structure (residual units, downsampling)' };
}

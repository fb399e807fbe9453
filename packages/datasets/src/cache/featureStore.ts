import { GraftError } from '@graft/errors';
import { isNode } from '../image/environment';

/**
 * Computed trunk features, keyed by backbone identity and example id.
 *
 * @example
 * ```ts
 * const store: FeatureStore = memoryFeatureStore();
 * await store.has('mobilenetv2-0.35@64x64', 'scene-0'); // false until cached
 * ```
 */
export interface FeatureStore {
  readonly description: string;
  /** Feature shape stored for this backbone, or undefined when nothing is stored yet. */
  shape(backboneKey: string): Promise<readonly number[] | undefined>;
  has(backboneKey: string, id: string): Promise<boolean>;
  read(backboneKey: string, id: string): Promise<Float32Array | undefined>;
  /** Stores features for several examples (each of `shape`); ids already stored are kept. */
  write(backboneKey: string, shape: readonly number[], rows: readonly FeatureRow[]): Promise<void>;
}

/**
 * One cached example: its id and its trunk features.
 *
 * @example
 * ```ts
 * const row: FeatureRow = { id: 'scene-0', features: new Float32Array(1280) };
 * await store.write('mobilenetv2-0.35@64x64', [1280], [row]);
 * ```
 */
export interface FeatureRow {
  id: string;
  features: Float32Array;
}

function checkShape(
  backboneKey: string,
  stored: readonly number[] | undefined,
  shape: readonly number[],
  where: string,
): void {
  if (stored && (stored.length !== shape.length || stored.some((d, k) => d !== shape[k]))) {
    throw new GraftError(
      'FEATURE_CACHE_MISMATCH',
      `features of shape [${shape.join(', ')}] for backbone "${backboneKey}", which has [${stored.join(', ')}] stored`,
      {
        where,
        hint: 'Use a new backboneKey whenever the trunk, its weights, cut point or input size change.',
      },
    );
  }
}

/**
 * Features in memory: the fastest store, gone when the process ends.
 *
 * @example
 * ```ts
 * const cached = await cacheFeatures(data, { backboneKey, features, store: memoryFeatureStore() });
 * ```
 */
export function memoryFeatureStore(): FeatureStore {
  const byKey = new Map<string, { shape: readonly number[]; rows: Map<string, Float32Array> }>();
  return {
    description: 'memory',
    shape: async (key) => byKey.get(key)?.shape,
    has: async (key, id) => byKey.get(key)?.rows.has(id) ?? false,
    read: async (key, id) => byKey.get(key)?.rows.get(id),
    async write(key, shape, rows) {
      let entry = byKey.get(key);
      checkShape(key, entry?.shape, shape, 'memoryFeatureStore');
      if (!entry) {
        entry = { shape: [...shape], rows: new Map() };
        byKey.set(key, entry);
      }
      for (const r of rows) if (!entry.rows.has(r.id)) entry.rows.set(r.id, r.features);
    },
  };
}

interface DiskEntry {
  folder: string;
  shape: readonly number[];
  rowOf: Map<string, number>;
}

/**
 * Features on disk (Node), kept across runs: one folder per backbone key under `dir`, with
 * `features.f32` (rows appended, little-endian float32) and `index.json` (key, shape, ids in
 * row order). Rows are read on demand, so the cache can be larger than memory.
 *
 * @example
 * ```ts
 * const store = diskFeatureStore('.graft-cache'); // kept across runs (Node)
 * const cached = await cacheFeatures(data, { backboneKey, features, store });
 * ```
 */
export function diskFeatureStore(dir: string): FeatureStore {
  if (!isNode()) {
    throw new GraftError('INVALID_ARGUMENT', 'diskFeatureStore needs a file system (Node)', {
      where: dir,
      hint: 'Use memoryFeatureStore() in the browser.',
    });
  }
  const entries = new Map<string, Promise<DiskEntry | undefined>>();
  const folderOf = (key: string) => `${dir}/${slug(key)}-${hash(key)}`;
  const load = (key: string): Promise<DiskEntry | undefined> => {
    let entry = entries.get(key);
    if (!entry) {
      entry = (async () => {
        const fs = await import('node:fs/promises');
        const folder = folderOf(key);
        try {
          const index = JSON.parse(await fs.readFile(`${folder}/index.json`, 'utf8')) as {
            backboneKey: string;
            shape: number[];
            ids: string[];
          };
          return {
            folder,
            shape: index.shape,
            rowOf: new Map(index.ids.map((id, row) => [id, row])),
          };
        } catch {
          return undefined;
        }
      })();
      entries.set(key, entry);
    }
    return entry;
  };
  const rowBytes = (shape: readonly number[]) => 4 * shape.reduce((a, b) => a * b, 1);
  return {
    description: `disk ${dir}`,
    shape: async (key) => (await load(key))?.shape,
    has: async (key, id) => (await load(key))?.rowOf.has(id) ?? false,
    async read(key, id) {
      const entry = await load(key);
      const row = entry?.rowOf.get(id);
      if (!entry || row === undefined) return undefined;
      const fs = await import('node:fs/promises');
      const n = rowBytes(entry.shape);
      const bytes = new Uint8Array(n);
      const handle = await fs.open(`${entry.folder}/features.f32`, 'r');
      try {
        await handle.read(bytes, 0, n, row * n);
      } finally {
        await handle.close();
      }
      return new Float32Array(bytes.buffer);
    },
    async write(key, shape, rows) {
      const fs = await import('node:fs/promises');
      let entry = await load(key);
      checkShape(key, entry?.shape, shape, `diskFeatureStore ${dir}`);
      if (!entry) {
        entry = { folder: folderOf(key), shape: [...shape], rowOf: new Map() };
        entries.set(key, Promise.resolve(entry));
        await fs.mkdir(entry.folder, { recursive: true });
        await fs.writeFile(`${entry.folder}/features.f32`, new Uint8Array(0));
      }
      const fresh = rows.filter((r) => !entry.rowOf.has(r.id));
      if (fresh.length === 0) return;
      const n = rowBytes(shape);
      const buffer = new Uint8Array(n * fresh.length);
      fresh.forEach((r, k) => {
        buffer.set(new Uint8Array(r.features.buffer, r.features.byteOffset, n), k * n);
        entry.rowOf.set(r.id, entry.rowOf.size);
      });
      await fs.appendFile(`${entry.folder}/features.f32`, buffer);
      // The index is replaced whole (write then rename), so a crash never leaves it half-written.
      const index = { backboneKey: key, shape, ids: [...entry.rowOf.keys()] };
      await fs.writeFile(`${entry.folder}/index.json.tmp`, JSON.stringify(index));
      await fs.rename(`${entry.folder}/index.json.tmp`, `${entry.folder}/index.json`);
    },
  };
}

function slug(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 48);
}

/** FNV-1a, 32 bits: tells apart keys whose slugs collide. */
function hash(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

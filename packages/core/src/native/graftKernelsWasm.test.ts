import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeBase64 } from './decodeBase64';
import {
  GRAFT_KERNELS_WASM_BASE64,
  GRAFT_KERNELS_WASM_SOURCES_SHA256,
} from './graftKernelsWasm.generated';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The same hash scripts/build-native.mjs records (kept in step with it by hand: the script is
 * plain JS run without a TypeScript loader): sha256 over "path\0content\0" for native/*.c and
 * native/*.h in name order, then scripts/build-native.mjs, with CRLF read as LF.
 */
function hashNativeSources(): string {
  const files = [
    ...readdirSync(join(packageDir, 'native'))
      .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
      .sort()
      .map((f) => `native/${f}`),
    'scripts/build-native.mjs',
  ];
  const hash = createHash('sha256');
  for (const file of files) {
    const text = readFileSync(join(packageDir, file), 'utf8').replace(/\r\n/g, '\n');
    hash.update(`${file}\0${text}\0`);
  }
  return hash.digest('hex');
}

/** Ids of a WebAssembly binary's top-level sections. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < bytes.length) {
    ids.push(bytes[at++] as number);
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[at++] as number;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    at += size;
  }
  return ids;
}

describe('the committed kernel module (src/native/graftKernelsWasm.generated.ts)', () => {
  it('was built from the current native/*.c sources and build script', () => {
    // If this fails: run `node scripts/build-native.mjs` in packages/core (needs clang) and
    // commit the regenerated file together with the source change.
    expect(GRAFT_KERNELS_WASM_SOURCES_SHA256).toBe(hashNativeSources());
  });

  it('decodes to a valid module that imports only its memory and has no data segment', () => {
    const bytes = decodeBase64(GRAFT_KERNELS_WASM_BASE64);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 0x61, 0x73, 0x6d]); // "\0asm"
    const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    // The memory is tfjs's heap in zero-copy mode: the module must write nowhere it is not
    // told to, so no data segment (section 11, data count 12). scripts/build-native.mjs
    // also checks that no code uses a shadow stack.
    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: 'env', name: 'memory', kind: 'memory' },
    ]);
    expect(sectionIds(bytes)).not.toContain(11);
    expect(sectionIds(bytes)).not.toContain(12);
    const exports = WebAssembly.Module.exports(module);
    expect(exports.map((e) => e.name)).toEqual(
      expect.arrayContaining(['depthwise_filter_grad', 'adam_update', 'sum_squares']),
    );
    expect(exports.every((e) => e.kind === 'function')).toBe(true);
  });
});

describe('decodeBase64', () => {
  it('agrees with Node Buffer on every byte value and padding length', () => {
    for (const n of [0, 1, 2, 3, 256, 1001]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) % 256);
      const encoded = Buffer.from(bytes).toString('base64');
      expect(Array.from(decodeBase64(encoded))).toEqual(Array.from(bytes));
    }
  });
});

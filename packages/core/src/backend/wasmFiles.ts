import { GraftError } from '../errors';

/** The three binaries tfjs-backend-wasm 4.22 may load, by capability. */
export const WASM_FILE_NAMES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * Finds the folder holding tfjs-backend-wasm's `.wasm` files in Node by asking the module
 * resolver where the package is, so it works from a workspace, a hoisted install, a nested
 * install and an `npm pack` tarball alike. Returns a prefix ending in a path separator.
 */
export async function resolveNodeWasmDir(explicit?: string): Promise<string> {
  const { existsSync } = await import('node:fs');
  const path = await import('node:path');
  const { createRequire } = await import('node:module');
  let dir: string;
  let source: string;
  if (explicit !== undefined) {
    dir = explicit.startsWith('file://') ? new URL(explicit).pathname : explicit;
    source = 'the wasmPaths option';
  } else {
    const require = createRequire(import.meta.url);
    let pkgJson: string;
    try {
      pkgJson = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
    } catch (cause) {
      throw new GraftError('WASM_FILES_NOT_FOUND', 'Cannot find @tensorflow/tfjs-backend-wasm', {
        where: `resolved from ${import.meta.url}`,
        hint: 'Reinstall @graft/core (npm install @graft/core); it depends on that package.',
        cause,
      });
    }
    dir = path.join(path.dirname(pkgJson), 'dist');
    source = 'the installed @tensorflow/tfjs-backend-wasm package';
  }
  const missing = WASM_FILE_NAMES.slice(0, 2).filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new GraftError(
      'WASM_FILES_NOT_FOUND',
      `WebAssembly files missing: ${missing.join(', ')}`,
      {
        where: `${dir} (from ${source})`,
        hint:
          explicit !== undefined
            ? 'Point wasmPaths at the dist/ folder of @tensorflow/tfjs-backend-wasm, or omit it to let graft find the files.'
            : 'The install looks incomplete; reinstall @tensorflow/tfjs-backend-wasm, or pass wasmPaths.',
      },
    );
  }
  return dir.endsWith(path.sep) ? dir : dir + path.sep;
}

// Compiles graft's hand-written WebAssembly SIMD kernels (native/*.c) with clang and writes
// src/native/graftKernelsWasm.generated.ts: the module as base64 plus the sha256 of the inputs
// it was built from. The generated file is committed, because a user's machine has no clang;
// src/native/graftKernelsWasm.test.ts recomputes the hash and fails when the artifact is stale.
//
//   node scripts/build-native.mjs          (from packages/core; needs clang >= 14 and wasm-ld)
//
// The hash covers native/*.c, native/*.h and this script (it holds the compiler flags), read
// with CRLF normalised to LF so that a Windows checkout hashes the same.
//
// The module IMPORTS its memory (env.memory): src/native/nativeKernels.ts passes either a
// memory of its own or tfjs-backend-wasm's heap itself, so that the kernels read and write
// tensors where tfjs keeps them (no copies). In tfjs's heap the module may only touch the
// bytes it is given pointers to, so this script refuses a module that could write anywhere
// else: one with a data segment (initialised static data, written at instantiation) or one
// whose code uses a shadow stack (`__stack_pointer`: stack frames at a fixed address that
// belongs to tfjs's malloc). See checkObject and checkModule.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(packageDir, 'src/native/graftKernelsWasm.generated.ts');

// Functions the runtime (src/native/nativeKernels.ts) calls; the build fails if one is missing.
const EXPORTS = [
  'batch_norm_apply',
  'batch_norm_grad_dx',
  'batch_norm_grad_sums',
  'batch_norm_sums',
  'compact_channels',
  'depthwise_filter_grad',
  'depthwise_input_grad',
  'depthwise_input_grad_extract',
  'expand_channels',
  'pad_channels',
  'pad_images',
  'pointwise_filter_grad',
  'pointwise_matmul',
  'transpose_matrix',
  'sum_squares',
  'adam_update',
  'sgd_update',
  'unsorted_segment_sum',
];

const CLANG_FLAGS = [
  '--target=wasm32',
  '-msimd128',
  // memset/memcpy become memory.fill/memory.copy: there is no libc to provide them.
  '-mbulk-memory',
  '-O3',
  '-ffreestanding',
  '-nostdlib',
  '-Wall',
  '-Wextra',
  '-Werror',
];

/** Link flags on top of CLANG_FLAGS. */
const LINK_FLAGS = [
  '-Wl,--no-entry',
  '-Wl,--strip-all',
  // The memory comes from the caller (env.memory); the module declares a minimum of one page
  // and no maximum, so both a small memory of graft's own and tfjs's heap fit.
  '-Wl,--import-memory',
  '-Wl,--initial-memory=65536',
  // No code may use a stack (checkObject), so reserve none.
  '-Wl,-z,stack-size=0',
];

/** Files whose content decides the artifact, relative to packages/core, in hashing order. */
function hashedFiles() {
  const native = readdirSync(join(packageDir, 'native'))
    .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
    .sort()
    .map((f) => `native/${f}`);
  return [...native, 'scripts/build-native.mjs'];
}

/** sha256 over "path\0content\0" for every hashed file (content with CRLF -> LF). */
function hashSources(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    const text = readFileSync(join(packageDir, file), 'utf8').replace(/\r\n/g, '\n');
    hash.update(`${file}\0${text}\0`);
  }
  return hash.digest('hex');
}

function compile(cFiles) {
  const dir = mkdtempSync(join(tmpdir(), 'graft-native-'));
  const wasmPath = join(dir, 'graft-kernels.wasm');
  const clang = (args) => {
    try {
      execFileSync(process.env.CLANG ?? 'clang', args, { stdio: 'inherit' });
    } catch (cause) {
      throw new Error(
        'clang failed (see above). Building native/*.c needs clang >= 14 with the wasm32 ' +
          'target and wasm-ld (Debian: apt-get install clang lld); set CLANG to pick a binary.',
        { cause },
      );
    }
  };
  try {
    // Each file to an object first, so that checkObject can see what its code references.
    const objects = cFiles.map((f, i) => {
      const object = join(dir, `${i}.o`);
      clang([...CLANG_FLAGS, '-c', '-o', object, join(packageDir, f)]);
      checkObject(f, readFileSync(object));
      return object;
    });
    clang([
      ...CLANG_FLAGS,
      ...LINK_FLAGS,
      ...EXPORTS.map((e) => `-Wl,--export=${e}`),
      '-o',
      wasmPath,
      ...objects,
    ]);
    return readFileSync(wasmPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A relocatable object imports every symbol its code uses and does not define: the stack
 * pointer as the global env.__stack_pointer (clang spills to a shadow stack only when it must,
 * e.g. for a local array), libc functions as functions. Only the linear memory and the function
 * table (always listed) may be imported.
 */
function checkObject(file, bytes) {
  const allowed = new Set(['__linear_memory', '__indirect_function_table']);
  const used = WebAssembly.Module.imports(new WebAssembly.Module(bytes))
    .filter((i) => !allowed.has(i.name))
    .map((i) => `${i.module}.${i.name} (${i.kind})`);
  if (used.length > 0) {
    throw new Error(
      `${file} references ${used.join(', ')}. The kernels run inside tfjs's heap and must not ` +
        'use a shadow stack (no local arrays or anything else clang spills to memory) or ' +
        'call library functions.',
    );
  }
}

/** Ids of the top-level sections of a WebAssembly binary, in order. */
function sectionIds(bytes) {
  const ids = [];
  let at = 8; // "\0asm" and the version
  while (at < bytes.length) {
    ids.push(bytes[at++]);
    let size = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[at++];
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    at += size;
  }
  return ids;
}

const DATA_SECTION = 11;
const DATA_COUNT_SECTION = 12;

/**
 * The linked module: imports exactly env.memory, has no data segment (nothing is written at
 * instantiation), exports the kernels and nothing but functions. (wasm-ld still defines an
 * __stack_pointer global, unexported; checkObject showed that no code uses it.)
 */
function checkModule(bytes) {
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module);
  const importText = imports.map((i) => `${i.module}.${i.name} (${i.kind})`).join(', ');
  if (importText !== 'env.memory (memory)') {
    throw new Error(`The kernel module must import only env.memory, it imports ${importText}`);
  }
  const sections = sectionIds(bytes);
  if (sections.includes(DATA_SECTION) || sections.includes(DATA_COUNT_SECTION)) {
    throw new Error(
      'The kernel module has a data segment (static data): instantiating it would write into ' +
        "tfjs's heap. Keep constants in code (no static arrays or string literals).",
    );
  }
  const exports = WebAssembly.Module.exports(module);
  const exported = new Set(exports.map((e) => e.name));
  for (const name of EXPORTS) {
    if (!exported.has(name)) throw new Error(`The kernel module does not export ${name}`);
  }
  const other = exports.filter((e) => e.kind !== 'function').map((e) => e.name);
  if (other.length > 0) throw new Error(`The kernel module exports non-functions: ${other}`);
}

const files = hashedFiles();
const bytes = compile(files.filter((f) => f.endsWith('.c')));
checkModule(bytes);
const sha256 = hashSources(files);
writeFileSync(
  outFile,
  `// Generated by scripts/build-native.mjs from ${files.join(', ')}. Do not edit.
// Rebuild with \`node scripts/build-native.mjs\` in packages/core after changing any of them.

/** graft's WebAssembly SIMD kernel module (${bytes.length} bytes), base64. */
export const GRAFT_KERNELS_WASM_BASE64 =
  '${bytes.toString('base64')}';

/** sha256 of the files the module was built from; see scripts/build-native.mjs. */
export const GRAFT_KERNELS_WASM_SOURCES_SHA256 = '${sha256}';
`,
);
console.log(`wrote ${outFile}: ${bytes.length} bytes of wasm, sources sha256 ${sha256}`);

import type * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';
import { decodeBase64 } from './decodeBase64';
import { GRAFT_KERNELS_WASM_BASE64 } from './graftKernelsWasm.generated';

/**
 * The C functions of native/*.c. Pointer arguments are byte offsets into the memory the
 * instance was given (see {@link NativeKernels}); sizes are element counts.
 */
export interface GraftKernelExports {
  /** Adds the filter gradient of `batch` images to acc ([kh*kw][round_up4(d)]). */
  depthwise_filter_grad(
    xp: number,
    dy: number,
    acc: number,
    batch: number,
    hp: number,
    wp: number,
    oh: number,
    ow: number,
    d: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dilH: number,
    dilW: number,
  ): void;
  /** Zeroes dxp and scatters the input gradient of `batch` images into it. */
  depthwise_input_grad(
    dy: number,
    wpad: number,
    dxp: number,
    batch: number,
    hp: number,
    wp: number,
    oh: number,
    ow: number,
    d: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dilH: number,
    dilW: number,
  ): void;
  /** Copies dxp's unpadded interior to dx, summing over the channel multiplier. */
  depthwise_input_grad_extract(
    dxp: number,
    dx: number,
    batch: number,
    h: number,
    w: number,
    hp: number,
    wp: number,
    padTop: number,
    padLeft: number,
    c: number,
    m: number,
  ): void;
  /** Repeats each of c channels m times: [pixels][c] -> [pixels][c*m]. */
  expand_channels(src: number, dst: number, pixels: number, c: number, m: number): void;
  /** [rows][d] -> [rows][round_up4(d)] with zeros in the padding lanes. */
  pad_channels(src: number, dst: number, rows: number, d: number): void;
  /** [rows][round_up4(d)] -> [rows][d]. */
  compact_channels(src: number, dst: number, rows: number, d: number): void;
  /** Adds sum(x - k) and sum((x - k)^2) per channel of [rows][c] to acc (2 * round_up4(c)). */
  batch_norm_sums(x: number, k: number, acc: number, rows: number, c: number): void;
  /** y = act((x - mean) * scale + beta); act 0 none, 1 clip to [0, hi]. y may be x. */
  batch_norm_apply(
    x: number,
    y: number,
    rows: number,
    c: number,
    mean: number,
    scale: number,
    beta: number,
    act: number,
    hi: number,
  ): void;
  /** Adds [sum(g) | sum(g * (x - mean))] (each round_up4(c) floats) to sums; g = dy * act'(z). */
  batch_norm_grad_sums(
    dy: number,
    x: number,
    sums: number,
    rows: number,
    c: number,
    mean: number,
    scale: number,
    beta: number,
    act: number,
    hi: number,
  ): void;
  /** dx = g * scale + (x - mean) * k1 + k0; dx may be dy. */
  batch_norm_grad_dx(
    dy: number,
    x: number,
    dx: number,
    rows: number,
    c: number,
    mean: number,
    scale: number,
    beta: number,
    k1: number,
    k0: number,
    act: number,
    hi: number,
  ): void;
  /** Copies NHWC images into [batch][hp][wp][c] at (padTop, padLeft), zeros around them. */
  pad_images(
    src: number,
    dst: number,
    batch: number,
    h: number,
    w: number,
    c: number,
    hp: number,
    wp: number,
    padTop: number,
    padLeft: number,
  ): void;
  /** dw [cin][cout] = x [n][cin]ᵀ · dy [n][cout], the filter gradient of a 1x1 convolution. */
  pointwise_filter_grad(
    x: number,
    dy: number,
    dw: number,
    n: number,
    cin: number,
    cout: number,
  ): void;
  /** y [n][m] = x [n][k] · w [k][m], the product of a 1x1 convolution (w read unpacked). */
  pointwise_matmul(x: number, w: number, y: number, n: number, k: number, m: number): void;
  /** t [cols][rows] = aᵀ for a [rows][cols]. */
  transpose_matrix(a: number, t: number, rows: number, cols: number): void;
  /** sum(x[i]^2) over n floats, in float64. */
  sum_squares(x: number, n: number): number;
  /** The Adam update of n floats (optimizerStepKernel.ts's updateAdam, same bits). */
  adam_update(
    p: number,
    g: number,
    m: number,
    v: number,
    pOut: number,
    mOut: number,
    vOut: number,
    n: number,
    clip: number,
    lr: number,
    l2: number,
    keep: number,
    beta1: number,
    beta2: number,
    keep1: number,
    keep2: number,
    unbias1: number,
    unbias2: number,
    epsilon: number,
  ): void;
  /** The SGD update of n floats (updateSgd, same bits); vel is read only with hasVelocity. */
  sgd_update(
    p: number,
    g: number,
    vel: number,
    pOut: number,
    velOut: number,
    n: number,
    clip: number,
    lr: number,
    l2: number,
    keep: number,
    hasVelocity: number,
    momentum: number,
    nesterov: number,
  ): void;
  unsorted_segment_sum(
    x: number,
    ids: number,
    out: number,
    rows: number,
    inner: number,
    segments: number,
  ): void;
}

const FUNCTION_NAMES: readonly (keyof GraftKernelExports)[] = [
  'batch_norm_sums',
  'batch_norm_apply',
  'batch_norm_grad_sums',
  'batch_norm_grad_dx',
  'depthwise_filter_grad',
  'depthwise_input_grad',
  'depthwise_input_grad_extract',
  'expand_channels',
  'pad_channels',
  'compact_channels',
  'pad_images',
  'pointwise_filter_grad',
  'pointwise_matmul',
  'transpose_matrix',
  'sum_squares',
  'adam_update',
  'sgd_update',
  'unsorted_segment_sum',
];

/** Buffers start on cache lines; 64 bytes of slack after each absorb the kernels' 4-float
 * tail reads past the last pixel (see native/*.c). */
const ALIGN_BYTES = 64;
const SLACK_BYTES = 64;
const PAGE_BYTES = 65536;

/** The float data of a tensor on the wasm backend, as a typed view of tfjs's heap. */
type HeapView = Float32Array | Int32Array | Uint8Array;

/**
 * What graft uses of tfjs-backend-wasm's BackendWasm (4.22): the tensor views, and for
 * zero-copy mode a tensor's byte address (`dataIdMap`, what `typedArrayFromHeap` reads) and
 * the Emscripten module's memory and malloc.
 */
export interface WasmBackendInternals {
  typedArrayFromHeap(info: { dataId: object }): HeapView;
  dataIdMap?: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm?: {
    asm?: { memory?: unknown };
    _malloc?: (bytes: number) => number;
    _free?: (address: number) => void;
  };
}

/** Where one tensor's data is for a C call, see {@link NativeKernels.input}. */
export interface Placement {
  /** A scratch buffer to copy through; without one the tensor is used in place (zero-copy
   * mode only). */
  staging?: number;
  /** First element and element count of the range the call needs (default: all). */
  first?: number;
  count?: number;
  /** The staging copy's element type (int32 data converts to float32 in an f32 copy). */
  as?: 'f32' | 'i32';
}

/** Scratch memory: a region of at least `bytes` bytes, `where` naming the kernel for errors. */
interface ScratchSpace {
  reserve(bytes: number, where: string): number;
}

/**
 * graft's kernel module, instantiated over one memory, in one of two modes:
 *
 * - own memory (`zeroCopy` false): the module has a WebAssembly.Memory of its own. Tensors
 *   are copied into scratch buffers there and results copied back. This is what tfjs's
 *   threaded build needs (its heap is a shared memory the module cannot import as declared)
 *   and what runs before a backend exists.
 * - zero-copy (`zeroCopy` true): the module was instantiated with tfjs's own heap, so C reads
 *   inputs and writes outputs at the tensors' addresses, and scratch is one block from tfjs's
 *   `_malloc`. The module cannot corrupt tfjs's heap: scripts/build-native.mjs guarantees it
 *   has no data segment and no stack, so it writes only through the pointers it is given.
 *
 * A kernelFunc writes one code path for both: it asks {@link input} / {@link output} for the
 * address of each tensor (passing a staging buffer from {@link scratch} when not zero-copy)
 * and calls {@link flush} for each output when the C calls are done.
 */
export class NativeKernels {
  readonly fns: GraftKernelExports;
  /** Tensors are read and written in place in tfjs's heap. */
  readonly zeroCopy: boolean;
  private readonly memory: WebAssembly.Memory;
  private readonly space: ScratchSpace;
  private f32View: Float32Array;
  private i32View: Int32Array;

  constructor(
    instance: WebAssembly.Instance,
    memory: WebAssembly.Memory,
    space: ScratchSpace,
    zeroCopy: boolean,
  ) {
    const exports = instance.exports;
    for (const name of FUNCTION_NAMES) {
      if (typeof exports[name] !== 'function') {
        throw new Error(`graft kernel module lacks the function ${name}`);
      }
    }
    this.fns = exports as unknown as GraftKernelExports;
    this.memory = memory;
    this.space = space;
    this.zeroCopy = zeroCopy;
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
  }

  /**
   * Lays out one scratch buffer per entry of `elementCounts` (4-byte elements: float32 or
   * int32) and returns their byte offsets. Buffers are valid until the next call to
   * `scratch`; views from {@link f32} / {@link i32} must be re-read after it, because growing
   * the memory detaches the old ArrayBuffer. A count of 0 still gets an (unused) offset.
   */
  scratch(elementCounts: readonly number[], where: string): number[] {
    const offsets: number[] = [];
    let end = 0;
    for (const count of elementCounts) {
      offsets.push(end);
      end = alignUp(end + count * 4 + SLACK_BYTES, ALIGN_BYTES);
    }
    const base = this.space.reserve(end, where);
    return offsets.map((o) => base + o);
  }

  /**
   * The address C should read `info` (or the range `first`, `count` of it) at. With a
   * `staging` buffer the data is copied there (converting to `as`); without one the tensor's
   * own address in tfjs's heap (zero-copy mode only: C must then not read past the range).
   */
  input(backend: unknown, info: tf.TensorInfo, placement: Placement = {}): number {
    const { staging, first = 0, as = 'f32' } = placement;
    if (staging === undefined) return this.tensorAddress(backend, info) + first * 4;
    const data = (backend as WasmBackendInternals).typedArrayFromHeap(info);
    const count = placement.count ?? data.length - first;
    // Read the heap view after any scratch growth (it detaches the previous one).
    (as === 'f32' ? this.f32 : this.i32).set(data.subarray(first, first + count), staging / 4);
    return staging;
  }

  /**
   * The address C should write `info`'s range to: the tensor itself in zero-copy mode
   * without `staging`, else the staging buffer ({@link flush} copies it out).
   */
  output(backend: unknown, info: tf.TensorInfo, placement: Placement = {}): number {
    const { staging, first = 0 } = placement;
    if (staging === undefined) return this.tensorAddress(backend, info) + first * 4;
    return staging;
  }

  /** Copies a staged output range into the tensor; nothing to do without staging. */
  flush(backend: unknown, info: tf.TensorInfo, placement: Placement = {}): void {
    const { staging, first = 0 } = placement;
    if (staging === undefined) return;
    const target = (backend as WasmBackendInternals).typedArrayFromHeap(info) as Float32Array;
    const count = placement.count ?? target.length - first;
    target.set(this.f32.subarray(staging / 4, staging / 4 + count), first);
  }

  /** The byte address of a tensor's data in tfjs's heap, which is this module's memory. */
  private tensorAddress(backend: unknown, info: tf.TensorInfo): number {
    if (!this.zeroCopy) {
      throw new Error('graft kernel: a tensor can be used in place only in zero-copy mode');
    }
    const data = (backend as WasmBackendInternals).dataIdMap?.get(info.dataId);
    if (!data) throw new Error('graft kernel: tensor data not found on the wasm backend');
    return data.memoryOffset;
  }

  /** Float32 view of the whole memory (current after any growth). */
  get f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) {
      this.f32View = new Float32Array(this.memory.buffer);
    }
    return this.f32View;
  }

  /** Int32 view of the whole memory (current after any growth). */
  get i32(): Int32Array {
    if (this.i32View.buffer !== this.memory.buffer) {
      this.i32View = new Int32Array(this.memory.buffer);
    }
    return this.i32View;
  }

  /** Bytes the memory spans now (it never shrinks). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * Own-memory scratch: laid out from the start of the module's memory (the module has no
 * static data and no stack, so all of it is free; the first cache line is left unused so
 * that no buffer sits at address 0), growing the memory when a call needs more than any
 * before it.
 */
function ownMemorySpace(memory: WebAssembly.Memory): ScratchSpace {
  return {
    reserve(bytes, where) {
      const end = ALIGN_BYTES + bytes;
      const have = memory.buffer.byteLength;
      if (end > have) {
        try {
          memory.grow(Math.ceil((end - have) / PAGE_BYTES));
        } catch (cause) {
          throw outOfMemory(end, where, cause);
        }
      }
      return ALIGN_BYTES;
    },
  };
}

/**
 * Zero-copy scratch: one block from tfjs's `_malloc`, kept across calls and replaced by a
 * larger one (with a quarter to spare) when a call needs more. `_malloc` may grow tfjs's
 * memory, which detaches every view of it: callers re-read views after `scratch`.
 */
function mallocSpace(malloc: (bytes: number) => number, free: (p: number) => void): ScratchSpace {
  let block = 0;
  let blockBytes = 0;
  return {
    reserve(bytes, where) {
      if (bytes + ALIGN_BYTES > blockBytes) {
        if (block !== 0) free(block);
        block = 0;
        blockBytes = 0;
        const want = Math.ceil(bytes * 1.25) + ALIGN_BYTES;
        const address = malloc(want) >>> 0;
        if (address === 0) throw outOfMemory(want, where, undefined);
        block = address;
        blockBytes = want;
      }
      return alignUp(block, ALIGN_BYTES);
    },
  };
}

function outOfMemory(bytes: number, where: string, cause: unknown): GraftError {
  return new GraftError(
    'KERNEL_BAD_INPUT',
    `The kernel needs ${Math.ceil(bytes / 2 ** 20)} MiB of WebAssembly memory, more than this runtime provides`,
    { where, hint: 'Use a smaller batch or image size.', cause },
  );
}

/** The compiled module and its own-memory instance, once {@link loadNativeKernels} is done. */
let loaded: { module: WebAssembly.Module; own: NativeKernels } | undefined;
let loading: Promise<unknown> | undefined;

/**
 * Compiles graft's WebAssembly SIMD kernels and instantiates them over a memory of their own,
 * once; later calls return at once. Asynchronous because browsers refuse to compile modules
 * over 4 KB synchronously on the main thread (the zero-copy instance made later from the
 * compiled module is synchronous, which is allowed for any size). Failures are plain Errors
 * (not GraftErrors) so that `initBackend` treats them like any other WebAssembly start-up
 * failure and falls back to cpu.
 */
export async function loadNativeKernels(): Promise<void> {
  if (loaded) return;
  if (typeof WebAssembly === 'undefined') throw new Error('WebAssembly is not available');
  loading ??= instantiate().then(
    (result) => {
      loaded = result;
    },
    (cause: unknown) => {
      loading = undefined; // let a later call retry
      throw cause;
    },
  );
  await loading;
}

async function instantiate(): Promise<{ module: WebAssembly.Module; own: NativeKernels }> {
  const bytes = decodeBase64(GRAFT_KERNELS_WASM_BASE64);
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return { module, own: new NativeKernels(instance, memory, ownMemorySpace(memory), false) };
}

/** 'auto': zero-copy where possible; 'own': always the own-memory instance. */
export type NativeMemoryMode = 'auto' | 'own';
let memoryMode: NativeMemoryMode = 'auto';

/**
 * Chooses how kernels reach tensors; for tests, which run every kernel both ways (and for
 * comparing the two). 'own' also makes GraftOptimizerStep use its JavaScript loops.
 */
export function setNativeMemoryMode(mode: NativeMemoryMode): void {
  memoryMode = mode;
}

/** Zero-copy instances, one per tfjs heap (the backend's memory outlives no backend). */
const zeroCopyInstances = new WeakMap<WebAssembly.Memory, NativeKernels>();

/**
 * The zero-copy instance for a wasm backend, created on the first kernel call that passes
 * the backend (a backend exists only after `initBackend` loaded the module, so this cannot
 * happen at load time), or undefined when the backend cannot share its heap: tfjs's threaded
 * build (a shared memory), or a tfjs whose internals differ from 4.22's.
 */
function zeroCopyKernels(backend: unknown): NativeKernels | undefined {
  if (!loaded || memoryMode !== 'auto') return undefined;
  const { wasm, dataIdMap } = backend as WasmBackendInternals;
  const memory = wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || dataIdMap === undefined) return undefined;
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) {
    return undefined;
  }
  const { _malloc: malloc, _free: free } = wasm ?? {};
  if (typeof malloc !== 'function' || typeof free !== 'function') return undefined;
  let kernels = zeroCopyInstances.get(memory);
  if (!kernels) {
    const instance = new WebAssembly.Instance(loaded.module, { env: { memory } });
    kernels = new NativeKernels(instance, memory, mallocSpace(malloc, free), true);
    zeroCopyInstances.set(memory, kernels);
  }
  return kernels;
}

/**
 * The loaded kernels, for kernelFuncs (which tfjs calls synchronously): with the kernel's
 * `backend`, the zero-copy instance where that backend allows it, else (and without a
 * backend) the own-memory instance. Throws a GraftError when {@link loadNativeKernels} has
 * not finished, naming the kernel that needed them.
 */
export function nativeKernels(kernelName: string, backend?: unknown): NativeKernels {
  if (loaded) {
    return (backend === undefined ? undefined : zeroCopyKernels(backend)) ?? loaded.own;
  }
  throw new GraftError('KERNELS_NOT_LOADED', "graft's WebAssembly kernels are not loaded", {
    where: kernelName,
    hint: 'Call `await initBackend()` (or `await loadNativeKernels()`) before running ops on wasm.',
  });
}

/**
 * The zero-copy instance for `backend` if the kernels are loaded and it can share tfjs's heap
 * (see {@link nativeKernels}), else undefined: for a kernel with a JavaScript fallback.
 */
export function zeroCopyNativeKernels(backend: unknown): NativeKernels | undefined {
  return zeroCopyKernels(backend);
}

/** True once {@link loadNativeKernels} has succeeded. */
export function nativeKernelsLoaded(): boolean {
  return loaded !== undefined;
}

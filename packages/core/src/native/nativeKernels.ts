import { GraftError } from '../errors';
import { decodeBase64 } from './decodeBase64';
import { GRAFT_KERNELS_WASM_BASE64 } from './graftKernelsWasm.generated';

/**
 * The C functions of native/*.c. Pointer arguments are byte offsets into the module's own
 * memory (see {@link NativeKernels.scratch}); sizes are element counts.
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
  'unsorted_segment_sum',
];

/** Buffers start on cache lines; 64 bytes of slack after each absorb the kernels' 4-float
 * tail reads past the last pixel (see native/*.c). */
const ALIGN_BYTES = 64;
const SLACK_BYTES = 64;
const PAGE_BYTES = 65536;

/**
 * graft's kernel module, instantiated, with its own WebAssembly.Memory. The memory only
 * grows: a call asks {@link scratch} for the buffers it needs, which reuses the space that
 * earlier calls used and grows the memory only when a call needs more than any before it.
 */
export class NativeKernels {
  readonly fns: GraftKernelExports;
  private readonly memory: WebAssembly.Memory;
  /** First byte after the module's stack and static data: scratch starts here. */
  private readonly heapBase: number;
  private f32View: Float32Array;
  private i32View: Int32Array;

  constructor(instance: WebAssembly.Instance) {
    const exports = instance.exports;
    const memory = exports.memory;
    const heapBase = exports.__heap_base;
    if (!(memory instanceof WebAssembly.Memory) || !(heapBase instanceof WebAssembly.Global)) {
      throw new Error('graft kernel module lacks memory or __heap_base exports');
    }
    for (const name of FUNCTION_NAMES) {
      if (typeof exports[name] !== 'function') {
        throw new Error(`graft kernel module lacks the function ${name}`);
      }
    }
    this.fns = exports as unknown as GraftKernelExports;
    this.memory = memory;
    this.heapBase = alignUp(Number(heapBase.value), ALIGN_BYTES);
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
  }

  /**
   * Lays out one scratch buffer per entry of `elementCounts` (4-byte elements: float32 or
   * int32) and returns their byte offsets. Buffers are valid until the next call to
   * `scratch`; views from {@link f32} / {@link i32} must be re-read after it, because growing
   * the memory detaches the old ArrayBuffer.
   */
  scratch(elementCounts: readonly number[], where: string): number[] {
    const offsets: number[] = [];
    let end = this.heapBase;
    for (const count of elementCounts) {
      offsets.push(end);
      end = alignUp(end + count * 4 + SLACK_BYTES, ALIGN_BYTES);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
      } catch (cause) {
        throw new GraftError(
          'KERNEL_BAD_INPUT',
          `The kernel needs ${Math.ceil(end / 2 ** 20)} MiB of WebAssembly memory, more than this runtime provides`,
          { where, hint: 'Use a smaller batch or image size.', cause },
        );
      }
    }
    return offsets;
  }

  /** Float32 view of the whole module memory (current after any growth). */
  get f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) {
      this.f32View = new Float32Array(this.memory.buffer);
    }
    return this.f32View;
  }

  /** Int32 view of the whole module memory (current after any growth). */
  get i32(): Int32Array {
    if (this.i32View.buffer !== this.memory.buffer) {
      this.i32View = new Int32Array(this.memory.buffer);
    }
    return this.i32View;
  }

  /** Bytes the module's memory spans now (it never shrinks). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }
}

function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

let loaded: NativeKernels | undefined;
let loading: Promise<NativeKernels> | undefined;

/**
 * Compiles and instantiates graft's WebAssembly SIMD kernels, once; later calls return at
 * once. Asynchronous because browsers refuse to compile modules over 4 KB synchronously on
 * the main thread. Failures are plain Errors (not GraftErrors) so that `initBackend` treats
 * them like any other WebAssembly start-up failure and falls back to cpu.
 */
export async function loadNativeKernels(): Promise<void> {
  if (loaded) return;
  if (typeof WebAssembly === 'undefined') throw new Error('WebAssembly is not available');
  loading ??= instantiate().then(
    (kernels) => {
      loaded = kernels;
      return kernels;
    },
    (cause: unknown) => {
      loading = undefined; // let a later call retry
      throw cause;
    },
  );
  await loading;
}

async function instantiate(): Promise<NativeKernels> {
  const bytes = decodeBase64(GRAFT_KERNELS_WASM_BASE64);
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  const instance = await WebAssembly.instantiate(module, {});
  return new NativeKernels(instance);
}

/**
 * The loaded kernels, for kernelFuncs (which tfjs calls synchronously). Throws a GraftError
 * when {@link loadNativeKernels} has not finished, naming the kernel that needed them.
 */
export function nativeKernels(kernelName: string): NativeKernels {
  if (loaded) return loaded;
  throw new GraftError('KERNELS_NOT_LOADED', "graft's WebAssembly kernels are not loaded", {
    where: kernelName,
    hint: 'Call `await initBackend()` (or `await loadNativeKernels()`) before running ops on wasm.',
  });
}

/** True once {@link loadNativeKernels} has succeeded. */
export function nativeKernelsLoaded(): boolean {
  return loaded !== undefined;
}

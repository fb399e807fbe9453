import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { GraftError } from '../errors';

/**
 * Typed wrappers around kernels that tfjs-backend-wasm registers, for use *inside* another
 * wasm kernelFunc. Composite kernels built from these stay in the wasm heap and reach the
 * XNNPACK Conv2D / fully-connected operators directly, with no engine bookkeeping (no tape,
 * no tf.Tensor objects) per step.
 *
 * Intermediates are plain TensorInfos that must be freed with `backend.disposeData`; a
 * {@link WasmScratch} does that for a whole kernel call, including when it throws.
 */

/** Explicit spatial padding, each side >= 0. */
export interface SpatialPads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface Conv2dOptions {
  strides: [number, number];
  dilations: [number, number];
  pads: SpatialPads;
}

/** The wasm kernelFunc registered under `name`; looked up per call so replacements apply. */
function wasmKernel(name: string): tf.KernelFunc {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) {
    throw new GraftError('BACKEND_INIT_FAILED', `The wasm backend has no ${name} kernel`, {
      where: 'graft wasm kernel composition',
      hint: 'Import @tensorflow/tfjs-backend-wasm (initBackend does) before running graft kernels.',
    });
  }
  return kernel.kernelFunc;
}

function run(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  return wasmKernel(name)({ inputs, backend, attrs }) as tf.TensorInfo;
}

/**
 * Owns the intermediates of one composite kernel call. Every op result is tracked;
 * `dispose()` frees them all (call it in `finally`), except results handed out with
 * `release()` — the kernel's output.
 */
export class WasmScratch {
  private readonly owned: tf.TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** Tracks `info` so that `dispose()` frees it. */
  own(info: tf.TensorInfo): tf.TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Stops tracking `info` (the kernel returns it to the engine, which then owns it). */
  release(info: tf.TensorInfo): tf.TensorInfo {
    const at = this.owned.lastIndexOf(info);
    if (at >= 0) this.owned.splice(at, 1);
    return info;
  }

  /** Frees every tracked intermediate, newest first. Safe to call more than once. */
  dispose(): void {
    while (this.owned.length > 0) {
      const info = this.owned.pop()!;
      this.backend.disposeData(info.dataId);
    }
  }

  /** Float32 view of `info`'s memory in the wasm heap (invalid after the heap grows). */
  view(info: tf.TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(info) as Float32Array;
  }

  /** A new uninitialised float32 tensor. */
  empty(shape: number[]): tf.TensorInfo {
    return this.own(this.backend.makeOutput(shape, 'float32'));
  }

  /** A new float32 tensor of zeros. */
  zeros(shape: number[]): tf.TensorInfo {
    const out = this.empty(shape);
    this.view(out).fill(0);
    return out;
  }

  /** Same data, new shape (no copy; tfjs counts the extra reference). */
  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.own(run(this.backend, tf.Reshape, { x }, { shape }));
  }

  /**
   * Transpose that first merges input axes which stay adjacent under `perm` (and drops
   * size-1 axes): the wasm Transpose kernel has tight loops for rank <= 4 only and falls
   * back to a per-element index computation above that.
   */
  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    const outShape = perm.map((axis) => x.shape[axis]!);
    const merged = mergeTransposeAxes(x.shape, perm);
    if (merged.perm.every((axis, i) => axis === i)) return this.reshape(x, outShape);
    const input = this.reshape(x, merged.shape);
    const [p0, p1, p2] = merged.perm;
    let out: tf.TensorInfo;
    if (merged.perm.length === 2) {
      out = this.transposeRows(this.reshape(input, [1, ...merged.shape]));
    } else if (merged.perm.length === 3 && p0 === 0 && p1 === 2 && p2 === 1) {
      out = this.transposeRows(input);
    } else {
      out = this.own(run(this.backend, tf.Transpose, { x: input }, { perm: merged.perm }));
    }
    return this.reshape(out, outShape);
  }

  /**
   * [B, R, C] -> [B, C, R]. The wasm kernel's 2-D loop writes with stride R, which thrashes
   * the cache once R is large (7.9 ms for 36864x48 here); splitting R into blocks of b and
   * transposing in two passes, [B, R/b, b, C] -> [B, R/b, C, b] -> [B, C, R/b, b], keeps
   * both passes' accesses local (1.3 ms for 36864x48, b=64; 0.41 vs 1.8 ms for 9216x48).
   * Small R or C stay on the direct kernel, which wins there (576x1280: 0.53 vs 0.71 ms).
   */
  private transposeRows(x: tf.TensorInfo): tf.TensorInfo {
    const [batch, rows, cols] = x.shape as [number, number, number];
    const block = rows >= 4096 && cols >= 8 ? rowBlock(rows) : 0;
    if (block === 0) {
      const perm = batch === 1 ? [1, 0] : [0, 2, 1];
      const input = batch === 1 ? this.reshape(x, [rows, cols]) : x;
      return this.own(run(this.backend, tf.Transpose, { x: input }, { perm }));
    }
    const blocks = this.reshape(x, [batch * (rows / block), block, cols]);
    const inner = this.own(run(this.backend, tf.Transpose, { x: blocks }, { perm: [0, 2, 1] }));
    const split = this.reshape(inner, [batch, rows / block, cols, block]);
    const out = this.own(run(this.backend, tf.Transpose, { x: split }, { perm: [0, 2, 1, 3] }));
    return this.reshape(out, [batch, cols, rows]);
  }

  /** A copy with its own data id (so it may be handed to {@link matMul} as `b`). */
  copy(x: tf.TensorInfo): tf.TensorInfo {
    const out = this.empty(x.shape);
    this.view(out).set(this.view(x));
    return out;
  }

  /** Zero padding; `paddings[d] = [before, after]`, all >= 0. */
  pad(x: tf.TensorInfo, paddings: Array<[number, number]>): tf.TensorInfo {
    return this.own(run(this.backend, tf.PadV2, { x }, { paddings, constantValue: 0 }));
  }

  /**
   * `size[a]` elements along each axis `a`, starting at `begin[a]`, every `step[a]`-th
   * (default 1). Copied in JS straight from the heap: the wasm Slice kernel first copies the
   * *whole* input out of the heap (readSync), which made 72 slices of a 1.8M-element tensor
   * take 400 ms; here each contiguous run is one `copyWithin` in the heap.
   */
  slice(x: tf.TensorInfo, begin: number[], size: number[], step?: number[]): tf.TensorInfo {
    const out = this.empty(size);
    copyHeapBox(this.view(x), x.shape, this.view(out), begin, size, step);
    return out;
  }

  concat(inputs: tf.TensorInfo[], axis: number): tf.TensorInfo {
    // The wasm Concat kernel takes its inputs as an array, not a named map.
    return this.own(
      run(this.backend, tf.Concat, inputs as unknown as tf.NamedTensorInfoMap, { axis }),
    );
  }

  /**
   * NHWC convolution with explicit padding, through XNNPACK. `filter` is
   * [kh, kw, inChannels, outChannels].
   */
  conv2d(x: tf.TensorInfo, filter: tf.TensorInfo, options: Conv2dOptions): tf.TensorInfo {
    const { top, bottom, left, right } = options.pads;
    return this.own(
      run(
        this.backend,
        tf.Conv2D,
        { x, filter },
        {
          strides: options.strides,
          dilations: options.dilations,
          pad: [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dimRoundingMode: undefined as unknown as string,
        },
      ),
    );
  }

  /**
   * [M, K] x [K, N] -> [M, N] through XNNPACK's fully-connected operator. The wasm backend
   * only takes that path without transpose flags and with batch 1 (otherwise it runs a
   * scalar loop ~20x slower), so callers transpose explicitly instead.
   *
   * XNNPACK packs `b` once and tfjs caches the packed operator under `b`'s id *without its
   * shape*; so `b` must be an intermediate created in this kernel call (fresh id, freed on
   * return), never a tensor the caller owns — a later reuse of that id with another shape
   * would read a stale operator.
   */
  matMul(a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
    const [m, k] = a.shape;
    const [k2, n] = b.shape;
    if (a.shape.length !== 2 || b.shape.length !== 2 || k !== k2) {
      throw new GraftError('KERNEL_BAD_INPUT', 'matMul needs [M, K] x [K, N] operands', {
        where: `wasmOps.matMul a=[${a.shape}] b=[${b.shape}]`,
      });
    }
    const a3 = this.reshape(a, [1, m!, k!]);
    const b3 = this.reshape(b, [1, k!, n!]);
    const out = this.own(
      run(this.backend, tf.BatchMatMul, { a: a3, b: b3 }, { transposeA: false, transposeB: false }),
    );
    return this.reshape(out, [m!, n!]);
  }
}

/**
 * Rewrites a transpose of `shape` by `perm` as an equivalent one of lower rank: size-1 axes
 * are dropped, and runs of input axes that appear consecutively, in order, in `perm` become
 * one axis. E.g. [N, H, W, C] by [1, 2, 0, 3] is [N, H*W, C] by [1, 0, 2].
 */
export function mergeTransposeAxes(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const kept = perm.filter((axis) => shape[axis]! !== 1);
  // Groups of input axes, in output order; each group is a run a, a+1, ... in perm.
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups[groups.length - 1];
    const lastAxis = last?.[last.length - 1];
    if (last && lastAxis !== undefined && nextKeptAxis(shape, lastAxis) === axis) last.push(axis);
    else groups.push([axis]);
  }
  // Number the groups by their position in the input.
  const byInput = [...groups].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: byInput.map((g) => g.reduce((size, axis) => size * shape[axis]!, 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

function nextKeptAxis(shape: readonly number[], axis: number): number {
  let next = axis + 1;
  while (next < shape.length && shape[next] === 1) next++;
  return next;
}

/** A block length for {@link WasmScratch.transposeRows}: a divisor of `rows` in [16, 64], or 0. */
function rowBlock(rows: number): number {
  for (let b = 64; b >= 16; b--) if (rows % b === 0) return b;
  return 0;
}

/**
 * {@link copyBox} from one tensor to another, given as their views of the wasm heap (of the
 * same element size; take them after allocating the output, which can grow the heap). The
 * heap is copied as integers of that size, so every bit pattern is kept. `step` defaults to 1
 * on every axis.
 */
export function copyHeapBox(
  src: Float32Array | Int32Array | Uint8Array,
  shape: readonly number[],
  dst: Float32Array | Int32Array | Uint8Array,
  begin: readonly number[],
  size: readonly number[],
  step: readonly number[] = size.map(() => 1),
): void {
  const bytes = src.BYTES_PER_ELEMENT;
  const heap = bytes === 4 ? new Int32Array(src.buffer) : new Uint8Array(src.buffer);
  copyBox(heap, src.byteOffset / bytes, shape, dst.byteOffset / bytes, begin, size, step);
}

/**
 * Copies the box `begin + k * step` (k < size, per axis) of the row-major array of `shape` at
 * element `from` of `heap` to element `to` of the same `heap`, densely. Both ends live in one
 * array (the wasm heap) so that every contiguous run is one `copyWithin`: a memmove with no
 * view object per run. The views it replaced were 4.7 MB of garbage per MobileNetV2 step
 * (a Slice with 16-float runs over 16x49x49 pixels makes 38k of them), and collecting it ran
 * on the core another replica trains on. Trailing axes taken whole are merged into one run.
 * `heap` should be an integer view: short runs are copied element by element, and integer
 * copies keep every bit pattern (a float view could rewrite NaN payloads of int32 data).
 */
export function copyBox(
  heap: Int32Array | Uint8Array,
  from: number,
  shape: readonly number[],
  to: number,
  begin: readonly number[],
  size: readonly number[],
  step: readonly number[],
): void {
  const rank = shape.length;
  if (size.some((n) => n === 0)) return;
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let a = rank - 1; a >= 0; a--) {
    strides[a] = stride;
    stride *= shape[a]!;
  }
  // Merge trailing whole axes into `run` contiguous elements.
  let inner = rank - 1;
  let run = 1;
  while (inner >= 0 && step[inner] === 1 && begin[inner] === 0 && size[inner] === shape[inner]) {
    run *= shape[inner]!;
    inner--;
  }
  if (inner < 0) {
    heap.copyWithin(to, from, from + run);
    return;
  }
  const count = size[inner]!;
  const innerStep = step[inner]! * strides[inner]!;
  const contiguous = step[inner] === 1;
  const index = new Array<number>(inner).fill(0);
  let o = to;
  for (;;) {
    let base = from + begin[inner]! * strides[inner]!;
    for (let a = 0; a < inner; a++) base += (begin[a]! + index[a]! * step[a]!) * strides[a]!;
    if (contiguous) {
      const n = count * run;
      heap.copyWithin(o, base, base + n);
      o += n;
    } else if (run >= 16) {
      for (let k = 0, at = base; k < count; k++, at += innerStep) {
        heap.copyWithin(o, at, at + run);
        o += run;
      }
    } else {
      for (let k = 0, at = base; k < count; k++, at += innerStep) {
        for (let e = 0; e < run; e++) heap[o++] = heap[at + e]!;
      }
    }
    let a = inner - 1;
    while (a >= 0 && ++index[a]! === size[a]) {
      index[a] = 0;
      a--;
    }
    if (a < 0) return;
  }
}

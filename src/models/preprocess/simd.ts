/**
 * Pillow's 8-bit convolution resampling (see `resample.ts`) as WebAssembly SIMD kernels: the
 * same integer arithmetic, four 32-bit lanes at a time. In V8 the JavaScript passes spend ~7
 * machine instructions per typed-array read (overflow and bounds checks, base reloads); these
 * kernels resize a 500×375 photo to its 224×224 crop in ~0.6 ms instead of ~4.5 ms, which
 * halves the whole decode + preprocess cost. `CLIP_BENCH_NO_SIMD=1` turns them off (the
 * JavaScript passes are the reference they are tested against).
 *
 * Why the results are identical to Pillow (and to the JavaScript passes):
 * - weights are the same 22-bit fixed-point integers, sums start at the same 2^21 bias and are
 *   accumulated in wrapping int32 lanes (Pillow's `int`, which never overflows here);
 * - `>> 22` is `i32x4.shr_s`, and Pillow's `clip8` (clamp to 0–255) is the pair of saturating
 *   narrows i32 → i16 (signed) → u8 (unsigned);
 * - the horizontal result is stored as 8 bits before the vertical pass reads it, as in Pillow.
 *
 * Layout: a pixel of 1 to 4 channels occupies one 4-lane vector in the horizontal pass (unused
 * lanes carry don't-care values); the intermediate image keeps 4 bytes per pixel with rows
 * padded to 16 bytes, so the vertical pass runs over whole vectors, then packs to `ch` bytes.
 */
import type { Coeffs } from './resample.js';
import { addTo, assembleModule, type Code, type FuncDef, i32, op, v128, type ValType } from './wasm.js';

/** The part of the WebAssembly JS API used here (this project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

type KernelDef = Omit<FuncDef, 'name'>;
const ints = (n: number): ValType[] => Array<ValType>(n).fill(i32);
const vectors = (n: number): ValType[] => Array<ValType>(n).fill(v128);

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

/** `acc = acc + pixels · splat(weight)`: the multiply-add both passes are made of. */
function madd(acc: number, pixels: Code, weight: number): Code {
  return [...op.get(acc), ...pixels, ...op.get(weight), ...op.i32x4Mul, ...op.i32x4Add, ...op.set(acc)];
}

/** Pillow's `clip8` (`>> 22`, clamp to 0–255) on the 32-bit lanes of a, b, c, d → their 16 bytes in that order. */
function clip8x2(a: number, b: number, c = a, d = b): Code {
  const shifted = (l: number) => [...op.get(l), ...op.i32Const(PRECISION_BITS), ...op.i32x4ShrS];
  return [...shifted(a), ...shifted(b), ...op.i16x8NarrowI32x4S, ...shifted(c), ...shifted(d), ...op.i16x8NarrowI32x4S, ...op.i8x16NarrowI16x8U];
}

const splatHalf: Code = [...op.i32Const(HALF), ...op.i32x4Splat];

/**
 * `horizontal(src, srcStride, pxBytes, rows, outW, bounds, coef, ksizeBytes, dst, dstStride)`:
 * for each row and output column, the dot product of the column's taps with the source
 * pixels, written as 4 bytes. `bounds` holds per column [first tap's byte offset in the row,
 * taps·4]; `coef` holds `ksize` int32 weights per column; every column has ≥ 1 tap.
 * `sweep` rows are filtered together (`rows` must be a multiple of it) so that they share each
 * weight load and the loop overhead.
 */
function horizontalKernel(sweep: number): KernelDef {
  const [src, srcStride, pxBytes, rows, outW, bounds, coef, ksizeBytes, dst, dstStride] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [b, k, o, x, p, kk, kend] = [10, 11, 12, 13, 14, 15, 16];
  const srcOffset = (r: number) => 17 + r; // r · srcStride
  const dstOffset = (r: number) => 17 + sweep + r; // r · dstStride
  const t = 17 + 2 * sweep; // v128: the splatted weight
  const acc = (r: number) => t + 1 + r; // v128
  const sweeps = Array.from({ length: sweep }, (_, r) => r);
  // One pixel's channels of row r → the low four 32-bit lanes (8 bytes read: the source is padded).
  const pixel = (r: number): Code => [...op.get(p), ...(r > 0 ? [...op.get(srcOffset(r)), ...op.i32Add] : []), ...op.v128Load8x8U(), ...op.i32x4ExtendLowI16x8U];
  const store = (r: number): Code => [...op.get(o), ...(r > 0 ? [...op.get(dstOffset(r)), ...op.i32Add] : []), ...clip8x2(acc(r), acc(r)), ...op.v128Store32Lane(0)];
  const weight: Code = [...op.get(kk), ...op.i32Load(), ...op.i32x4Splat, ...op.set(t)];
  const taps = op.loop(
    weight,
    ...sweeps.map((r) => madd(acc(r), pixel(r), t)),
    addTo(p, op.get(pxBytes)),
    addTo(kk, op.i32Const(4)),
    [...op.get(kk), ...op.get(kend), ...op.i32LtU, ...op.brIf(0)],
  );
  const column = op.loop(
    [...op.get(src), ...op.get(b), ...op.i32Load(), ...op.i32Add, ...op.set(p)],
    [...op.get(k), ...op.tee(kk), ...op.get(b), ...op.i32Load(4), ...op.i32Add, ...op.set(kend)],
    sweeps.flatMap((r) => [...splatHalf, ...op.set(acc(r))]),
    taps,
    sweeps.flatMap((r) => store(r)),
    addTo(b, op.i32Const(8)),
    addTo(k, op.get(ksizeBytes)),
    addTo(o, op.i32Const(4)),
    [...op.get(x), ...op.i32Const(1), ...op.i32Sub, ...op.tee(x), ...op.brIf(0)],
  );
  const offsets = sweeps.flatMap((r) => [
    ...[...op.i32Const(r), ...op.get(srcStride), ...op.i32Mul, ...op.set(srcOffset(r))],
    ...[...op.i32Const(r), ...op.get(dstStride), ...op.i32Mul, ...op.set(dstOffset(r))],
  ]);
  const row = op.loop(
    [...op.get(bounds), ...op.set(b), ...op.get(coef), ...op.set(k), ...op.get(dst), ...op.set(o), ...op.get(outW), ...op.set(x)],
    column,
    addTo(src, [...op.get(srcStride), ...op.i32Const(sweep), ...op.i32Mul]),
    addTo(dst, [...op.get(dstStride), ...op.i32Const(sweep), ...op.i32Mul]),
    [...op.get(rows), ...op.i32Const(sweep), ...op.i32Sub, ...op.tee(rows), ...op.brIf(0)],
  );
  return { params: ints(10), locals: [...ints(7 + 2 * sweep), ...vectors(1 + sweep)], body: [offsets, row] };
}

/**
 * `vertical(src, rowBytes, outRows, bounds, coef, ksizeBytes, dst, dstStride)` over the
 * 4-byte-per-pixel intermediate, 16 bytes (four pixels) at a time: `bounds` holds per output
 * row [byte offset of its first input row, taps·4]. Each group of four pixels is packed to
 * `ch` bytes per pixel (for RGB, 4×RGBx → 12 bytes) and stored as a whole vector, advancing
 * 4·ch bytes, so a row's last group may spill into the next row, which is written afterwards
 * (and `dst` has 16 bytes of slack after the last row).
 */
function verticalKernel(ch: number): KernelDef {
  // Byte c of pixel q sits at 4q + c; unused trailing lanes repeat byte 0 (don't-care).
  const pack = Array.from({ length: 16 }, (_, i) => (i < 4 * ch ? 4 * Math.floor(i / ch) + (i % ch) : 0));
  const [src, rowBytes, outRows, bounds, coef, ksizeBytes, dst, dstStride] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [base, i, p, kk, kend, o] = [8, 9, 10, 11, 12, 13];
  const [w, lo, hi, a0, a1, a2, a3] = [14, 15, 16, 17, 18, 19, 20];
  const widen = (half: number, high: boolean): Code => [...op.get(half), ...(high ? op.i32x4ExtendHighI16x8U : op.i32x4ExtendLowI16x8U)];
  const taps = op.loop(
    [...op.get(kk), ...op.i32Load(), ...op.i32x4Splat, ...op.set(w)],
    [...op.get(p), ...op.v128Load(), ...op.tee(hi), ...op.i16x8ExtendLowI8x16U, ...op.set(lo)],
    [...op.get(hi), ...op.i16x8ExtendHighI8x16U, ...op.set(hi)],
    madd(a0, widen(lo, false), w),
    madd(a1, widen(lo, true), w),
    madd(a2, widen(hi, false), w),
    madd(a3, widen(hi, true), w),
    addTo(p, op.get(rowBytes)),
    addTo(kk, op.i32Const(4)),
    op.get(kk),
    op.get(kend),
    op.i32LtU,
    op.brIf(0),
  );
  const group = op.loop(
    [a0, a1, a2, a3].flatMap((a) => [...splatHalf, ...op.set(a)]),
    [...op.get(base), ...op.get(i), ...op.i32Add, ...op.set(p), ...op.get(coef), ...op.set(kk)],
    taps,
    [...op.get(o), ...clip8x2(a0, a1, a2, a3), ...op.tee(w), ...op.get(w), ...op.i8x16Shuffle(pack), ...op.v128Store()],
    addTo(o, op.i32Const(4 * ch)),
    addTo(i, op.i32Const(16)),
    [...op.get(i), ...op.get(rowBytes), ...op.i32LtU, ...op.brIf(0)],
  );
  const row = op.loop(
    [...op.get(src), ...op.get(bounds), ...op.i32Load(), ...op.i32Add, ...op.set(base)],
    [...op.get(coef), ...op.get(bounds), ...op.i32Load(4), ...op.i32Add, ...op.set(kend)],
    [...op.i32Const(0), ...op.set(i), ...op.get(dst), ...op.set(o)],
    group,
    addTo(bounds, op.i32Const(8)),
    addTo(coef, op.get(ksizeBytes)),
    addTo(dst, op.get(dstStride)),
    [...op.get(outRows), ...op.i32Const(1), ...op.i32Sub, ...op.tee(outRows), ...op.brIf(0)],
  );
  return { params: ints(8), locals: [...ints(6), ...vectors(7)], body: [row] };
}

/**
 * `chw(src, pixels, lut, dst, planeBytes)`: interleaved RGB bytes → three planes of 32-bit
 * values looked up per channel in `lut` (3 × 256 entries: the float32 bits of the normalised
 * value), i.e. ToTensor + Normalize through the same table as the JavaScript version.
 */
function chwKernel(): KernelDef {
  const [src, pixels, lut, dst, planeBytes] = [0, 1, 2, 3, 4];
  const [g, b] = [5, 6]; // the green and blue plane pointers
  const channel = (c: number, to: number): Code => [
    ...op.get(to),
    ...[...op.get(src), ...op.i32Load8U(c), ...op.i32Const(2), ...op.i32Shl, ...op.get(lut), ...op.i32Add, ...op.i32Load(c * 1024)],
    ...op.i32Store(),
  ];
  const pixel = op.loop(
    channel(0, dst),
    channel(1, g),
    channel(2, b),
    addTo(src, op.i32Const(3)),
    addTo(dst, op.i32Const(4)),
    addTo(g, op.i32Const(4)),
    addTo(b, op.i32Const(4)),
    [...op.get(pixels), ...op.i32Const(1), ...op.i32Sub, ...op.tee(pixels), ...op.brIf(0)],
  );
  const planes = [...op.get(dst), ...op.get(planeBytes), ...op.i32Add, ...op.tee(g), ...op.get(planeBytes), ...op.i32Add, ...op.set(b)];
  return { params: ints(5), locals: ints(2), body: [planes, pixel] };
}

/** Rows per horizontal sweep: 4 makes the whole resize of a 500×375 photo ~20% faster than 1 (2 and 3 lie between). */
const SWEEP = 4;

type Kernel = (...args: number[]) => void;

interface Kernels {
  memory: WasmMemory;
  /** `SWEEP` rows at a time. */
  horizontal: Kernel;
  /** One row at a time, for the rows left over. */
  horizontal1: Kernel;
  /** Indexed by channel count − 1. */
  vertical: Kernel[];
  chw: Kernel;
}

function instantiate(): Kernels | null {
  if (!wasmApi) return null;
  try {
    const bytes = assembleModule([
      { name: 'horizontal', ...horizontalKernel(SWEEP) },
      { name: 'horizontal1', ...horizontalKernel(1) },
      ...[1, 2, 3, 4].map((ch) => ({ name: `vertical${ch}`, ...verticalKernel(ch) })),
      { name: 'chw', ...chwKernel() },
    ]);
    const memory = new wasmApi.Memory({ initial: 1 });
    const { exports } = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { mem: memory } });
    const kernel = (name: string) => exports[name] as Kernel;
    return { memory, horizontal: kernel('horizontal'), horizontal1: kernel('horizontal1'), vertical: [1, 2, 3, 4].map((ch) => kernel(`vertical${ch}`)), chw: kernel('chw') };
  } catch {
    return null; // no WebAssembly SIMD in this runtime: the JavaScript passes do the work
  }
}

let kernels: Kernels | null | undefined;

/** The kernels of this thread, assembled on first use; null where WebAssembly SIMD is unavailable. */
function getKernels(): Kernels | null {
  if (kernels === undefined) kernels = process.env.CLIP_BENCH_NO_SIMD ? null : instantiate();
  return kernels;
}

/**
 * Wasm memory is never returned to the system, so a thread keeps what its largest image
 * needed. The source streams through a small band, so a 12-megapixel photo needs ~3 MiB;
 * beyond this cap (extreme aspect ratios) the JavaScript passes run instead.
 */
const MEMORY_MAX = 64 << 20;
const PAGE = 65536;
/** Source bytes copied in per horizontal call: ~L2-sized. */
const BAND_BYTES = 256 << 10;

const align16 = (n: number) => (n + 15) & ~15;

/** Bump allocation of 16-byte-aligned regions in the kernel memory, grown on demand. */
function layout(sizes: number[], mem: WasmMemory): number[] | null {
  const offsets: number[] = [];
  let end = 0;
  for (const s of sizes) {
    offsets.push(end);
    end += align16(s + 16); // 16 bytes of slack: the kernels read and write whole vectors
  }
  if (end > MEMORY_MAX) return null;
  try {
    if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / PAGE));
  } catch {
    return null; // out of memory for the kernels: let the JavaScript passes try
  }
  return offsets;
}

/** Write a pass's tables: [first tap's byte offset, taps·4] and the 22-bit weights per output. */
function writeTables(heap: Int32Array, boundsAt: number, coefAt: number, c: Coeffs, k: Int32Array, offsetOf: (first: number) => number): void {
  const n = c.bounds.length / 2;
  for (let i = 0; i < n; i++) {
    const taps = c.bounds[i * 2 + 1];
    if (taps < 1) throw new Error('resample: empty filter window'); // impossible for positive sizes; the kernels assume ≥ 1 tap
    heap[boundsAt / 4 + i * 2] = offsetOf(c.bounds[i * 2]);
    heap[boundsAt / 4 + i * 2 + 1] = taps * 4;
  }
  heap.set(k, coefAt / 4);
}

/** Where the tables of a pass live in kernel memory. */
interface PassAt {
  bounds: number;
  coef: number;
  ksizeBytes: number;
}

/** The horizontal pass over `rows` rows at `srcAt` (`SWEEP` at a time, then the rest one by one). */
function horizontalRows(kern: Kernels, srcAt: number, rowBytes: number, ch: number, rows: number, outW: number, h: PassAt, dstAt: number, dstStride: number): void {
  const swept = rows - (rows % SWEEP);
  if (swept > 0) kern.horizontal(srcAt, rowBytes, ch, swept, outW, h.bounds, h.coef, h.ksizeBytes, dstAt, dstStride);
  if (swept < rows) kern.horizontal1(srcAt + swept * rowBytes, rowBytes, ch, rows - swept, outW, h.bounds, h.coef, h.ksizeBytes, dstAt + swept * dstStride, dstStride);
}

/**
 * Both 8-bit passes of `resampleConvolution` for a 1- to 4-channel image: rows `rowFirst ..
 * rowFirst+rows-1` of `src` ([srcH, srcW, ch]) through the horizontal filter `h` (already
 * windowed), then the vertical filter `v` whose input row 0 is `rowFirst`. A pass Pillow skips
 * is given as identity weights (one tap of 1.0: (2^21 + s·2^22) >> 22 = s).
 * Returns [v outputs, h outputs, ch] bytes in `into` (or a new array), or null when the
 * kernels are unavailable or the image too large for them.
 */
export function convolve8Simd(
  src: Uint8Array,
  srcW: number,
  ch: number,
  rowFirst: number,
  rows: number,
  h: Coeffs,
  hk: Int32Array,
  v: Coeffs,
  vk: Int32Array,
  into?: Uint8Array,
): Uint8Array | null {
  const kern = getKernels();
  const outW = h.bounds.length / 2;
  const outH = v.bounds.length / 2;
  if (!kern || ch < 1 || ch > 4 || outW < 1 || outH < 1 || rows < 1) return null;
  const outBytes = outW * outH * ch;
  const out = into ? into.subarray(0, outBytes) : new Uint8Array(outBytes);
  if (out.length < outBytes) throw new RangeError(`output buffer holds ${out.length} samples, need ${outBytes}`);

  const rowBytes = srcW * ch;
  const band = Math.min(rows, Math.max(1, Math.floor(BAND_BYTES / rowBytes / SWEEP)) * SWEEP);
  const midStride = align16(outW * 4);
  const at = layout([h.bounds.length * 4, hk.length * 4, v.bounds.length * 4, vk.length * 4, band * rowBytes, rows * midStride, outBytes], kern.memory);
  if (!at) return null;
  const [hb, hc, vb, vc, bandAt, midAt, outAt] = at;
  const heap = new Int32Array(kern.memory.buffer);
  writeTables(heap, hb, hc, h, hk, (x) => x * ch);
  writeTables(heap, vb, vc, v, vk, (y) => (y - rowFirst) * midStride);
  const bytes = new Uint8Array(kern.memory.buffer);

  const hAt: PassAt = { bounds: hb, coef: hc, ksizeBytes: h.ksize * 4 };
  for (let y = 0; y < rows; y += band) {
    const n = Math.min(band, rows - y);
    const from = (rowFirst + y) * rowBytes;
    bytes.set(src.subarray(from, from + n * rowBytes), bandAt);
    horizontalRows(kern, bandAt, rowBytes, ch, n, outW, hAt, midAt + y * midStride, midStride);
  }
  kern.vertical[ch - 1](midAt, midStride, outH, vb, vc, v.ksize * 4, outAt, outW * ch);
  out.set(bytes.subarray(outAt, outAt + outBytes));
  return out;
}

/**
 * ToTensor + Normalize of an RGB image ([pixels, 3] bytes) to float32 CHW, each byte replaced by
 * its channel's entry of `lut` (768 float32 values); null when the kernels are unavailable.
 * The result's memory is not zeroed first: every element is written.
 */
export function normalizeChwSimd(rgb: Uint8Array, lut: Float32Array): Float32Array | null {
  const kern = getKernels();
  if (!kern) return null;
  const pixels = rgb.length / 3;
  const at = pixels >= 1 ? layout([lut.byteLength, rgb.length, pixels * 12], kern.memory) : null;
  if (!at) return null;
  const [lutAt, srcAt, dstAt] = at;
  new Float32Array(kern.memory.buffer, lutAt, lut.length).set(lut);
  new Uint8Array(kern.memory.buffer, srcAt, rgb.length).set(rgb);
  kern.chw(srcAt, pixels, lutAt, dstAt, pixels * 4);
  const out = new Float32Array(Buffer.allocUnsafeSlow(pixels * 12).buffer, 0, pixels * 3);
  out.set(new Float32Array(kern.memory.buffer, dstAt, pixels * 3));
  return out;
}

/** Identity filter for `count` outputs starting at `first` (a pass Pillow skips). */
export function identityCoeffs(first: number, count: number): { c: Coeffs; k: Int32Array } {
  const bounds = new Int32Array(count * 2);
  for (let i = 0; i < count; i++) {
    bounds[i * 2] = first + i;
    bounds[i * 2 + 1] = 1;
  }
  return { c: { ksize: 1, bounds, kk: new Float64Array(count).fill(1) }, k: new Int32Array(count).fill(1 << PRECISION_BITS) };
}

/** Whether the SIMD kernels are in use on this thread (for tests and benchmarks). */
export function simdAvailable(): boolean {
  return getKernels() !== null;
}

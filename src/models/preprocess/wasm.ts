/**
 * A minimal WebAssembly binary writer: just the instructions the SIMD resampling kernels in
 * `simd.ts` use, as byte arrays to concatenate in stack order. Hand-assembling keeps the
 * project free of a toolchain (no wat2wasm, no compiler, no binary blob to trust): the
 * kernels are readable TypeScript and are assembled once per thread at load.
 *
 * Encoding reference: the WebAssembly core spec 2.0, binary format (SIMD ops are 0xFD + LEB128).
 */

export type Code = readonly number[];

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

export const i32 = 0x7f;
export const v128 = 0x7b;
export type ValType = typeof i32 | typeof v128;

const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** memarg: alignment hint 0 (accesses may be unaligned), constant offset. */
const memarg = (offset = 0): number[] => [0, ...uleb(offset)];

export const op = {
  get: (i: number): Code => [0x20, ...uleb(i)],
  set: (i: number): Code => [0x21, ...uleb(i)],
  tee: (i: number): Code => [0x22, ...uleb(i)],
  i32Const: (v: number): Code => [0x41, ...sleb(v)],
  i32Load: (offset = 0): Code => [0x28, 2, ...uleb(offset)],
  i32Load8U: (offset = 0): Code => [0x2d, 0, ...uleb(offset)],
  /** Stack: address, value. */
  i32Store: (offset = 0): Code => [0x36, 2, ...uleb(offset)],
  i32Add: [0x6a] as Code,
  i32Sub: [0x6b] as Code,
  i32Mul: [0x6c] as Code,
  i32Shl: [0x74] as Code,
  i32LtU: [0x49] as Code,
  i32Ne: [0x47] as Code,
  /** 16 bytes. */
  v128Load: (offset = 0): Code => [...simd(0x00), ...memarg(offset)],
  /** 8 bytes, each zero-extended to a 16-bit lane. */
  v128Load8x8U: (offset = 0): Code => [...simd(0x02), ...memarg(offset)],
  v128Store: (offset = 0): Code => [...simd(0x0b), ...memarg(offset)],
  /** Store 32-bit lane `lane` (stack: address, vector). */
  v128Store32Lane: (lane: number, offset = 0): Code => [...simd(0x5a), ...memarg(offset), lane],
  /** Bytes of a and b picked by 16 lane indices (0-15 from a, 16-31 from b). */
  i8x16Shuffle: (lanes: readonly number[]): Code => [...simd(0x0d), ...lanes],
  i32x4Splat: simd(0x11) as Code,
  /** Signed 16-bit lanes → unsigned 8-bit with saturation (a's 8 lanes, then b's). */
  i8x16NarrowI16x8U: simd(0x66) as Code,
  /** Signed 32-bit lanes → signed 16-bit with saturation (a's 4 lanes, then b's). */
  i16x8NarrowI32x4S: simd(0x85) as Code,
  i16x8ExtendLowI8x16U: simd(0x89) as Code,
  i16x8ExtendHighI8x16U: simd(0x8a) as Code,
  i32x4ExtendLowI16x8U: simd(0xa9) as Code,
  i32x4ExtendHighI16x8U: simd(0xaa) as Code,
  i32x4ShrS: simd(0xac) as Code,
  i32x4Add: simd(0xae) as Code,
  i32x4Mul: simd(0xb5) as Code,
  /** `loop … end` with a void block type: `br_if 0` inside jumps back to its start. */
  loop: (...body: Code[]): Code => [0x03, 0x40, ...body.flat(), 0x0b],
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
} as const;

/** `local += delta` (i32). */
export function addTo(local: number, delta: Code): Code {
  return [...op.get(local), ...delta, ...op.i32Add, ...op.set(local)];
}

export interface FuncDef {
  name: string;
  params: ValType[];
  /** Extra locals, numbered after the params. */
  locals: ValType[];
  body: Code[];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

const name = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));

/**
 * A module importing its memory as `env.mem` and exporting `funcs` by name. Every function
 * returns nothing.
 */
export function assembleModule(funcs: FuncDef[]): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const memImport = [...name('env'), ...name('mem'), 0x02, 0x00, 1]; // memory, min 1 page, no max
  const bodies = funcs.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const code = [...locals, ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([memImport])),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
}

/**
 * A minimal MAT v5 writer for tests: numeric (any class, any storage type), char, cell and struct
 * arrays, optionally zlib-compressed per variable, with or without the small data element format.
 * Written from the format description independently of src/datasets/mat5.ts, so round trips test the reader.
 */
import { deflateSync } from 'node:zlib';

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16 } as const;
const MX_NUMERIC = { double: 6, single: 7, int8: 8, uint8: 9, int16: 10, uint16: 11, int32: 12, uint32: 13, int64: 14, uint64: 15 } as const;
type NumClass = keyof typeof MX_NUMERIC;
type Store = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'single' | 'double' | 'int64' | 'uint64';
const STORE: Record<Store, { mi: number; size: number }> = {
  int8: { mi: MI.INT8, size: 1 },
  uint8: { mi: MI.UINT8, size: 1 },
  int16: { mi: MI.INT16, size: 2 },
  uint16: { mi: MI.UINT16, size: 2 },
  int32: { mi: MI.INT32, size: 4 },
  uint32: { mi: MI.UINT32, size: 4 },
  single: { mi: MI.SINGLE, size: 4 },
  double: { mi: MI.DOUBLE, size: 8 },
  int64: { mi: MI.INT64, size: 8 },
  uint64: { mi: MI.UINT64, size: 8 },
};

type Dims = readonly number[];
export type MatIn =
  | { numeric: ArrayLike<number>; class?: NumClass; store?: Store; dims?: Dims; logical?: boolean; imag?: ArrayLike<number> }
  | { char: string; dims?: Dims; store?: 'uint16' | 'utf8' }
  | { cell: readonly MatIn[]; dims?: Dims }
  | { struct: readonly Readonly<Record<string, MatIn>>[]; fields?: readonly string[]; dims?: Dims };

export interface WriteOptions {
  /** wrap each variable in a miCOMPRESSED element */
  compress?: boolean;
  /** use the 4-byte small data element format where data fits (MATLAB does) */
  small?: boolean;
}

function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function element(type: number, payload: Uint8Array, small: boolean): Uint8Array {
  if (small && payload.length <= 4) {
    const out = new Uint8Array(8);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, type, true);
    dv.setUint16(2, payload.length, true);
    out.set(payload, 4);
    return out;
  }
  const out = new Uint8Array(8 + pad8(payload.length));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function encode(values: ArrayLike<number>, store: Store): Uint8Array {
  const { size } = STORE[store];
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const o = i * size;
    switch (store) {
      case 'int8': dv.setInt8(o, v); break;
      case 'uint8': dv.setUint8(o, v); break;
      case 'int16': dv.setInt16(o, v, true); break;
      case 'uint16': dv.setUint16(o, v, true); break;
      case 'int32': dv.setInt32(o, v, true); break;
      case 'uint32': dv.setUint32(o, v, true); break;
      case 'single': dv.setFloat32(o, v, true); break;
      case 'double': dv.setFloat64(o, v, true); break;
      case 'int64': dv.setBigInt64(o, BigInt(v), true); break;
      case 'uint64': dv.setBigUint64(o, BigInt(v), true); break;
    }
  }
  return out;
}

function header(cls: number, flags: number, dims: Dims, name: string, small: boolean): Uint8Array[] {
  const af = new Uint8Array(8);
  new DataView(af.buffer).setUint32(0, cls | flags, true);
  const d = new Uint8Array(dims.length * 4);
  dims.forEach((x, i) => new DataView(d.buffer).setInt32(i * 4, x, true));
  return [element(MI.UINT32, af, false), element(MI.INT32, d, small), element(MI.INT8, new TextEncoder().encode(name), small)];
}

function matrix(v: MatIn, name: string, small: boolean): Uint8Array {
  let parts: Uint8Array[];
  if ('numeric' in v) {
    const cls = v.class ?? 'double';
    const store = v.store ?? (cls as Store);
    const dims = v.dims ?? [1, v.numeric.length];
    const flags = (v.logical ? 0x200 : 0) | (v.imag ? 0x800 : 0);
    parts = [...header(MX_NUMERIC[cls], flags, dims, name, small), element(STORE[store].mi, encode(v.numeric, store), small)];
    if (v.imag) parts.push(element(STORE[store].mi, encode(v.imag, store), small));
  } else if ('char' in v) {
    const dims = v.dims ?? [1, v.char.length];
    const data =
      v.store === 'utf8'
        ? element(MI.UTF8, new TextEncoder().encode(v.char), small)
        : element(MI.UINT16, encode(Array.from({ length: v.char.length }, (_, i) => v.char.charCodeAt(i)), 'uint16'), small);
    parts = [...header(4, 0, dims, name, small), data];
  } else if ('cell' in v) {
    const dims = v.dims ?? [1, v.cell.length];
    parts = [...header(1, 0, dims, name, small), ...v.cell.map((c) => matrix(c, '', small))];
  } else {
    const fields = v.fields ?? Object.keys(v.struct[0] ?? {});
    const dims = v.dims ?? [1, v.struct.length];
    const len = Math.max(...fields.map((f) => f.length + 1), 1);
    const lenBytes = new Uint8Array(4);
    new DataView(lenBytes.buffer).setInt32(0, len, true);
    const names = new Uint8Array(len * fields.length);
    fields.forEach((f, i) => names.set(new TextEncoder().encode(f), i * len));
    parts = [...header(2, 0, dims, name, small), element(MI.INT32, lenBytes, small), element(MI.INT8, names, small)];
    for (const el of v.struct) for (const f of fields) parts.push(matrix(el[f], '', small));
  }
  return element(MI.MATRIX, concat(parts), false);
}

/** The bytes of a MAT v5 file holding `vars` in insertion order. */
export function writeMat(vars: Readonly<Record<string, MatIn>>, opts: WriteOptions = {}): Uint8Array {
  const small = opts.small ?? true;
  const head = new Uint8Array(128).fill(0x20);
  head.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, Platform: clip-bench tests, Created on: Thu Jan  1 00:00:00 1970'));
  head.fill(0, 116, 124); // no subsystem data
  new DataView(head.buffer).setUint16(124, 0x0100, true);
  head[126] = 'I'.charCodeAt(0);
  head[127] = 'M'.charCodeAt(0);
  const body = Object.entries(vars).map(([name, v]) => {
    const m = matrix(v, name, small);
    if (!opts.compress) return m;
    const z = deflateSync(m);
    const tag = new Uint8Array(8);
    new DataView(tag.buffer).setUint32(0, MI.COMPRESSED, true);
    new DataView(tag.buffer).setUint32(4, z.length, true);
    return concat([tag, z]); // compressed elements are not padded
  });
  return concat([head, ...body]);
}

/**
 * A small reader for MATLAB Level 5 MAT-files (what `save`, `save -v6` and `save -v7` write, and
 * scipy's `savemat`), enough for the annotation files datasets ship: ImageNet's devkit `meta.mat`,
 * Flowers-102's `imagelabels.mat`/`setid.mat`, Stanford Cars' annotation files.
 *
 * Supported: the 128-byte header; miCOMPRESSED (zlib) elements; the small data element format;
 * miMATRIX of class double/single/int8…uint64 (real and complex, logical flag kept; the stored type may be
 * narrower than the class, as MATLAB writes it, and is widened to the class), char (UTF-16 code units in
 * miUINT16/miUTF16, or 8-bit miUINT8/miINT8, or miUTF8), cell arrays and struct arrays with their field
 * names, and empty arrays. Arrays of other classes (sparse, objects, function handles, …) are read as
 * `{ kind: 'unsupported' }` so the rest of the file stays usable.
 *
 * Little-endian files only (endian indicator "IM"): every file MATLAB and scipy write on x86/ARM. Big-endian
 * files, MAT v4 and v7.3 (HDF5) files are rejected with an error that says so.
 *
 * Values keep MATLAB's column-major order: element (i, j) of an m×n array is at index i + m·j.
 */
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { UsageError } from '../errors.js';

/** Data types of data elements (MAT-File Format, Table 1-1). */
export const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

/** Array classes in the array-flags subelement (MAT-File Format, Table 1-3). */
export const MX = {
  CELL: 1,
  STRUCT: 2,
  OBJECT: 3,
  CHAR: 4,
  SPARSE: 5,
  DOUBLE: 6,
  SINGLE: 7,
  INT8: 8,
  UINT8: 9,
  INT16: 10,
  UINT16: 11,
  INT32: 12,
  UINT32: 13,
  INT64: 14,
  UINT64: 15,
} as const;

export type NumericClass = 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';
export type NumericData =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface MatNumeric {
  kind: 'numeric';
  class: NumericClass;
  dims: number[];
  /** real part, column-major, as the class's typed array */
  real: NumericData;
  imag?: NumericData;
  /** MATLAB `logical` (stored as uint8) */
  logical: boolean;
}

export interface MatChar {
  kind: 'char';
  dims: number[];
  /** UTF-16 code units, column-major */
  codeUnits: Uint16Array;
}

export interface MatCell {
  kind: 'cell';
  dims: number[];
  /** column-major */
  cells: MatValue[];
}

export interface MatStruct {
  kind: 'struct';
  dims: number[];
  fieldNames: string[];
  /** one map per element, column-major; every map has every field */
  elements: ReadonlyMap<string, MatValue>[];
}

export interface MatUnsupported {
  kind: 'unsupported';
  /** the mx class number (MX), e.g. 5 for sparse */
  mxClass: number;
  dims: number[];
}

export type MatValue = MatNumeric | MatChar | MatCell | MatStruct | MatUnsupported;

export interface MatFile {
  /** where it was read from, if known (named in errors) */
  file?: string;
  /** the header's descriptive text, e.g. "MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: …" */
  header: string;
  /** the file's variables by name, in file order */
  variables: Map<string, MatValue>;
}

const NUMERIC_CLASSES: Partial<Record<number, NumericClass>> = {
  [MX.DOUBLE]: 'double',
  [MX.SINGLE]: 'single',
  [MX.INT8]: 'int8',
  [MX.UINT8]: 'uint8',
  [MX.INT16]: 'int16',
  [MX.UINT16]: 'uint16',
  [MX.INT32]: 'int32',
  [MX.UINT32]: 'uint32',
  [MX.INT64]: 'int64',
  [MX.UINT64]: 'uint64',
};

const CLASS_NAMES: Record<number, string> = {
  [MX.CELL]: 'cell',
  [MX.STRUCT]: 'struct',
  [MX.OBJECT]: 'object',
  [MX.CHAR]: 'char',
  [MX.SPARSE]: 'sparse',
  16: 'function handle',
  17: 'opaque',
};

/** Bytes per value of the numeric data types. */
const MI_SIZE: Partial<Record<number, number>> = {
  [MI.INT8]: 1,
  [MI.UINT8]: 1,
  [MI.INT16]: 2,
  [MI.UINT16]: 2,
  [MI.INT32]: 4,
  [MI.UINT32]: 4,
  [MI.SINGLE]: 4,
  [MI.DOUBLE]: 8,
  [MI.INT64]: 8,
  [MI.UINT64]: 8,
};

const FIX = 're-download or re-extract the file (clip-bench reads little-endian MAT v5/v6/v7 files)';

interface Ctx {
  file?: string;
}

function fail(ctx: Ctx, message: string, fix = FIX): never {
  throw new UsageError(`MAT-file: ${message}`, { file: ctx.file, fix });
}

interface Element {
  type: number;
  data: Uint8Array;
  /** offset of the next element in the same buffer */
  next: number;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** One data element at `offset` of `buf` (≤ `end`): a full 8-byte tag or the small (4-byte) format. */
export function readElement(buf: Uint8Array, offset: number, end = buf.length, ctx: Ctx = {}): Element {
  if (offset + 8 > end) fail(ctx, `truncated: a data element tag at byte ${offset} runs past the end (${end})`);
  const dv = view(buf);
  const w0 = dv.getUint32(offset, true);
  if (w0 >>> 16 !== 0) {
    // small data element: [bytes:uint16][type:uint16] then up to 4 bytes of data in the same 8 bytes
    const type = w0 & 0xffff;
    const n = w0 >>> 16;
    if (n > 4) fail(ctx, `corrupt small data element at byte ${offset} (${n} bytes > 4)`);
    return { type, data: buf.subarray(offset + 4, offset + 4 + n), next: offset + 8 };
  }
  const type = w0;
  const n = dv.getUint32(offset + 4, true);
  if (offset + 8 + n > end) fail(ctx, `truncated: a data element of ${n} bytes at byte ${offset} runs past the end (${end})`);
  // elements are padded to 8 bytes, except compressed ones, which are followed directly by the next tag
  const padded = type === MI.COMPRESSED ? n : Math.ceil(n / 8) * 8;
  return { type, data: buf.subarray(offset + 8, offset + 8 + n), next: offset + 8 + padded };
}

/** Bytes as ISO-8859-1 (names are ASCII; TextDecoder's "latin1" is really windows-1252). */
function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Values of a numeric data element as numbers (bigint for 64-bit integers). */
function numericValues(el: Element, ctx: Ctx): (number | bigint)[] {
  const size = MI_SIZE[el.type];
  if (size === undefined) fail(ctx, `data type ${el.type} where numbers were expected`);
  if (el.data.length % size !== 0) fail(ctx, `${el.data.length} bytes is not a whole number of ${size}-byte values`);
  const dv = view(el.data);
  const n = el.data.length / size;
  const out = new Array<number | bigint>(n);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (el.type) {
      case MI.INT8: out[i] = dv.getInt8(o); break;
      case MI.UINT8: out[i] = dv.getUint8(o); break;
      case MI.INT16: out[i] = dv.getInt16(o, true); break;
      case MI.UINT16: out[i] = dv.getUint16(o, true); break;
      case MI.INT32: out[i] = dv.getInt32(o, true); break;
      case MI.UINT32: out[i] = dv.getUint32(o, true); break;
      case MI.SINGLE: out[i] = dv.getFloat32(o, true); break;
      case MI.DOUBLE: out[i] = dv.getFloat64(o, true); break;
      case MI.INT64: out[i] = dv.getBigInt64(o, true); break;
      default: out[i] = dv.getBigUint64(o, true); break;
    }
  }
  return out;
}

/** Widens stored values to the array class's typed array (MATLAB stores e.g. small doubles as miUINT8). */
function toClassArray(cls: NumericClass, values: (number | bigint)[], ctx: Ctx): NumericData {
  if (cls === 'int64' || cls === 'uint64') {
    const out = cls === 'int64' ? new BigInt64Array(values.length) : new BigUint64Array(values.length);
    values.forEach((v, i) => {
      if (typeof v === 'number' && !Number.isInteger(v)) fail(ctx, `non-integer value ${v} in an ${cls} array`);
      out[i] = BigInt(v);
    });
    return out;
  }
  const Ctor = {
    double: Float64Array,
    single: Float32Array,
    int8: Int8Array,
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
  }[cls];
  const out = new Ctor(values.length);
  values.forEach((v, i) => {
    out[i] = Number(v);
  });
  return out;
}

function charUnits(el: Element, numel: number, ctx: Ctx): Uint16Array {
  const dv = view(el.data);
  let units: Uint16Array;
  switch (el.type) {
    case MI.UINT16:
    case MI.UTF16:
      units = new Uint16Array(el.data.length >>> 1);
      for (let i = 0; i < units.length; i++) units[i] = dv.getUint16(2 * i, true);
      break;
    case MI.UINT8:
    case MI.INT8:
      units = Uint16Array.from(el.data);
      break;
    case MI.UTF8: {
      const s = new TextDecoder('utf-8', { fatal: true }).decode(el.data);
      units = new Uint16Array(s.length);
      for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i);
      break;
    }
    default:
      fail(ctx, `char data of type ${el.type} is not supported (expected miUINT16, miUTF16, miUINT8 or miUTF8)`);
  }
  if (units.length !== numel) fail(ctx, `char array has ${units.length} characters for ${numel} elements`);
  return units;
}

/** The body of a miMATRIX element: its name and value. */
function parseMatrix(buf: Uint8Array, ctx: Ctx): { name: string; value: MatValue } {
  if (buf.length === 0) {
    // an empty miMATRIX element stands for [] (MATLAB writes it for empty cells and fields)
    return { name: '', value: { kind: 'numeric', class: 'double', dims: [0, 0], real: new Float64Array(0), logical: false } };
  }
  const end = buf.length;
  const flagsEl = readElement(buf, 0, end, ctx);
  if (flagsEl.type !== MI.UINT32 || flagsEl.data.length !== 8) fail(ctx, 'an array does not start with its array-flags subelement');
  const flags = view(flagsEl.data).getUint32(0, true);
  const mxClass = flags & 0xff;
  const complex = (flags & 0x800) !== 0;
  const logical = (flags & 0x200) !== 0;

  const dimsEl = readElement(buf, flagsEl.next, end, ctx);
  if (dimsEl.type !== MI.INT32 || dimsEl.data.length < 8 || dimsEl.data.length % 4 !== 0) fail(ctx, 'an array has no valid dimensions subelement');
  const dims = numericValues(dimsEl, ctx).map(Number);
  if (dims.some((d) => d < 0)) fail(ctx, `negative dimension in [${dims.join(', ')}]`);
  const nameEl = readElement(buf, dimsEl.next, end, ctx);
  if (nameEl.type !== MI.INT8 && nameEl.type !== MI.UINT8) fail(ctx, 'an array has no name subelement');
  const name = latin1(nameEl.data);
  const numel = product(dims);
  let pos = nameEl.next;

  const next = (): Element => {
    const el = readElement(buf, pos, end, ctx);
    pos = el.next;
    return el;
  };

  const cls = NUMERIC_CLASSES[mxClass];
  if (cls !== undefined) {
    // an empty array may carry no data subelement at all
    const real = numel === 0 && pos >= end ? toClassArray(cls, [], ctx) : toClassArray(cls, numericValues(next(), ctx), ctx);
    if (real.length !== numel) fail(ctx, `array "${name}" has ${real.length} values for dimensions ${dims.join('×')}`);
    const value: MatNumeric = { kind: 'numeric', class: cls, dims, real, logical };
    if (complex) {
      value.imag = toClassArray(cls, numericValues(next(), ctx), ctx);
      if (value.imag.length !== numel) fail(ctx, `array "${name}" has ${value.imag.length} imaginary values for ${numel} elements`);
    }
    return { name, value };
  }
  switch (mxClass) {
    case MX.CHAR:
      return { name, value: { kind: 'char', dims, codeUnits: numel === 0 && pos >= end ? new Uint16Array(0) : charUnits(next(), numel, ctx) } };
    case MX.CELL: {
      const cells: MatValue[] = [];
      for (let i = 0; i < numel; i++) cells.push(matrixElement(next(), ctx).value);
      return { name, value: { kind: 'cell', dims, cells } };
    }
    case MX.STRUCT: {
      const lenEl = next();
      if (lenEl.type !== MI.INT32 || lenEl.data.length !== 4) fail(ctx, `struct "${name}" has no field-name-length subelement`);
      const len = view(lenEl.data).getInt32(0, true);
      const namesEl = next();
      if (namesEl.type !== MI.INT8 && namesEl.type !== MI.UINT8) fail(ctx, `struct "${name}" has no field-names subelement`);
      if (len <= 0 ? namesEl.data.length !== 0 : namesEl.data.length % len !== 0) fail(ctx, `struct "${name}" field names do not fit length ${len}`);
      const fieldNames: string[] = [];
      for (let o = 0; len > 0 && o < namesEl.data.length; o += len) {
        const raw = namesEl.data.subarray(o, o + len);
        const nul = raw.indexOf(0);
        fieldNames.push(latin1(nul < 0 ? raw : raw.subarray(0, nul)));
      }
      const elements: Map<string, MatValue>[] = [];
      for (let i = 0; i < numel; i++) {
        const m = new Map<string, MatValue>();
        for (const f of fieldNames) m.set(f, matrixElement(next(), ctx).value);
        elements.push(m);
      }
      return { name, value: { kind: 'struct', dims, fieldNames, elements } };
    }
    default:
      return { name, value: { kind: 'unsupported', mxClass, dims } };
  }
}

/** A miMATRIX element (or a miCOMPRESSED one holding it). */
function matrixElement(el: Element, ctx: Ctx): { name: string; value: MatValue } {
  if (el.type === MI.COMPRESSED) {
    const inner = inflate(el.data, ctx);
    return matrixElement(readElement(inner, 0, inner.length, ctx), ctx);
  }
  if (el.type !== MI.MATRIX) fail(ctx, `expected an array (miMATRIX) element, found data type ${el.type}`);
  return parseMatrix(el.data, ctx);
}

function inflate(data: Uint8Array, ctx: Ctx): Uint8Array {
  try {
    return inflateSync(data);
  } catch (err) {
    return fail(ctx, `a compressed element does not inflate (${(err as Error).message})`);
  }
}

/** Parses a whole MAT v5 file held in memory; `file` only names it in errors. */
export function readMat(bytes: Uint8Array, file?: string): MatFile {
  const ctx: Ctx = { file };
  if (bytes.length < 128) fail(ctx, `only ${bytes.length} bytes, shorter than the 128-byte MAT v5 header`);
  const text = latin1(bytes.subarray(0, 116));
  const header = text.replace(/[\0 ]+$/, '');
  const dv = view(bytes);
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian === 'MI') fail(ctx, 'big-endian MAT-files are not supported', 'save it again on a little-endian machine (MATLAB/scipy on x86 or ARM)');
  if (endian !== 'IM') {
    if (bytes[0] === 0 || bytes[1] === 0 || bytes[2] === 0 || bytes[3] === 0) fail(ctx, 'this looks like a MAT v4 file, which is not supported', 'save it again as MAT v5, v6 or v7');
    fail(ctx, 'no MAT v5 header (endian indicator "IM" missing at byte 126)');
  }
  if (/MATLAB 7\.3/.test(header) || String.fromCharCode(...bytes.subarray(512, 516)) === '\x89HDF') {
    fail(ctx, 'MAT v7.3 files are HDF5 and not supported', "save it again with `save -v7` (or scipy's savemat)");
  }
  const version = dv.getUint16(124, true);
  if (version !== 0x0100) fail(ctx, `unknown MAT v5 version 0x${version.toString(16)}`);
  const variables = new Map<string, MatValue>();
  let pos = 128;
  while (pos + 8 <= bytes.length) {
    const el = readElement(bytes, pos, bytes.length, ctx);
    pos = el.next;
    // other top-level elements (e.g. padding, subsystem data) are not variables
    if (el.type !== MI.MATRIX && el.type !== MI.COMPRESSED) continue;
    const { name, value } = matrixElement(el, ctx);
    variables.set(name, value);
  }
  return { file, header, variables };
}

/** Reads and parses a MAT v5 file. */
export async function loadMat(file: string): Promise<MatFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read the MAT-file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file, fix: 'check the path', cause: err });
  }
  return readMat(bytes, file);
}

// ---- accessors: small, checked views of values, for adapters ----

/** "1860×1 struct", "1×9 char", … for error messages. */
export function describeMat(v: MatValue): string {
  const shape = v.dims.join('×');
  switch (v.kind) {
    case 'numeric':
      return `${shape} ${v.logical ? 'logical' : v.class}${v.imag ? ' (complex)' : ''}`;
    case 'unsupported':
      return `${shape} ${CLASS_NAMES[v.mxClass] ?? `class ${v.mxClass}`} (not supported)`;
    default:
      return `${shape} ${v.kind}`;
  }
}

/** The variable `name`, or an error naming what the file holds. */
export function matVariable(mat: MatFile, name: string, file = mat.file): MatValue {
  const v = mat.variables.get(name);
  if (v === undefined) {
    const has = [...mat.variables].map(([n, x]) => `${n} (${describeMat(x)})`).join(', ') || 'nothing';
    fail({ file }, `no variable "${name}"; the file holds ${has}`, 'pass the right file');
  }
  return v;
}

/** The real part of a numeric array as numbers (64-bit integers must be exactly representable). */
export function matNumbers(v: MatValue, what: string, file?: string): number[] {
  if (v.kind !== 'numeric') fail({ file }, `${what} should be numeric, found ${describeMat(v)}`, 'pass the right file');
  return Array.from(v.real as ArrayLike<number | bigint>, (x) => {
    if (typeof x === 'bigint') {
      if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) fail({ file }, `${what} holds ${x}, too large for a number`);
      return Number(x);
    }
    return x;
  });
}

/** A numeric scalar (1×1). */
export function matScalar(v: MatValue, what: string, file?: string): number {
  const xs = matNumbers(v, what, file);
  if (xs.length !== 1) fail({ file }, `${what} should be a scalar, found ${describeMat(v)}`, 'pass the right file');
  return xs[0];
}

function unitsToString(units: Uint16Array): string {
  let s = '';
  for (let i = 0; i < units.length; i += 8192) s += String.fromCharCode(...units.subarray(i, i + 8192));
  return s;
}

/** A char row or column vector (or empty char) as a string. */
export function matText(v: MatValue, what: string, file?: string): string {
  if (v.kind !== 'char') fail({ file }, `${what} should be text (char), found ${describeMat(v)}`, 'pass the right file');
  if (v.dims.length > 2 || (v.dims[0] > 1 && v.dims[1] > 1)) fail({ file }, `${what} should be one line of text, found ${describeMat(v)}`, 'pass the right file');
  return unitsToString(v.codeUnits);
}

/**
 * Strings of a cell array of char vectors (column-major), or the rows of a char matrix
 * (MATLAB pads rows with spaces; they are kept).
 */
export function matTexts(v: MatValue, what: string, file?: string): string[] {
  if (v.kind === 'cell') return v.cells.map((c, i) => matText(c, `${what}{${i + 1}}`, file));
  if (v.kind === 'char') {
    const [rows, cols] = v.dims;
    if (v.dims.length > 2) fail({ file }, `${what} should be a list of strings, found ${describeMat(v)}`, 'pass the right file');
    const out: string[] = [];
    for (let r = 0; r < rows; r++) {
      const row = new Uint16Array(cols);
      for (let c = 0; c < cols; c++) row[c] = v.codeUnits[r + rows * c];
      out.push(unitsToString(row));
    }
    return out;
  }
  return fail({ file }, `${what} should be a cell array of strings, found ${describeMat(v)}`, 'pass the right file');
}

/** A struct array, checked to have `fields`. */
export function matStruct(v: MatValue, what: string, fields: readonly string[], file?: string): MatStruct {
  if (v.kind !== 'struct') fail({ file }, `${what} should be a struct array, found ${describeMat(v)}`, 'pass the right file');
  const missing = fields.filter((f) => !v.fieldNames.includes(f));
  if (missing.length) fail({ file }, `${what} has no field ${missing.join(', ')} (fields: ${v.fieldNames.join(', ')})`, 'pass the right file');
  return v;
}

/**
 * A small, safe reader for Python pickles: enough for the data files benchmarks ship as pickles (the
 * CIFAR-10/100 "python version" batches, written by Python 2's cPickle with protocol 2), and for the same
 * dicts re-pickled by Python 3 (protocols 1-5).
 *
 * It never executes anything. Pickles name callables (GLOBAL / STACK_GLOBAL) and call them (REDUCE); this
 * reader knows a fixed table of them — numpy's array and dtype reconstruction, `_codecs.encode` (how
 * Python 3 writes `bytes` in protocols below 3) and `bytes()` — and rebuilds those values itself. Any
 * other global, and the opcodes that instantiate classes (INST, OBJ, NEWOBJ, persistent ids, extension
 * codes), is refused with an error naming it. Text-protocol strings (STRING, UNICODE, FLOAT) are refused too.
 *
 * Values: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number, str → string,
 * bytes and Python 2 `str` → Uint8Array (what Python 3 gives with `encoding='bytes'`), list → array,
 * tuple → PyTuple, dict → PyDict, numpy arrays → NdArray (raw bytes plus dtype and shape).
 * Byte strings are views into the input buffer, not copies.
 */
import { UsageError } from '../errors.js';

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | NdArray | NumpyDtype | PyGlobal;

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A dict, in insertion order; keys may be str or bytes (Python 2 `str` keys read as bytes). */
export class PyDict {
  readonly entries: [PyValue, PyValue][] = [];
  /** position of each str, bytes or number key in `entries` (bytes and str with the same text differ, as in Python 3) */
  private readonly index = new Map<string, number>();

  set(key: PyValue, value: PyValue): void {
    const id = keyId(key);
    const i = id === undefined ? this.entries.findIndex(([k]) => k === key) : this.index.get(id);
    if (i !== undefined && i >= 0) this.entries[i][1] = value;
    else {
      if (id !== undefined) this.index.set(id, this.entries.length);
      this.entries.push([key, value]);
    }
  }

  /** The value under the str key `name` or the bytes key of the same ASCII text (b'data' and 'data' alike). */
  get(name: string): PyValue | undefined {
    const i = this.index.get(`s:${name}`) ?? this.index.get(`b:${name}`);
    return i === undefined ? undefined : this.entries[i][1];
  }

  /** Keys as text (bytes keys decoded as Latin-1), for messages. */
  keyNames(): string[] {
    return this.entries.map(([k]) => keyText(k) ?? String(k));
  }
}

function keyId(k: PyValue): string | undefined {
  if (typeof k === 'string') return `s:${k}`;
  if (k instanceof Uint8Array) return `b:${latin1(k)}`;
  if (typeof k === 'number' || typeof k === 'bigint') return `n:${k}`;
  return undefined;
}

function keyText(k: PyValue): string | undefined {
  if (typeof k === 'string') return k;
  if (k instanceof Uint8Array) return latin1(k);
  return undefined;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A numpy dtype of a plain scalar type: `descr` as numpy pickles it ('u1', 'i8', 'f4', 'b1', …). */
export class NumpyDtype {
  /** '|' (not applicable), '<' or '>', from the pickled state; '=' until then (native: little-endian) */
  byteorder = '=';
  constructor(readonly descr: string) {}

  get kind(): string {
    return this.descr[0];
  }

  get itemsize(): number {
    return Number(this.descr.slice(1));
  }
}

/** A numpy array as stored: its raw bytes in C (row-major) order unless `fortran`. */
export class NdArray {
  shape: number[] = [];
  dtype: NumpyDtype | undefined;
  fortran = false;
  data: Uint8Array = new Uint8Array(0);
  /** set once the array's state has been applied (BUILD after _reconstruct, or built by _frombuffer) */
  complete = false;

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** A callable the pickle named, from the allowed table. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

const DEFAULT_FIX = "expected a pickle of built-in types and numpy arrays, as Python's pickle or cPickle writes it";

export interface PickleOptions {
  /** file named in errors */
  file?: string;
  /** the fix printed with every error about this file */
  fix?: string;
}

/** The globals this reader understands, each rebuilt here from its arguments instead of being called. */
const ALLOWED_GLOBALS: Record<string, (args: readonly PyValue[], fail: (m: string) => never) => PyValue> = {
  'numpy.core.multiarray._reconstruct': reconstruct,
  'numpy._core.multiarray._reconstruct': reconstruct,
  'numpy.core.numeric._frombuffer': frombuffer,
  'numpy._core.numeric._frombuffer': frombuffer,
  'numpy.dtype': makeDtype,
  'numpy.ndarray': (_, fail) => fail('numpy.ndarray is only understood as the first argument of _reconstruct'),
  '_codecs.encode': codecsEncode,
  '__builtin__.bytes': (args, fail) => (args.length === 0 ? new Uint8Array(0) : fail('bytes() with arguments is not understood')),
  'builtins.bytes': (args, fail) => (args.length === 0 ? new Uint8Array(0) : fail('bytes() with arguments is not understood')),
};

/** `_reconstruct(ndarray, (0,), b'b')`: an empty array that the following BUILD fills in. */
function reconstruct(args: readonly PyValue[], fail: (m: string) => never): PyValue {
  const cls = args[0];
  if (!(cls instanceof PyGlobal) || `${cls.module}.${cls.name}` !== 'numpy.ndarray') fail('_reconstruct of something other than numpy.ndarray');
  return new NdArray();
}

/** numpy ≥ 1.16 with protocol 5: `_frombuffer(buffer, dtype, shape, order)`. */
function frombuffer(args: readonly PyValue[], fail: (m: string) => never): PyValue {
  const [buf, dtype, shape, order] = args;
  if (!(buf instanceof Uint8Array) || !(dtype instanceof NumpyDtype) || !(shape instanceof PyTuple) || (order !== 'C' && order !== 'F')) {
    fail('_frombuffer with arguments other than (bytes, dtype, shape, "C" | "F")');
  }
  const a = new NdArray();
  a.dtype = dtype;
  a.shape = shapeOf(shape, fail);
  a.fortran = order === 'F';
  a.data = buf;
  checkArray(a, fail);
  a.complete = true;
  return a;
}

const PLAIN_DTYPE = /^(b1|[iu][1248]|f[248])$/;

function makeDtype(args: readonly PyValue[], fail: (m: string) => never): PyValue {
  const descr = args[0] instanceof Uint8Array ? latin1(args[0]) : args[0];
  if (typeof descr !== 'string') fail('numpy.dtype of a non-string');
  if (!PLAIN_DTYPE.test(descr)) fail(`numpy dtype "${descr}" is not understood (only bool, integer and float scalars)`);
  return new NumpyDtype(descr);
}

/** Python 3 writes bytes as `_codecs.encode(text, 'latin1')` in protocols 0-2. */
function codecsEncode(args: readonly PyValue[], fail: (m: string) => never): PyValue {
  const [text, encoding] = args;
  if (typeof text !== 'string' || typeof encoding !== 'string' || !/^(latin-?1|iso-?8859-?1)$/i.test(encoding)) {
    fail("_codecs.encode with arguments other than (str, 'latin1')");
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 255) fail(`_codecs.encode: character U+${c.toString(16).toUpperCase().padStart(4, '0')} is not Latin-1`);
    out[i] = c;
  }
  return out;
}

function shapeOf(t: PyValue, fail: (m: string) => never): number[] {
  if (!(t instanceof PyTuple) || !t.items.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) fail('array shape is not a tuple of non-negative integers');
  return t.items as number[];
}

function checkArray(a: NdArray, fail: (m: string) => never): void {
  const want = a.size * a.dtype!.itemsize;
  if (a.data.length !== want) fail(`array of shape (${a.shape.join(', ')}) and dtype ${a.dtype!.descr} needs ${want} bytes, the pickle holds ${a.data.length}`);
}

/** BUILD on an ndarray: state (version, shape, dtype, is_fortran, rawdata), or the 4-tuple of numpy < 1.0 without version. */
function buildArray(a: NdArray, state: PyValue, fail: (m: string) => never): void {
  const items = state instanceof PyTuple ? state.items : [];
  const s = items.length === 5 ? items.slice(1) : items.length === 4 ? items : fail('ndarray state is not a (version, shape, dtype, is_fortran, data) tuple');
  const [shape, dtype, fortran, raw] = s;
  if (!(dtype instanceof NumpyDtype)) fail('ndarray state without a dtype');
  if (Array.isArray(raw)) fail('object arrays (dtype=object) are not understood');
  if (!(raw instanceof Uint8Array)) fail('ndarray data is not a byte string');
  a.shape = shapeOf(shape, fail);
  a.dtype = dtype;
  a.fortran = fortran === true || fortran === 1;
  a.data = raw;
  checkArray(a, fail);
  a.complete = true;
}

/** BUILD on a dtype: state (version, byteorder, subarray, names, fields, elsize, alignment[, flags]). */
function buildDtype(d: NumpyDtype, state: PyValue, fail: (m: string) => never): void {
  const items = state instanceof PyTuple ? state.items : fail('dtype state is not a tuple');
  const order = items[1] instanceof Uint8Array ? latin1(items[1]) : items[1];
  if (typeof order !== 'string' || !['<', '>', '|', '='].includes(order)) fail('dtype state without a byte order');
  if (items.slice(2, 5).some((x) => x !== null)) fail('structured or sub-array dtypes are not understood');
  d.byteorder = order;
}

/** Reads a little-endian two's complement integer of `n` bytes (LONG1/LONG4). */
function readLong(b: Uint8Array, start: number, n: number): number | bigint {
  if (n === 0) return 0;
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[start + i]);
  if (b[start + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return narrow(v);
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const REFUSED: Record<number, string> = {
  0x69: 'INST (instantiates a class)',
  0x6f: 'OBJ (instantiates a class)',
  0x81: 'NEWOBJ (instantiates a class)',
  0x92: 'NEWOBJ_EX (instantiates a class)',
  0x50: 'PERSID (persistent id)',
  0x51: 'BINPERSID (persistent id)',
  0x82: 'EXT1 (extension registry)',
  0x83: 'EXT2 (extension registry)',
  0x84: 'EXT4 (extension registry)',
  0x53: 'STRING (text protocol 0)',
  0x56: 'UNICODE (text protocol 0)',
  0x46: 'FLOAT (text protocol 0)',
  0x97: 'NEXT_BUFFER (out-of-band buffer)',
  0x98: 'READONLY_BUFFER (out-of-band buffer)',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
};

/**
 * Parses one pickle from `bytes` and returns its value. Errors are `UsageError`s naming `opts.file`, the
 * byte offset and what was found.
 *
 * @example
 * parsePickle(Uint8Array.from([0x80, 2, 0x5d, 0x4b, 7, 0x61, 0x2e])) // → [7]   (pickle.dumps([7], 2))
 */
export function parsePickle(bytes: Uint8Array, opts: PickleOptions = {}): PyValue {
  const b = bytes;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const text = new TextDecoder('utf-8');
  let pos = 0;
  let op = 0;
  let opAt = 0;
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const fail = (message: string): never => {
    throw new UsageError(`not a readable pickle: ${message} (opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opAt})`, { file: opts.file, fix: opts.fix ?? DEFAULT_FIX });
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > b.length) fail(`the file ends ${pos + n - b.length} bytes early`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => b[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const i32 = () => view.getInt32(need(4), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = () => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(b.length)) fail(`a length of ${v} bytes, more than the whole file`);
    return Number(v);
  };
  const bytesOf = (n: number) => b.subarray(need(n), pos);
  const line = (): string => {
    const end = b.indexOf(0x0a, pos);
    if (end < 0) fail('a text argument without its newline');
    const s = latin1(b.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => (stack.length > (marks.at(-1) ?? 0) ? stack.pop()! : fail('the stack is empty'));
  const top = (): PyValue => (stack.length > (marks.at(-1) ?? 0) ? stack[stack.length - 1] : fail('the stack is empty'));
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK to pop to');
    return stack.splice(m!);
  };
  const memoGet = (i: number): PyValue => (memo.has(i) ? memo.get(i)! : fail(`memo entry ${i} was never stored`));
  const asList = (v: PyValue): PyValue[] => (Array.isArray(v) ? v : fail('APPEND to something that is not a list'));
  const asDict = (v: PyValue): PyDict => (v instanceof PyDict ? v : fail('SETITEM to something that is not a dict'));
  const global = (module: string, name: string): PyValue => {
    const qualified = `${module}.${name}`;
    if (!Object.hasOwn(ALLOWED_GLOBALS, qualified)) {
      fail(`refusing global ${qualified}: only numpy arrays and dtypes, bytes and built-in containers are understood, and nothing is ever executed`);
    }
    return new PyGlobal(module, name);
  };
  const int = (s: string): number | bigint | boolean => {
    const t = s.replace(/L$/, '');
    if (!/^[+-]?\d+$/.test(t)) fail(`"${s}" is not an integer`);
    if (s === '00') return false; // protocol 0/1 write bools as I00 / I01
    if (s === '01') return true;
    return narrow(BigInt(t));
  };

  for (;;) {
    opAt = pos;
    op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail(`the pickle ends with ${stack.length} values on the stack`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length > (marks.at(-1) ?? 0)) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x49: // INT (text)
        stack.push(int(line()));
        break;
      case 0x4c: // LONG (text)
        stack.push(int(line()) as number | bigint);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1
        const n = u8();
        stack.push(readLong(b, need(n), n));
        break;
      }
      case 0x8b: {
        // LONG4
        const n = i32();
        stack.push(readLong(b, need(n), n));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str)
      case 0x43: // SHORT_BINBYTES
        stack.push(bytesOf(u8()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(bytesOf(i32()));
        break;
      case 0x42: // BINBYTES
        stack.push(bytesOf(u32()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytesOf(u64()));
        break;
      case 0x96: // BYTEARRAY8
        stack.push(bytesOf(u64()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text.decode(bytesOf(u8())));
        break;
      case 0x58: // BINUNICODE
        stack.push(text.decode(bytesOf(u32())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text.decode(bytesOf(u64())));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = op - 0x84;
        const items = Array.from({ length: n }, pop).reverse();
        stack.push(new PyTuple(items));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        asList(top()).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = asList(top());
        for (const v of items) list.push(v);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new PyDict();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        asDict(top()).set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2) fail('SETITEMS with an odd number of values');
        const d = asDict(top());
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL of non-strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal) || !(args instanceof PyTuple)) fail('REDUCE of something other than an allowed global and an argument tuple');
        const g = fn as PyGlobal;
        stack.push(ALLOWED_GLOBALS[`${g.module}.${g.name}`]((args as PyTuple).items, fail));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof NdArray && !obj.complete) buildArray(obj, state, fail);
        else if (obj instanceof NumpyDtype) buildDtype(obj, state, fail);
        else fail('BUILD (setting an object\'s state) on something other than a numpy array or dtype');
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number(int(line())), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(Number(int(line()))));
        break;
      default:
        fail(REFUSED[op] ? `opcode ${REFUSED[op]} is not supported` : 'unknown opcode');
    }
  }
}

/** Short type name of a value, for messages. */
export function pyTypeName(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof NdArray) return v.dtype ? `ndarray of ${v.dtype.descr}, shape (${v.shape.join(', ')})` : 'ndarray';
  if (v instanceof NumpyDtype) return 'dtype';
  return `${v.module}.${v.name}`;
}

/**
 * The integers of a list of ints or of an integer numpy array (any byte order), e.g. a batch's labels.
 * `undefined` when `v` is neither.
 */
export function integerValues(v: PyValue | undefined): number[] | undefined {
  if (Array.isArray(v)) return v.every((x) => typeof x === 'number' && Number.isInteger(x)) ? (v as number[]) : undefined;
  if (!(v instanceof NdArray) || !v.dtype || !/^[iub]/.test(v.dtype.kind) || v.shape.length !== 1) return undefined;
  const size = v.dtype.itemsize;
  const little = v.dtype.byteorder !== '>';
  const dv = new DataView(v.data.buffer, v.data.byteOffset, v.data.byteLength);
  const signed = v.dtype.kind === 'i';
  const out: number[] = [];
  for (let i = 0; i < v.size; i++) {
    const at = i * size;
    if (size === 1) out.push(signed ? dv.getInt8(at) : dv.getUint8(at));
    else if (size === 2) out.push(signed ? dv.getInt16(at, little) : dv.getUint16(at, little));
    else if (size === 4) out.push(signed ? dv.getInt32(at, little) : dv.getUint32(at, little));
    else out.push(Number(signed ? dv.getBigInt64(at, little) : dv.getBigUint64(at, little)));
  }
  return out;
}

/** Strings of a list of str or bytes (bytes decoded as UTF-8), e.g. CIFAR's `label_names`. */
export function stringValues(v: PyValue | undefined): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const dec = new TextDecoder('utf-8');
  const out: string[] = [];
  for (const x of v) {
    if (typeof x === 'string') out.push(x);
    else if (x instanceof Uint8Array) out.push(dec.decode(x));
    else return undefined;
  }
  return out;
}

import { deflateSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeMat,
  loadMat,
  matNumbers,
  matScalar,
  matStruct,
  matText,
  matTexts,
  matVariable,
  readMat,
  type MatFile,
  type MatValue,
} from '../src/datasets/mat5.js';
import { writeMat } from './support/mat5-writer.js';

/**
 * Files written by scipy 1.17 `scipy.io.savemat` (do_compression=True / False) from:
 *   synsets: 3×1 struct (ILSVRC2012_ID, WNID, words, gloss, num_children, children, wordnet_height, num_train_images)
 *            like the ImageNet devkit's meta.mat: (1, n02119789, 'kit fox, Vulpes macrotis', …, children 1×0),
 *            (2, n02100735, 'English setter', …), (1001, n00001740, 'entity', …, num_children 2, children [1 2], height 19)
 *   labels: [3 1 2 250] double;  names: 1×2 cell {'ä', 'bc'};  i16: int16 [-5 7];  big: int64 2^40;  flag: logical [1 0]
 * An independent writer, so these check the reader against real-world bytes.
 */
const SCIPY_COMPRESSED = [
  'TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IEZyaSBOb3YgMjcgMDE6MTQ6NTAgMjAyNgAAAAAAAAAAAA',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0PAAAAfAEAAHic7VTNSsNAEJ7+akFCREGP+wAekqq0PVlQwYJ4',
  'UKjHEJM1WUw2ZXdrzRv4qt58BHdtYrchxTb16MCw+SbzfdnZzKwBAOYOQFuuu9LrMLdWhhvSa5nLNOAp5Vhw+b4J+1n8Xfro9mF8f9m17K4zul',
  'ICj3fz9cdmCfO5HgiihC8F6DR2vJBEPsP0O7AEcg2KhRNiEoQiowjmEuqQ2A0wB0MG+7CoxyjUU9Nc2Z4Whyx/qPGbJfyOlm9mmFpd2x70+gNN',
  '5+YXneOCjsIvRKDn5O0EjafRBHMUux5LBOHr7Mso6CnMYzeKUMBwqmSh8vnkpvItjd8u4YO2djTett+twj9sbcfP52GbvrCs3un5Bjpl//GaBh',
  'HhIZLDJzBbT8cs6Ch3KcqlnhjG/n8/bMb/aCz4Q6jSD9Ls3pm1oo4ynXZBR2FMBRHpevfMUYGvsAhdgWYh8UJEOJpg5mHyiv0/n5OyfqjDcj+Y',
  'kNvnRfYwrLqPgxXnuml/fQEpkFy2DwAAADkAAAB4nONjYGCIAGI2IOaA0iDACuUzAjELlAbJ5SQmpeYUMzBwAtkKDDDA4QChP9hDBSB8h3wHAM',
  'dqBdYPAAAAQAAAAHic42NgYFgAxGxAzAHEjAwQwIrEZ4LSILG8xNzUYiDNB8QGSPpYsOhjRDJPAGjK4SXE6WNC05eUzMAAAA4pBfkPAAAAKwAA',
  'AHic42NgYDAAYjYg5gBiLgYIYIXyGYGYCUwzM2QamgFJFobf/9kZACNcA0MPAAAAKAAAAHic42NgYLAAYjYg5gBiPgYIYIXyGeGYmSEpM52BBy',
  'oOBkAJADDCAb0PAAAAKgAAAHic42NgYDAAYjYg5gBiTiYGMGCF8hmBmAlMszCk5SSmMwF5IDEAJDsCDA==',
].join('');
const SCIPY_UNCOMPRESSED = [
  'TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IEZyaSBOb3YgMjcgMDE6MTQ6NTAgMjAyNgAAAAAAAAAAAA',
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0OAAAAEAcAAAYAAAAIAAAAAgAAAAAAAAAFAAAACAAAAAMAAAAB',
  'AAAAAQAAAAcAAABzeW5zZXRzAAUABAARAAAAAQAAAIgAAABJTFNWUkMyMDEyX0lEAAAAAFdOSUQAAAAAAAAAAAAAAAAAd29yZHMAAAAAAAAAAA',
  'AAAABnbG9zcwAAAAAAAAAAAAAAAG51bV9jaGlsZHJlbgAAAAAAY2hpbGRyZW4AAAAAAAAAAAB3b3JkbmV0X2hlaWdodAAAAG51bV90cmFpbl9p',
  'bWFnZXMADgAAADgAAAAGAAAACAAAAA4AAAAAAAAABQAAAAgAAAABAAAAAQAAAAEAAAAAAAAADAAAAAgAAAABAAAAAAAAAA4AAABAAAAABgAAAA',
  'gAAAAEAAAAAAAAAAUAAAAIAAAAAQAAAAkAAAABAAAAAAAAABAAAAAJAAAAbjAyMTE5Nzg5AAAAAAAAAA4AAABIAAAABgAAAAgAAAAEAAAAAAAA',
  'AAUAAAAIAAAAAQAAABgAAAABAAAAAAAAABAAAAAYAAAAa2l0IGZveCwgVnVscGVzIG1hY3JvdGlzDgAAAEAAAAAGAAAACAAAAAQAAAAAAAAABQ',
  'AAAAgAAAABAAAADgAAAAEAAAAAAAAAEAAAAA4AAABzbWFsbCBncmV5IGZveAAADgAAADgAAAAGAAAACAAAAA4AAAAAAAAABQAAAAgAAAABAAAA',
  'AQAAAAEAAAAAAAAADAAAAAgAAAAAAAAAAAAAAA4AAAAwAAAABgAAAAgAAAAGAAAAAAAAAAUAAAAIAAAAAQAAAAAAAAABAAAAAAAAAAkAAAAAAA',
  'AADgAAADgAAAAGAAAACAAAAA4AAAAAAAAABQAAAAgAAAABAAAAAQAAAAEAAAAAAAAADAAAAAgAAAAAAAAAAAAAAA4AAAA4AAAABgAAAAgAAAAO',
  'AAAAAAAAAAUAAAAIAAAAAQAAAAEAAAABAAAAAAAAAAwAAAAIAAAAFAUAAAAAAAAOAAAAOAAAAAYAAAAIAAAADgAAAAAAAAAFAAAACAAAAAEAAA',
  'ABAAAAAQAAAAAAAAAMAAAACAAAAAIAAAAAAAAADgAAAEAAAAAGAAAACAAAAAQAAAAAAAAABQAAAAgAAAABAAAACQAAAAEAAAAAAAAAEAAAAAkA',
  'AABuMDIxMDA3MzUAAAAAAAAADgAAAEAAAAAGAAAACAAAAAQAAAAAAAAABQAAAAgAAAABAAAADgAAAAEAAAAAAAAAEAAAAA4AAABFbmdsaXNoIH',
  'NldHRlcgAADgAAAEAAAAAGAAAACAAAAAQAAAAAAAAABQAAAAgAAAABAAAAEAAAAAEAAAAAAAAAEAAAABAAAABhbiBFbmdsaXNoIGJyZWVkDgAA',
  'ADgAAAAGAAAACAAAAA4AAAAAAAAABQAAAAgAAAABAAAAAQAAAAEAAAAAAAAADAAAAAgAAAAAAAAAAAAAAA4AAAAwAAAABgAAAAgAAAAGAAAAAA',
  'AAAAUAAAAIAAAAAQAAAAAAAAABAAAAAAAAAAkAAAAAAAAADgAAADgAAAAGAAAACAAAAA4AAAAAAAAABQAAAAgAAAABAAAAAQAAAAEAAAAAAAAA',
  'DAAAAAgAAAAAAAAAAAAAAA4AAAA4AAAABgAAAAgAAAAOAAAAAAAAAAUAAAAIAAAAAQAAAAEAAAABAAAAAAAAAAwAAAAIAAAAFAUAAAAAAAAOAA',
  'AAOAAAAAYAAAAIAAAADgAAAAAAAAAFAAAACAAAAAEAAAABAAAAAQAAAAAAAAAMAAAACAAAAOkDAAAAAAAADgAAAEAAAAAGAAAACAAAAAQAAAAA',
  'AAAABQAAAAgAAAABAAAACQAAAAEAAAAAAAAAEAAAAAkAAABuMDAwMDE3NDAAAAAAAAAADgAAADgAAAAGAAAACAAAAAQAAAAAAAAABQAAAAgAAA',
  'ABAAAABgAAAAEAAAAAAAAAEAAAAAYAAABlbnRpdHkAAA4AAABIAAAABgAAAAgAAAAEAAAAAAAAAAUAAAAIAAAAAQAAABcAAAABAAAAAAAAABAA',
  'AAAXAAAAdGhhdCB3aGljaCBpcyBwZXJjZWl2ZWQADgAAADgAAAAGAAAACAAAAA4AAAAAAAAABQAAAAgAAAABAAAAAQAAAAEAAAAAAAAADAAAAA',
  'gAAAACAAAAAAAAAA4AAABAAAAABgAAAAgAAAAGAAAAAAAAAAUAAAAIAAAAAQAAAAIAAAABAAAAAAAAAAkAAAAQAAAAAAAAAAAA8D8AAAAAAAAA',
  'QA4AAAA4AAAABgAAAAgAAAAOAAAAAAAAAAUAAAAIAAAAAQAAAAEAAAABAAAAAAAAAAwAAAAIAAAAEwAAAAAAAAAOAAAAOAAAAAYAAAAIAAAADg',
  'AAAAAAAAAFAAAACAAAAAEAAAABAAAAAQAAAAAAAAAMAAAACAAAAAAAAAAAAAAADgAAAFgAAAAGAAAACAAAAAYAAAAAAAAABQAAAAgAAAABAAAA',
  'BAAAAAEAAAAGAAAAbGFiZWxzAAAJAAAAIAAAAAAAAAAAAAhAAAAAAAAA8D8AAAAAAAAAQAAAAAAAQG9ADgAAAKAAAAAGAAAACAAAAAEAAAAAAA',
  'AABQAAAAgAAAABAAAAAgAAAAEAAAAFAAAAbmFtZXMAAAAOAAAAMAAAAAYAAAAIAAAABAAAAAAAAAAFAAAACAAAAAEAAAABAAAAAQAAAAAAAAAQ',
  'AAIAw6QAAA4AAAAwAAAABgAAAAgAAAAEAAAAAAAAAAUAAAAIAAAAAQAAAAIAAAABAAAAAAAAABAAAgBiYwAADgAAADAAAAAGAAAACAAAAAoAAA',
  'AAAAAABQAAAAgAAAABAAAAAgAAAAEAAwBpMTYAAwAEAPv/BwAOAAAAOAAAAAYAAAAIAAAADgAAAAAAAAAFAAAACAAAAAEAAAABAAAAAQADAGJp',
  'ZwAMAAAACAAAAAAAAAAAAQAADgAAADAAAAAGAAAACAAAAAkCAAAAAAAABQAAAAgAAAABAAAAAgAAAAEABABmbGFnAgACAAEAAAA=',
].join('');

/** The CLI's one line for a thrown UsageError, so tests see the file as the user does. */
function oneLine(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { oneLine?: () => string }).oneLine?.() ?? String(err);
  }
  return 'did not throw';
}

function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function v(mat: MatFile, name: string): MatValue {
  return matVariable(mat, name);
}

/** Everything the scipy fixture holds, checked through the public accessors. */
function expectScipyContents(mat: MatFile): void {
  expect([...mat.variables.keys()]).toEqual(['synsets', 'labels', 'names', 'i16', 'big', 'flag']);
  const syn = matStruct(v(mat, 'synsets'), 'synsets', ['ILSVRC2012_ID', 'WNID', 'words', 'children']);
  expect(syn.dims).toEqual([3, 1]);
  expect(syn.fieldNames).toEqual(['ILSVRC2012_ID', 'WNID', 'words', 'gloss', 'num_children', 'children', 'wordnet_height', 'num_train_images']);
  expect(syn.elements.map((e) => matScalar(e.get('ILSVRC2012_ID')!, 'id'))).toEqual([1, 2, 1001]);
  expect(syn.elements.map((e) => matText(e.get('WNID')!, 'wnid'))).toEqual(['n02119789', 'n02100735', 'n00001740']);
  expect(matText(syn.elements[0].get('words')!, 'words')).toBe('kit fox, Vulpes macrotis');
  expect(describeMat(syn.elements[0].get('children')!)).toBe('1×0 double');
  expect(matNumbers(syn.elements[2].get('children')!, 'children')).toEqual([1, 2]);
  expect(matScalar(syn.elements[2].get('wordnet_height')!, 'h')).toBe(19);
  expect(matNumbers(v(mat, 'labels'), 'labels')).toEqual([3, 1, 2, 250]);
  expect(matTexts(v(mat, 'names'), 'names')).toEqual(['ä', 'bc']);
  const i16 = v(mat, 'i16');
  expect(i16.kind === 'numeric' && i16.class).toBe('int16');
  expect(matNumbers(i16, 'i16')).toEqual([-5, 7]);
  const big = v(mat, 'big');
  expect(big.kind === 'numeric' && big.real).toEqual(new BigInt64Array([2n ** 40n]));
  expect(matNumbers(big, 'big')).toEqual([2 ** 40]);
  const flag = v(mat, 'flag');
  expect(flag.kind === 'numeric' && [flag.logical, Array.from(flag.real as Uint8Array)]).toEqual([true, [1, 0]]);
}

describe('mat5 reader on files written by scipy', () => {
  it('reads a compressed (v7) file', () => {
    const mat = readMat(b64(SCIPY_COMPRESSED));
    expect(mat.header).toMatch(/^MATLAB 5\.0 MAT-file/);
    expectScipyContents(mat);
  });

  it('reads an uncompressed (v6) file', () => {
    expectScipyContents(readMat(b64(SCIPY_UNCOMPRESSED)));
  });

  it('reads from disk with loadMat, naming a missing file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-mat-'));
    writeFileSync(path.join(dir, 'x.mat'), b64(SCIPY_COMPRESSED));
    expectScipyContents(await loadMat(path.join(dir, 'x.mat')));
    await expect(loadMat(path.join(dir, 'missing.mat'))).rejects.toThrow(/cannot read the MAT-file \(ENOENT\)/);
  });
});

describe('mat5 reader: round trips through the test writer', () => {
  const vars = {
    d: { numeric: [1.5, -2, 1e300, Number.NaN], dims: [2, 2] },
    stored_small: { numeric: [0, 200, 255], class: 'double', store: 'uint8' },
    single: { numeric: [0.5, -3], class: 'single' },
    u8: { numeric: [1, 2, 3, 4, 5], class: 'uint8' },
    i8: { numeric: [-128, 127], class: 'int8' },
    u16: { numeric: [65535], class: 'uint16' },
    i32: { numeric: [-2147483648, 5], class: 'int32' },
    u32: { numeric: [4294967295], class: 'uint32' },
    u64: { numeric: [9007199254740991], class: 'uint64' },
    i64_from_i32: { numeric: [-7], class: 'int64', store: 'int32' },
    cplx: { numeric: [1, 2], imag: [3, -4] },
    empty: { numeric: [], dims: [0, 0] },
    text: { char: 'Hello, wörld 😀' },
    utf8: { char: 'naïve', store: 'utf8' },
    rows: { char: 'adbecf', dims: [2, 3] },
    nested: { cell: [{ char: 'a' }, { cell: [{ numeric: [7] }] }, { numeric: [], dims: [0, 0] }], dims: [3, 1] },
    st: {
      struct: [
        { name: { char: 'one' }, vals: { numeric: [1, 2, 3], class: 'uint16' } },
        { name: { char: '' , dims: [0, 0] }, vals: { cell: [] , dims: [0, 0] } },
      ],
      dims: [2, 1],
    },
  } as const;

  function check(mat: MatFile): void {
    expect([...mat.variables.keys()]).toEqual(Object.keys(vars));
    const d = v(mat, 'd');
    expect(d.kind === 'numeric' && d.class).toBe('double');
    expect(d.dims).toEqual([2, 2]);
    expect(matNumbers(d, 'd')).toEqual([1.5, -2, 1e300, Number.NaN]);
    const s = v(mat, 'stored_small');
    expect(s.kind === 'numeric' && s.real).toEqual(new Float64Array([0, 200, 255]));
    expect(v(mat, 'single').kind === 'numeric' && (v(mat, 'single') as { real: Float32Array }).real).toEqual(new Float32Array([0.5, -3]));
    expect(matNumbers(v(mat, 'u8'), 'u8')).toEqual([1, 2, 3, 4, 5]);
    expect(matNumbers(v(mat, 'i8'), 'i8')).toEqual([-128, 127]);
    expect(matNumbers(v(mat, 'u16'), 'u16')).toEqual([65535]);
    expect(matNumbers(v(mat, 'i32'), 'i32')).toEqual([-2147483648, 5]);
    expect(matNumbers(v(mat, 'u32'), 'u32')).toEqual([4294967295]);
    expect(matNumbers(v(mat, 'u64'), 'u64')).toEqual([9007199254740991]);
    const i64 = v(mat, 'i64_from_i32');
    expect(i64.kind === 'numeric' && [i64.class, i64.real]).toEqual(['int64', new BigInt64Array([-7n])]);
    const c = v(mat, 'cplx');
    expect(c.kind === 'numeric' && [Array.from(c.real as Float64Array), Array.from(c.imag as Float64Array)]).toEqual([[1, 2], [3, -4]]);
    expect(describeMat(c)).toBe('1×2 double (complex)');
    expect(describeMat(v(mat, 'empty'))).toBe('0×0 double');
    expect(matText(v(mat, 'text'), 'text')).toBe('Hello, wörld 😀');
    expect(matText(v(mat, 'utf8'), 'utf8')).toBe('naïve');
    // column-major: the 2×3 char matrix 'adbecf' has rows 'abc' and 'def'
    expect(matTexts(v(mat, 'rows'), 'rows')).toEqual(['abc', 'def']);
    const nested = v(mat, 'nested');
    expect(nested.kind).toBe('cell');
    if (nested.kind !== 'cell') return;
    expect(nested.dims).toEqual([3, 1]);
    expect(matText(nested.cells[0], 'c0')).toBe('a');
    const inner = nested.cells[1];
    expect(inner.kind === 'cell' && matScalar(inner.cells[0], 'x')).toBe(7);
    expect(describeMat(nested.cells[2])).toBe('0×0 double');
    const st = matStruct(v(mat, 'st'), 'st', ['name', 'vals']);
    expect(st.dims).toEqual([2, 1]);
    expect(matText(st.elements[0].get('name')!, 'n')).toBe('one');
    expect(matNumbers(st.elements[0].get('vals')!, 'v')).toEqual([1, 2, 3]);
    expect(matText(st.elements[1].get('name')!, 'n')).toBe('');
    expect(describeMat(st.elements[1].get('vals')!)).toBe('0×0 cell');
  }

  for (const compress of [false, true]) {
    for (const small of [true, false]) {
      it(`${compress ? 'compressed' : 'uncompressed'}, ${small ? 'with' : 'without'} small data elements`, () => {
        check(readMat(writeMat(vars, { compress, small })));
      });
    }
  }
});

describe('mat5 reader: hand-assembled bytes', () => {
  /** 128-byte header: text, 8 bytes subsystem offset, version 0x0100, endian indicator "IM". */
  function headerBytes(): number[] {
    const text = Array.from('MATLAB 5.0 MAT-file', (c) => c.charCodeAt(0));
    return [...text, ...new Array(116 - text.length).fill(0x20), ...new Array(8).fill(0), 0x00, 0x01, 0x49, 0x4d];
  }
  const u32 = (x: number) => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];

  // x = uint8-stored double row [1 2 3], name "x", all in small data elements:
  //   miMATRIX tag (14, 40 bytes)
  //   array flags: miUINT32, 8 bytes: class 6 (double), nzmax 0
  //   dimensions: miINT32, 8 bytes: 1, 3
  //   name: small element (type miINT8=1, 1 byte) "x" + 3 pad bytes
  //   real part: small element (type miUINT8=2, 3 bytes) 1 2 3 + 1 pad byte
  const matrixBody = [
    ...u32(6), ...u32(8), ...u32(6), ...u32(0),
    ...u32(5), ...u32(8), ...u32(1), ...u32(3),
    0x01, 0x00, 0x01, 0x00, 0x78, 0, 0, 0,
    0x02, 0x00, 0x03, 0x00, 1, 2, 3, 0,
  ];
  const matrixElement = [...u32(14), ...u32(matrixBody.length), ...matrixBody];

  it('reads a matrix whose name and data use the small data element format', () => {
    const mat = readMat(new Uint8Array([...headerBytes(), ...matrixElement]));
    const x = matVariable(mat, 'x');
    expect(x).toEqual({ kind: 'numeric', class: 'double', dims: [1, 3], real: new Float64Array([1, 2, 3]), logical: false });
  });

  it('reads the same matrix inside a miCOMPRESSED element, followed without padding by another', () => {
    const z = Array.from(deflateSync(new Uint8Array(matrixElement)));
    // second variable "y": char 'hi' (class 4) as miUINT16 small element
    const yBody = [...u32(6), ...u32(8), ...u32(4), ...u32(0), ...u32(5), ...u32(8), ...u32(1), ...u32(2), 0x01, 0x00, 0x01, 0x00, 0x79, 0, 0, 0, 0x04, 0x00, 0x04, 0x00, 0x68, 0x00, 0x69, 0x00];
    const bytes = [...headerBytes(), ...u32(15), ...u32(z.length), ...z, ...u32(14), ...u32(yBody.length), ...yBody];
    const mat = readMat(new Uint8Array(bytes));
    expect(matNumbers(matVariable(mat, 'x'), 'x')).toEqual([1, 2, 3]);
    expect(matText(matVariable(mat, 'y'), 'y')).toBe('hi');
  });

  it('keeps going past arrays of unsupported classes (sparse)', () => {
    const sBody = [...u32(6), ...u32(8), ...u32(5), ...u32(1), ...u32(5), ...u32(8), ...u32(2), ...u32(2), 0x01, 0x00, 0x01, 0x00, 0x73, 0, 0, 0, 0x05, 0x00, 0x04, 0x00, 0, 0, 0, 0];
    const mat = readMat(new Uint8Array([...headerBytes(), ...u32(14), ...u32(sBody.length), ...sBody, ...matrixElement]));
    expect(describeMat(matVariable(mat, 's'))).toBe('2×2 sparse (not supported)');
    expect(matNumbers(matVariable(mat, 'x'), 'x')).toEqual([1, 2, 3]);
    expect(() => matNumbers(matVariable(mat, 's'), 's')).toThrow(/s should be numeric, found 2×2 sparse/);
  });

  it('rejects big-endian, v7.3 (HDF5), v4, truncated and short files with a clear message', () => {
    const be = headerBytes();
    be[126] = 0x4d;
    be[127] = 0x49;
    expect(oneLine(() => readMat(new Uint8Array(be), 'be.mat'))).toMatch(/^be\.mat: MAT-file: big-endian MAT-files are not supported — save it again/);
    const v73 = headerBytes();
    v73.splice(0, 19, ...Array.from('MATLAB 7.3 MAT-file', (c) => c.charCodeAt(0)));
    v73[124] = 0x00;
    v73[125] = 0x02;
    expect(() => readMat(new Uint8Array(v73))).toThrow(/v7\.3 files are HDF5/);
    expect(() => readMat(new Uint8Array(128))).toThrow(/MAT v4/);
    expect(() => readMat(new Uint8Array(40))).toThrow(/shorter than the 128-byte MAT v5 header/);
    expect(() => readMat(new Uint8Array([...headerBytes(), ...matrixElement.slice(0, 30)]))).toThrow(/truncated/);
    const badZ = [...headerBytes(), ...u32(15), ...u32(4), 1, 2, 3, 4];
    expect(() => readMat(new Uint8Array(badZ))).toThrow(/does not inflate/);
  });

  it('names what the file holds when a variable is missing, and checks shapes in accessors', () => {
    const mat = readMat(new Uint8Array([...headerBytes(), ...matrixElement]));
    expect(oneLine(() => matVariable(mat, 'synsets', 'meta.mat'))).toMatch(/^meta\.mat: MAT-file: no variable "synsets"; the file holds x \(1×3 double\)/);
    expect(oneLine(() => matVariable(readMat(new Uint8Array([...headerBytes(), ...matrixElement]), 'f.mat'), 'y'))).toMatch(/^f\.mat: .*no variable "y"/);
    expect(() => matScalar(matVariable(mat, 'x'), 'x')).toThrow(/x should be a scalar, found 1×3 double/);
    expect(() => matText(matVariable(mat, 'x'), 'x')).toThrow(/x should be text \(char\)/);
    expect(() => matStruct(matVariable(mat, 'x'), 'x', [])).toThrow(/x should be a struct array/);
  });
});

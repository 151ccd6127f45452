/**
 * Datasets shipped as arrays inside container files — CIFAR-10/100 (pickled python batches and binary
 * records), MNIST (idx, plain or gzipped), STL-10 (column-major binary), FER2013 (CSV), PatchCamelyon (HDF5,
 * plain or gzipped) — read from fixtures written in each official format. Checked: labels and every pixel
 * exactly as written (HWC, as PIL's Image.fromarray holds them), the encodings of one dataset agreeing sample
 * for sample, one-line errors naming the file for garbled or missing containers, and each dataset evaluated
 * by name end-to-end. The pickle reader is checked opcode by opcode, against bytes printed by Python itself,
 * and for refusing anything that would execute code.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cifar10, cifar100 } from '../src/datasets/cifar.js';
import { csvFields, fer2013 } from '../src/datasets/fer2013.js';
import { getDataset, type DatasetAdapter, type Sample } from '../src/datasets/index.js';
import { mnist } from '../src/datasets/mnist.js';
import { pcam } from '../src/datasets/pcam.js';
import { integerValues, NdArray, parsePickle, PyDict, PyTuple, type PyValue } from '../src/datasets/pickle.js';
import { stl10 } from '../src/datasets/stl10.js';
import { runZeroShot } from '../src/eval/zero-shot.js';
import { writeClipArch } from '../src/fixtures/fixture-models.js';
import type { RawImage } from '../src/models/preprocess/image.js';
import { packageRoot } from '../src/paths.js';
import { loadPromptSet, resolvePrompts } from '../src/prompts/prompt-set.js';
import { openDb } from '../src/store/db.js';
import { getRun, iteratePredictions } from '../src/store/runs.js';
import {
  ascii,
  cifarBinaryBatch,
  cifarImages,
  cifarPythonBatch,
  cifarPythonMeta,
  ferCsv,
  gzip,
  idxFile,
  noise,
  stl10Images,
  tmp,
  write,
  writePcamH5,
  writePickle,
  type CifarImage,
  type FerRow,
  type PyIn,
} from './support/array-dataset-writers.js';
import { usageFailure as failure } from './support/usage-failure.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const bytesOf = (...parts: (string | number[])[]) => new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)))));


async function collect(a: DatasetAdapter, root: string, split = a.splits[0]): Promise<Sample[]> {
  const out: Sample[] = [];
  for await (const s of a.samples(root, split)) out.push(s);
  return out;
}

async function loaded(s: Sample): Promise<RawImage> {
  const img = await s.load!();
  expect(img).not.toBeInstanceOf(Uint8Array);
  return img as RawImage;
}

/** Every sample's key, label and decoded image, for comparing two encodings. */
async function snapshot(a: DatasetAdapter, root: string, split?: string) {
  const out = [];
  for (const s of await collect(a, root, split)) {
    const img = await loaded(s);
    out.push({ key: s.key, label: s.label, mode: img.mode, width: img.width, height: img.height, data: Buffer.from(img.data).toString('hex') });
  }
  return out;
}

// ================================================================== pickle reader

/**
 * Bytes printed by Python 3.11.7 with numpy 2.4.6 for
 * `pickle.dumps({b'data': np.arange(6, dtype=np.uint8).reshape(2, 3), 'labels': [1, 300, 70000, -2], 'ok': True,
 *   'none': None, 'f': 0.5, 'big': 2**40, 't': ()}, protocol)`.
 */
const PY3: Record<number, string> = {
  1: '7d710028635f636f646563730a656e636f64650a710128580400000064617461710258060000006c6174696e317103747104527105636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a710628636e756d70790a6e6461727261790a7107284b007471086801285801000000627109680374710a52710b74710c52710d284b01284b024b0374710e636e756d70790a64747970650a710f285802000000753171104930300a4930310a747111527112284b0358010000007c71134e4e4e4affffffff4affffffff4b00747114624930300a6801285806000000000102030405711568037471165271177471186258060000006c6162656c7371195d711a284b014d2c014a701101004afeffffff6558020000006f6b711b4930310a58040000006e6f6e65711c4e580100000066711d473fe00000000000005803000000626967711e4c313039393531313632373737364c0a580100000074711f29752e',
  2: '80027d710028635f636f646563730a656e636f64650a7101580400000064617461710258060000006c6174696e317103867104527105636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7106636e756d70790a6e6461727261790a71074b0085710868015801000000627109680386710a52710b87710c52710d284b014b024b0386710e636e756d70790a64747970650a710f5802000000753171108988877111527112284b0358010000007c71134e4e4e4affffffff4affffffff4b00747114628968015806000000000102030405711568038671165271177471186258060000006c6162656c7371195d711a284b014d2c014a701101004afeffffff6558020000006f6b711b8858040000006e6f6e65711c4e580100000066711d473fe00000000000005803000000626967711e8a06000000000001580100000074711f29752e',
  3: '80037d7100284304646174617101636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7102636e756d70790a6e6461727261790a71034b008571044301627105877106527107284b014b024b03867108636e756d70790a64747970650a710958020000007531710a898887710b52710c284b0358010000007c710d4e4e4e4affffffff4affffffff4b0074710e62894306000102030405710f7471106258060000006c6162656c7371115d7112284b014d2c014a701101004afeffffff6558020000006f6b71138858040000006e6f6e6571144e5801000000667115473fe0000000000000580300000062696771168a06000000000001580100000074711729752e',
  4: '800495e6000000000000007d9428430464617461948c166e756d70792e5f636f72652e6d756c74696172726179948c0c5f7265636f6e7374727563749493948c056e756d7079948c076e6461727261799493944b0085944301629487945294284b014b024b03869468058c0564747970659493948c02753194898887945294284b038c017c944e4e4e4affffffff4affffffff4b00749462894306000102030405947494628c066c6162656c73945d94284b014d2c014a701101004afeffffff658c026f6b94888c046e6f6e65944e8c016694473fe00000000000008c03626967948a060000000000018c01749429752e',
  5: '800595d1000000000000007d9428430464617461948c136e756d70792e5f636f72652e6e756d65726963948c0b5f66726f6d62756666657294939428960600000000000000000102030405948c056e756d7079948c0564747970659493948c02753194898887945294284b038c017c944e4e4e4affffffff4affffffff4b007494624b024b0386948c014394749452948c066c6162656c73945d94284b014d2c014a701101004afeffffff658c026f6b94888c046e6f6e65944e8c016694473fe00000000000008c03626967948a060000000000018c01749429752e',
};

/** The same value as a writer input. */
const PY3_VALUE: PyIn = new Map<PyIn, PyIn>([
  [ascii('data'), { ndarray: Uint8Array.from([0, 1, 2, 3, 4, 5]), shape: [2, 3] }],
  ['labels', [1, 300, 70000, -2]],
  ['ok', true],
  ['none', null],
  ['f', 0.5],
  ['big', 2 ** 40],
  ['t', { tuple: [] }],
]);

/**
 * Bytes printed by Python 2.7.18 for `cPickle.dumps(d, 2)` of the dict literal
 * {'num_cases_per_batch': 10000, 'label_names': ['airplane', 'automobile', 'b'], 'num_vis': 3072, 'neg': -5,
 *  'long': '<300 × x>', 'big': 1099511627776, 'u': u'café', 't': (1, 'ab'), 'flag': True}
 * (keys in the order Python 2's dict iterates them).
 */
const PY2_META =
  '80027d71012855136e756d5f63617365735f7065725f626174636871024d1027550b6c6162656c5f6e616d657371035d7104285508616972706c616e657105550a6175746f6d6f62696c657106550162655504666c61677107885501755805000000636166c3a971085501744b0155026162710986710a5503626967710b49313039393531313632373737360a55036e6567710c4afbffffff55076e756d5f766973710d4d000c55046c6f6e67710e542c010000' +
  '78'.repeat(300) +
  '710f752e';
const PY2_VALUE: PyIn = new Map<PyIn, PyIn>([
  [ascii('num_cases_per_batch'), 10000],
  [ascii('label_names'), [ascii('airplane'), ascii('automobile'), ascii('b')]],
  [ascii('flag'), true],
  [ascii('u'), 'café'],
  [ascii('t'), { tuple: [1, ascii('ab')] }],
  [ascii('big'), 1099511627776],
  [ascii('neg'), -5],
  [ascii('num_vis'), 3072],
  [ascii('long'), ascii('x'.repeat(300))],
]);

const text = (v: PyValue | undefined) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v);

describe('pickle reader', () => {
  it.each([1, 2, 3, 4, 5])("reads Python 3's protocol %i: numpy array, bytes and str keys, ints, bool, None, float, long, empty tuple", (protocol) => {
    const d = parsePickle(hex(PY3[protocol]));
    expect(d).toBeInstanceOf(PyDict);
    const dict = d as PyDict;
    expect(dict.keyNames()).toEqual(['data', 'labels', 'ok', 'none', 'f', 'big', 't']);
    expect(dict.entries[0][0]).toBeInstanceOf(Uint8Array); // b'data' stays bytes
    const a = dict.get('data') as NdArray;
    expect(a).toBeInstanceOf(NdArray);
    expect([a.shape, a.dtype!.descr, a.dtype!.byteorder, a.fortran, [...a.data]]).toEqual([[2, 3], 'u1', '|', false, [0, 1, 2, 3, 4, 5]]);
    expect(dict.get('labels')).toEqual([1, 300, 70000, -2]);
    expect([dict.get('ok'), dict.get('none'), dict.get('f'), dict.get('big')]).toEqual([true, null, 0.5, 2 ** 40]);
    expect((dict.get('t') as PyTuple).items).toEqual([]);
  });

  it('the py3 fixture writer produces exactly the bytes Python 3 writes with protocol 2', () => {
    expect(Buffer.from(writePickle(PY3_VALUE, 'py3')).toString('hex')).toBe(PY3[2]);
  });

  it("reads Python 2 cPickle's protocol 2 (str as bytes, unicode, text INT for big ints, memo), and the py2 writer reproduces it", () => {
    expect(Buffer.from(writePickle(PY2_VALUE, 'py2')).toString('hex')).toBe(PY2_META);
    const d = parsePickle(hex(PY2_META)) as PyDict;
    expect(d.keyNames()).toEqual(['num_cases_per_batch', 'label_names', 'flag', 'u', 't', 'big', 'neg', 'num_vis', 'long']);
    expect((d.get('label_names') as PyValue[]).map(text)).toEqual(['airplane', 'automobile', 'b']);
    expect([d.get('num_cases_per_batch'), d.get('flag'), d.get('u'), d.get('big'), d.get('neg'), d.get('num_vis')]).toEqual([10000, true, 'café', 1099511627776, -5, 3072]);
    expect((d.get('t') as PyTuple).items.map(text)).toEqual([1, 'ab']);
    expect(text(d.get('long'))).toBe('x'.repeat(300));
  });

  it('reads the CIFAR batch layout in both flavours, memo indices past 255 (LONG_BINPUT) and append batches of 1000', () => {
    const images = cifarImages(1100, 10, 3);
    for (const flavour of ['py2', 'py3'] as const) {
      const d = parsePickle(cifarPythonBatch(images, false, flavour)) as PyDict;
      const data = d.get('data') as NdArray;
      expect(data.shape).toEqual([1100, 3072]);
      expect(d.get('labels')).toEqual(images.map((im) => im.label));
      expect((d.get('filenames') as PyValue[]).map(text)[1099]).toBe('image_1099.png');
      expect(text(d.get('batch_label'))).toBe('testing batch 1 of 1');
    }
  });

  it('integer arrays of any byte order and width give their values (big-endian int32, little-endian int64)', () => {
    // Python 3.11.7, numpy 2.4.6: pickle.dumps(np.array([1, -2, 70000], dtype='>i4'), 3) and np.array([7, 8], dtype='<i8') with protocol 2
    const be = parsePickle(hex('8003636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b008571024301627103877104527105284b014b03857106636e756d70790a64747970650a7107580200000069347108898887710952710a284b0358010000003e710b4e4e4e4affffffff4affffffff4b0074710c6289430c00000001fffffffe00011170710d74710e622e'));
    expect(integerValues(be)).toEqual([1, -2, 70000]);
    const le = parsePickle(hex('8002636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b00857102635f636f646563730a656e636f64650a7103580100000062710458060000006c6174696e317105867106527107877108527109284b014b0285710a636e756d70790a64747970650a710b58020000006938710c898887710d52710e284b0358010000003c710f4e4e4e4affffffff4affffffff4b007471106289680358100000000700000000000000080000000000000071116805867112527113747114622e'));
    expect(integerValues(le)).toEqual([7, 8]);
  });

  it.each<[string, Uint8Array, unknown]>([
    ['MARK … LIST', bytesOf([0x28, 0x4b, 1, 0x4b, 2, 0x6c, 0x2e]), [1, 2]],
    ['MARK … TUPLE', bytesOf([0x28, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x4b, 4, 0x74, 0x2e]), new PyTuple([1, 2, 3, 4])],
    ['EMPTY_LIST, APPEND', bytesOf([0x5d, 0x4b, 7, 0x61, 0x2e]), [7]],
    ['POP', bytesOf([0x4b, 1, 0x4b, 2, 0x30, 0x2e]), 1],
    ['POP_MARK', bytesOf([0x4b, 1, 0x28, 0x4b, 2, 0x4b, 3, 0x31, 0x2e]), 1],
    ['DUP, TUPLE2', bytesOf([0x4b, 5, 0x32, 0x86, 0x2e]), new PyTuple([5, 5])],
    ['BININT2, BININT (negative)', bytesOf([0x4d, 0x34, 0x12, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x86, 0x2e]), new PyTuple([0x1234, -2])],
    ['LONG1 beyond 2^53 → bigint', bytesOf([0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2e]), 2n ** 64n],
    ['LONG1 negative', bytesOf([0x8a, 2, 0x00, 0xff, 0x2e]), -256],
    ['LONG4', bytesOf([0x8b, 2, 0, 0, 0, 0xff, 0xff, 0x2e]), -1],
    ['text INT bools and ints, text LONG', bytesOf('I01\nI00\nI42\n', [0x87], 'L-7L\n', [0x86, 0x2e]), new PyTuple([new PyTuple([true, false, 42]), -7])],
    ['BINFLOAT', bytesOf([0x47, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, 0x2e]), Math.PI],
    ['SHORT_BINBYTES, BINBYTES, BINBYTES8, BYTEARRAY8', bytesOf([0x28, 0x43, 1], 'a', [0x42, 2, 0, 0, 0], 'bc', [0x8e, 1, 0, 0, 0, 0, 0, 0, 0], 'd', [0x96, 1, 0, 0, 0, 0, 0, 0, 0], 'e', [0x6c, 0x2e]), ['a', 'bc', 'd', 'e'].map(ascii)],
    ['SHORT_BINUNICODE, BINUNICODE8', bytesOf([0x8c, 2, 0xc3, 0xa9, 0x8d, 1, 0, 0, 0, 0, 0, 0, 0], 'z', [0x86, 0x2e]), new PyTuple(['é', 'z'])],
    ['text PUT / GET', bytesOf([0x5d], 'p3\n', [0x30], 'g3\n', [0x2e]), []],
    ['LONG_BINPUT / LONG_BINGET', bytesOf([0x4b, 9, 0x72, 0, 1, 0, 0, 0x30, 0x6a, 0, 1, 0, 0, 0x2e]), 9],
    ['MEMOIZE / BINGET', bytesOf([0x4b, 4, 0x94, 0x4b, 5, 0x94, 0x30, 0x30, 0x68, 1, 0x2e]), 5],
    ['PROTO 4, FRAME', bytesOf([0x80, 4, 0x95, 2, 0, 0, 0, 0, 0, 0, 0, 0x4b, 3, 0x2e]), 3],
    ['EMPTY_DICT, SETITEM', bytesOf([0x7d, 0x55, 1], 'k', [0x4b, 5, 0x73, 0x2e]), new Map([['k', 5]])],
    ['MARK … DICT', bytesOf([0x28, 0x55, 1], 'a', [0x4b, 1, 0x64, 0x2e]), new Map([['a', 1]])],
    ['empty bytes as Python 3 writes them: __builtin__.bytes()', bytesOf([0x80, 2], 'c__builtin__\nbytes\n', [0x29, 0x52, 0x2e]), new Uint8Array(0)],
  ])('%s', (_, bytes, expected) => {
    const v = parsePickle(bytes);
    if (expected instanceof Map) {
      expect(v).toBeInstanceOf(PyDict);
      for (const [k, x] of expected) expect((v as PyDict).get(k)).toEqual(x);
      expect((v as PyDict).entries).toHaveLength(expected.size);
    } else expect(v).toEqual(expected);
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['GLOBAL os.system', bytesOf([0x80, 2], 'cos\nsystem\n', [0x55, 2], 'ls', [0x85, 0x52, 0x2e]), /refusing global os\.system: .*nothing is ever executed \(opcode 0x63 at byte 2\)/],
    ['STACK_GLOBAL builtins.eval', bytesOf([0x80, 4, 0x8c, 8], 'builtins', [0x8c, 4], 'eval', [0x93, 0x2e]), /refusing global builtins\.eval/],
    ['GLOBAL numpy.load (a numpy name outside the table)', bytesOf('cnumpy\nload\n.'), /refusing global numpy\.load/],
    ['INST', bytesOf('(ios\nsystem\n.'), /opcode INST \(instantiates a class\) is not supported/],
    ['OBJ', bytesOf([0x28, 0x4b, 1, 0x6f, 0x2e]), /opcode OBJ .* is not supported/],
    ['NEWOBJ', bytesOf([0x80, 2, 0x4b, 1, 0x29, 0x81, 0x2e]), /opcode NEWOBJ .* is not supported/],
    ['BINPERSID', bytesOf([0x4b, 1, 0x51, 0x2e]), /BINPERSID \(persistent id\) is not supported/],
    ['EXT1', bytesOf([0x82, 1, 0x2e]), /EXT1 \(extension registry\) is not supported/],
    ['text STRING (protocol 0)', bytesOf("S'a'\n."), /STRING \(text protocol 0\) is not supported/],
    ['REDUCE of a non-global', bytesOf([0x4b, 1, 0x29, 0x52, 0x2e]), /REDUCE of something other than an allowed global/],
    ['calling numpy.ndarray directly', bytesOf('cnumpy\nndarray\n', [0x29, 0x52, 0x2e]), /numpy\.ndarray is only understood as the first argument of _reconstruct/],
    ['_codecs.encode of non-Latin-1 text', bytesOf('c_codecs\nencode\n', [0x58, 2, 0, 0, 0, 0xc4, 0x80, 0x58, 6, 0, 0, 0], 'latin1', [0x86, 0x52, 0x2e]), /U\+0100 is not Latin-1/],
    ['BUILD on a list', bytesOf([0x5d, 0x7d, 0x62, 0x2e]), /BUILD .* on something other than a numpy array or dtype/],
    ['a truncated string', bytesOf([0x80, 2, 0x58, 0xff, 0, 0, 0], 'ab'), /the file ends 253 bytes early/],
    ['a missing STOP', bytesOf([0x80, 2, 0x4b, 1]), /the file ends 1 bytes early/],
    ['protocol 6', bytesOf([0x80, 6, 0x2e]), /pickle protocol above 5/],
    ['an unknown opcode', bytesOf([0xff]), /unknown opcode \(opcode 0xff at byte 0\)/],
    ['two values left at STOP', bytesOf([0x4b, 1, 0x4b, 2, 0x2e]), /ends with 2 values on the stack/],
    ['a memo entry never stored', bytesOf([0x68, 7, 0x2e]), /memo entry 7 was never stored/],
    // Python 3.11.7, numpy 2.4.6: pickle.dumps(np.array([1, 'a'], dtype=object), 3)
    ['an object array', hex('8003636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b008571024301627103877104527105284b014b02857106636e756d70790a64747970650a710758020000004f387108898887710952710a284b0358010000007c710b4e4e4e4affffffff4affffffff4b3f74710c62895d710d284b01580100000061710e6574710f622e'), /numpy dtype "O8" is not understood/],
  ])('refuses %s with a one-line error naming the file', async (_, bytes, pattern) => {
    const line = await failure(() => parsePickle(bytes, { file: '/data/x.pkl' }));
    expect(line).toMatch(/^\/data\/x\.pkl: not a readable pickle: /);
    expect(line).toMatch(pattern);
  });

  it('refuses an array whose data does not fill its shape', async () => {
    const good = writePickle({ ndarray: Uint8Array.from([1, 2, 3, 4]), shape: [2, 2] }, 'py2');
    const bad = writePickle({ ndarray: Uint8Array.from([1, 2, 3]), shape: [2, 2] }, 'py2');
    expect([...(parsePickle(good) as NdArray).data]).toEqual([1, 2, 3, 4]);
    expect(await failure(() => parsePickle(bad))).toMatch(/array of shape \(2, 2\) and dtype u1 needs 4 bytes, the pickle holds 3/);
  });
});

// ================================================================== CIFAR

const CIFAR10_NAMES = Object.values(loadPromptSet('cifar10').classes!) as string[];
const CIFAR100_NAMES = Object.values(loadPromptSet('cifar100').classes!) as string[];

/** The python version under `dir`, with its meta file. */
function writeCifarPython(dir: string, images: readonly CifarImage[], cifar100: boolean, flavour: 'py2' | 'py3' = 'py2'): void {
  write(dir, cifar100 ? 'test' : 'test_batch', cifarPythonBatch(images, cifar100, flavour));
  write(dir, cifar100 ? 'meta' : 'batches.meta', cifarPythonMeta(cifar100 ? CIFAR100_NAMES : CIFAR10_NAMES, cifar100, flavour));
}

function writeCifarBinary(dir: string, images: readonly CifarImage[], cifar100: boolean): void {
  write(dir, cifar100 ? 'test.bin' : 'test_batch.bin', cifarBinaryBatch(images, cifar100));
  const names = (cifar100 ? CIFAR100_NAMES : CIFAR10_NAMES).map((n) => n.replace(/ /g, '_'));
  write(dir, cifar100 ? 'fine_label_names.txt' : 'batches.meta.txt', names.join('\n') + '\n\n');
  if (cifar100) write(dir, 'coarse_label_names.txt', Array.from({ length: 20 }, (_, i) => `superclass_${i}`).join('\n') + '\n');
}

/** The samples must be exactly the images written: key, label and HWC pixels. */
async function expectCifar(samples: Sample[], images: readonly CifarImage[], batch: string, file: string): Promise<void> {
  expect(samples.map((s) => [s.key, s.label, s.path])).toEqual(images.map((im, i) => [`${batch}#${i}`, im.label, file]));
  for (let i = 0; i < images.length; i++) {
    const img = await loaded(samples[i]);
    expect([img.mode, img.width, img.height, img.channels]).toEqual(['RGB', 32, 32, 3]);
    expect(Buffer.from(img.data).equals(Buffer.from(images[i].hwc))).toBe(true);
  }
}

describe('cifar10 and cifar100', () => {
  const ten = cifarImages(13, 10, 1);
  const hundred = cifarImages(13, 100, 2);

  it('cifar10 python version (Python 2 cPickle, as distributed): labels and every pixel, HWC', async () => {
    const root = tmp('c10py');
    writeCifarPython(path.join(root, 'cifar-10-batches-py'), ten, false);
    expect(await cifar10.classIds(root, 'test')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    await expectCifar(await collect(cifar10, root), ten, 'test_batch', path.join(root, 'cifar-10-batches-py', 'test_batch'));
  });

  it('a pixel lands where the planes put it: R plane, then G, then B, row-major', async () => {
    const root = tmp('c10px');
    const img = new Uint8Array(3072);
    img[(2 * 32 + 5) * 3 + 0] = 11; // R at row 2, column 5
    img[(31 * 32 + 0) * 3 + 2] = 22; // B at row 31, column 0
    write(root, 'test_batch.bin', cifarBinaryBatch([{ hwc: img, label: 4 }], false));
    const raw = readFileSync(path.join(root, 'test_batch.bin'));
    expect([raw[0], raw[1 + 2 * 32 + 5], raw[1 + 2048 + 31 * 32]]).toEqual([4, 11, 22]);
    const [s] = await collect(cifar10, root);
    const data = (await loaded(s)).data;
    expect([data[(2 * 32 + 5) * 3], data[(31 * 32) * 3 + 2], Array.from(data).reduce((a, b) => a + b, 0)]).toEqual([11, 22, 33]);
  });

  it('both encodings (and a Python 3 re-pickle) give identical samples, keys included; ROOT may be the extracted folder', async () => {
    const py = tmp('c10-both-py');
    writeCifarPython(path.join(py, 'cifar-10-batches-py'), ten, false);
    const bin = tmp('c10-both-bin');
    writeCifarBinary(path.join(bin, 'cifar-10-batches-bin'), ten, false);
    const py3 = tmp('c10-both-py3');
    writeCifarPython(py3, ten, false, 'py3');
    const a = await snapshot(cifar10, py);
    expect(a).toHaveLength(13);
    expect(await snapshot(cifar10, bin)).toEqual(a);
    expect(await snapshot(cifar10, path.join(bin, 'cifar-10-batches-bin'))).toEqual(a);
    expect(await snapshot(cifar10, py3)).toEqual(a);
    await expectCifar(await collect(cifar10, bin), ten, 'test_batch', path.join(bin, 'cifar-10-batches-bin', 'test_batch.bin'));
  });

  it('cifar100: fine labels (not coarse) from both encodings, identical samples', async () => {
    expect(hundred.some((im) => im.label !== im.coarse)).toBe(true);
    const py = tmp('c100py');
    writeCifarPython(path.join(py, 'cifar-100-python'), hundred, true);
    const bin = tmp('c100bin');
    writeCifarBinary(path.join(bin, 'cifar-100-binary'), hundred, true);
    expect(await cifar100.classIds(py, 'test')).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    await expectCifar(await collect(cifar100, py), hundred, 'test', path.join(py, 'cifar-100-python', 'test'));
    expect(await snapshot(cifar100, bin)).toEqual(await snapshot(cifar100, py));
  });

  it('train split: the five data batches in order, keyed by batch', async () => {
    const root = tmp('c10train');
    const batches = [1, 2, 3, 4, 5].map((b) => cifarImages(2, 10, 10 + b));
    batches.forEach((images, b) => write(root, `cifar-10-batches-py/data_batch_${b + 1}`, cifarPythonBatch(images, false, 'py2', `training batch ${b + 1} of 5`)));
    const samples = await collect(cifar10, root, 'train');
    expect(samples.map((s) => [s.key, s.label])).toEqual(batches.flatMap((images, b) => images.map((im, i) => [`data_batch_${b + 1}#${i}`, im.label])));
  });

  it('garbled, truncated or mismatched containers: one line naming the file', async () => {
    const root = tmp('c10bad');
    const dir = path.join(root, 'cifar-10-batches-py');
    const file = path.join(dir, 'test_batch');
    write(dir, 'test_batch', noise(5000, 9));
    expect(await failure(collect(cifar10, root))).toMatch(new RegExp(`^${file}: not a readable pickle: .* — expected CIFAR-10's python-version batch`));
    const good = cifarPythonBatch(ten, false, 'py2');
    write(dir, 'test_batch', good.subarray(0, good.length - 100));
    expect(await failure(collect(cifar10, root))).toMatch(/test_batch: not a readable pickle: the file ends \d+ bytes early/);
    write(dir, 'test_batch', writePickle([1, 2], 'py2'));
    expect(await failure(collect(cifar10, root))).toMatch(/test_batch: the pickle holds a list, not a dict/);
    write(dir, 'test_batch', cifarPythonBatch(ten, true, 'py2')); // a CIFAR-100 batch: fine_labels, no labels
    expect(await failure(collect(cifar10, root))).toMatch(/test_batch: "labels" is nothing, expected a list of ints \(keys: filenames, batch_label, fine_labels, coarse_labels, data\)/);
    write(dir, 'test_batch', cifarPythonBatch(hundred, false, 'py2'));
    expect(await failure(collect(cifar10, root))).toMatch(/label \d+ of image \d+ is outside 0-9/);
    write(dir, 'test_batch', good);
    write(dir, 'batches.meta', cifarPythonMeta(CIFAR100_NAMES, false, 'py2'));
    expect(await failure(cifar10.classIds(root, 'test'))).toMatch(/batches\.meta: expected 10 class names in "label_names", found 100/);

    const bin = tmp('c10badbin');
    write(bin, 'test_batch.bin', cifarBinaryBatch(ten, false).subarray(1));
    expect(await failure(collect(cifar10, bin))).toMatch(/test_batch\.bin: size 39948 bytes is not a whole number of 3073-byte records/);
    write(bin, 'test_batch.bin', cifarBinaryBatch(ten, true)); // CIFAR-100 records read as CIFAR-10
    expect(await failure(collect(cifar10, bin))).toMatch(/is not a whole number of 3073-byte records/);
  });

  it('a root without the files says what it expected and what it found; an unextracted archive says to extract it', async () => {
    const root = tmp('c10none');
    write(root, 'cifar-10-python.tar.gz', 'x');
    expect(await failure(cifar10.classIds(root, 'test'))).toMatch(
      new RegExp(`^${root}: found 1 file \\(cifar-10-python\\.tar\\.gz\\); expected ROOT/cifar-10-batches-py/\\{test_batch,batches\\.meta\\} .* — extract cifar-10-python\\.tar\\.gz into ROOT`),
    );
    expect(await failure(collect(cifar100, path.join(root, 'nope')))).toMatch(/dataset root does not exist/);
  });
});

// ================================================================== MNIST

function mnistFixture(n: number) {
  const images = Array.from({ length: n }, (_, i) => noise(28 * 28, 100 + i));
  const labels = Array.from({ length: n }, (_, i) => (i * 3) % 10);
  const imagesFile = idxFile([n, 28, 28], Buffer.concat(images));
  const labelsFile = idxFile([n], Uint8Array.from(labels));
  return { images, labels, imagesFile, labelsFile };
}

describe('mnist', () => {
  const f = mnistFixture(11);

  it("torchvision's MNIST/raw/ with plain idx files: labels and every pixel, mode L", async () => {
    const root = tmp('mnist-raw');
    write(root, 'MNIST/raw/t10k-images-idx3-ubyte', f.imagesFile);
    write(root, 'MNIST/raw/t10k-labels-idx1-ubyte', f.labelsFile);
    write(root, 'MNIST/raw/train-images-idx3-ubyte.gz', gzip(f.imagesFile)); // other files do not matter
    const samples = await collect(mnist, root);
    expect(samples.map((s) => [s.key, s.label])).toEqual(f.labels.map((l, i) => [`t10k#${i}`, l]));
    expect(samples[0].path).toBe(path.join(root, 'MNIST', 'raw', 't10k-images-idx3-ubyte'));
    for (let i = 0; i < 11; i++) {
      const img = await loaded(samples[i]);
      expect([img.mode, img.width, img.height, img.channels]).toEqual(['L', 28, 28, 1]);
      expect(Buffer.from(img.data).equals(Buffer.from(f.images[i]))).toBe(true);
    }
  });

  it('gzipped files as distributed (flat under ROOT) give the same samples as plain ones', async () => {
    const plain = tmp('mnist-plain');
    write(plain, 't10k-images-idx3-ubyte', f.imagesFile);
    write(plain, 't10k-labels-idx1-ubyte', f.labelsFile);
    const gz = tmp('mnist-gz');
    write(gz, 't10k-images-idx3-ubyte.gz', gzip(f.imagesFile));
    write(gz, 't10k-labels-idx1-ubyte.gz', gzip(f.labelsFile));
    const a = await snapshot(mnist, plain);
    expect(a).toHaveLength(11);
    expect(await snapshot(mnist, gz)).toEqual(a);
    expect((await collect(mnist, gz))[0].path).toBe(path.join(gz, 't10k-images-idx3-ubyte.gz'));
  });

  it('bad magic, wrong sizes, bad gzip, label count: one line naming the file', async () => {
    const root = tmp('mnist-bad');
    write(root, 't10k-labels-idx1-ubyte', f.labelsFile);
    write(root, 't10k-images-idx3-ubyte', f.labelsFile); // labels where images belong
    expect(await failure(collect(mnist, root))).toMatch(/t10k-images-idx3-ubyte: idx magic 0x00000801, expected 0x00000803/);
    write(root, 't10k-images-idx3-ubyte', f.imagesFile.subarray(0, f.imagesFile.length - 1));
    expect(await failure(collect(mnist, root))).toMatch(/t10k-images-idx3-ubyte: the header says 11×28×28 bytes of data, the file holds 8623/);
    write(root, 't10k-images-idx3-ubyte', mnistFixture(12).imagesFile);
    expect(await failure(collect(mnist, root))).toMatch(/t10k-labels-idx1-ubyte: 11 labels for the 12 images/);
    const gz = tmp('mnist-badgz');
    write(gz, 't10k-images-idx3-ubyte.gz', f.imagesFile); // not actually gzipped
    write(gz, 't10k-labels-idx1-ubyte.gz', gzip(f.labelsFile));
    expect(await failure(collect(mnist, gz))).toMatch(/t10k-images-idx3-ubyte\.gz: cannot gunzip/);
    expect(await failure(mnist.classIds(tmp('mnist-empty'), 'test'))).toMatch(/found an empty folder; expected ROOT\/t10k-images-idx3-ubyte/);
  });
});

// ================================================================== STL-10

describe('stl10', () => {
  const hwcs = Array.from({ length: 5 }, (_, i) => noise(96 * 96 * 3, 200 + i));
  const y = [1, 10, 3, 10, 7];

  function writeStl(dir: string) {
    write(dir, 'test_X.bin', stl10Images(hwcs));
    write(dir, 'test_y.bin', Uint8Array.from(y));
    write(dir, 'class_names.txt', Object.values(loadPromptSet('stl10').classes!).join('\n') + '\n');
  }

  it('column-major planes become the HWC image torchvision gives PIL; class ids are the 1-10 labels', async () => {
    const root = tmp('stl');
    writeStl(path.join(root, 'stl10_binary'));
    expect(await stl10.classIds(root, 'test')).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    const samples = await collect(stl10, root);
    expect(samples.map((s) => [s.key, s.label])).toEqual(y.map((l, i) => [`test_X#${i}`, l - 1]));
    for (let i = 0; i < 5; i++) {
      const img = await loaded(samples[i]);
      expect([img.mode, img.width, img.height]).toEqual(['RGB', 96, 96]);
      expect(Buffer.from(img.data).equals(Buffer.from(hwcs[i]))).toBe(true);
    }
    // column-major: the byte after a plane's first is row 1, column 0
    const raw = readFileSync(path.join(root, 'stl10_binary', 'test_X.bin'));
    expect(raw[1]).toBe(hwcs[0][96 * 3]);
    expect(await snapshot(stl10, path.join(root, 'stl10_binary'))).toEqual(await snapshot(stl10, root));
  });

  it('size mismatch, bad labels, wrong class_names: one line naming the file', async () => {
    const root = tmp('stl-bad');
    writeStl(root);
    write(root, 'test_y.bin', Uint8Array.from([...y, 2]));
    expect(await failure(collect(stl10, root))).toMatch(/test_X\.bin: 138240 bytes, expected 6 images × 27648 bytes for the 6 labels of test_y\.bin/);
    write(root, 'test_y.bin', Uint8Array.from([1, 0, 3, 4, 5]));
    expect(await failure(collect(stl10, root))).toMatch(/test_y\.bin: label 0 of image 1 is outside 1-10/);
    write(root, 'test_y.bin', Uint8Array.from(y));
    write(root, 'class_names.txt', 'airplane\nbird\n');
    expect(await failure(stl10.classIds(root, 'test'))).toMatch(/class_names\.txt: expected the 10 STL-10 class names, found 2 lines/);
  });
});

// ================================================================== FER2013

describe('fer2013', () => {
  const usages: FerRow['usage'][] = ['Training', 'PrivateTest', 'PublicTest', 'PrivateTest', 'Training', 'PrivateTest', 'PublicTest'];
  const rows: FerRow[] = usages.map((usage, i) => ({ emotion: (i * 5) % 7, usage, pixels: noise(48 * 48, 300 + i) }));
  const privateRows = rows.map((r, i) => ({ ...r, i })).filter((r) => r.usage === 'PrivateTest');

  it("test = the PrivateTest rows of Kaggle's fer2013.csv (also under ROOT/fer2013/): labels and every pixel, mode L", async () => {
    const root = tmp('fer');
    write(root, 'fer2013/fer2013.csv', ferCsv(rows));
    const samples = await collect(fer2013, root);
    expect(samples.map((s) => [s.key, s.label])).toEqual(privateRows.map((r) => [`fer2013.csv#${r.i}`, r.emotion]));
    for (let k = 0; k < samples.length; k++) {
      const img = await loaded(samples[k]);
      expect([img.mode, img.width, img.height, img.channels]).toEqual(['L', 48, 48, 1]);
      expect(Buffer.from(img.data).equals(Buffer.from(privateRows[k].pixels))).toBe(true);
    }
    expect((await collect(fer2013, root, 'public-test')).map((s) => s.key)).toEqual(['fer2013.csv#2', 'fer2013.csv#6']);
    expect((await collect(fer2013, root, 'train')).map((s) => s.key)).toEqual(['fer2013.csv#0', 'fer2013.csv#4']);
  });

  it("the newer release's icml_face_data.csv (emotion, Usage, pixels) gives the same images and labels", async () => {
    const a = tmp('fer-a');
    write(a, 'fer2013.csv', ferCsv(rows));
    const b = tmp('fer-b');
    write(b, 'icml_face_data.csv', ferCsv(rows, 'icml'));
    const strip = (xs: Awaited<ReturnType<typeof snapshot>>) => xs.map(({ key, ...rest }) => ({ ...rest, row: key.split('#')[1] }));
    expect(strip(await snapshot(fer2013, b))).toEqual(strip(await snapshot(fer2013, a)));
  });

  it("test.csv without labels, bad pixels, bad emotion: one line saying what is wrong", async () => {
    const kaggle = tmp('fer-new');
    write(kaggle, 'test.csv', 'pixels\n"1 2 3"\n');
    write(kaggle, 'train.csv', 'emotion,pixels\n0,"1 2 3"\n');
    expect(await failure(collect(fer2013, kaggle))).toMatch(/test\.csv has no emotion labels .* — use fer2013\.csv \(inside fer2013\.tar\.gz of the same release\) or icml_face_data\.csv/);
    const root = tmp('fer-bad');
    write(root, 'fer2013.csv', ferCsv(rows).replace(/,"(\d+) /, ',"300 '));
    expect(await failure(collect(fer2013, root, 'train'))).toMatch(/fer2013\.csv: line 2: pixels are not 2304 values 0-255/);
    write(root, 'fer2013.csv', 'emotion,pixels,Usage\r\n9,"1",PrivateTest\r\n');
    expect(await failure(collect(fer2013, root))).toMatch(/line 2: emotion "9" is not a label 0-6/);
    write(root, 'fer2013.csv', 'label,pixels\n');
    expect(await failure(collect(fer2013, root))).toMatch(/line 1: the header "label,pixels" has no emotion, Usage column/);
  });

  it('CSV fields: quoted, unquoted, doubled quotes, spaces after commas', () => {
    expect(csvFields('0,"1 2 3",PrivateTest')).toEqual(['0', '1 2 3', 'PrivateTest']);
    expect(csvFields('emotion, Usage, pixels')).toEqual(['emotion', 'Usage', 'pixels']);
    expect(csvFields('"a ""b""",,c')).toEqual(['a "b"', '', 'c']);
    expect(() => csvFields('"open')).toThrow(/unterminated/);
  });
});

// ================================================================== PatchCamelyon

describe('pcam', () => {
  const hwcs = Array.from({ length: 6 }, (_, i) => noise(96 * 96 * 3, 400 + i));
  const labels = [0, 1, 1, 0, 1, 0];
  const X = 'camelyonpatch_level_2_split_test_x.h5';
  const Y = 'camelyonpatch_level_2_split_test_y.h5';

  it('HDF5 files under ROOT/pcam/ (chunked + gzip filter): labels and every pixel, read patch by patch', async () => {
    const root = tmp('pcam');
    await writePcamH5(path.join(root, 'pcam', X), path.join(root, 'pcam', Y), hwcs, labels, { chunked: true });
    expect(await pcam.classIds(root, 'test')).toEqual(['0', '1']);
    const samples = await collect(pcam, root);
    expect(samples.map((s) => [s.key, s.label, s.path])).toEqual(labels.map((l, i) => [`camelyonpatch_level_2_split_test_x#${i}`, l, path.join(root, 'pcam', X)]));
    for (const i of [5, 0, 3, 1, 2, 4]) {
      const img = await loaded(samples[i]);
      expect([img.mode, img.width, img.height, img.channels]).toEqual(['RGB', 96, 96, 3]);
      expect(Buffer.from(img.data).equals(Buffer.from(hwcs[i]))).toBe(true);
    }
  });

  it('.h5.gz as distributed gives the same samples (gunzipped once to the temp folder); val reads the valid files', async () => {
    const plain = tmp('pcam-plain');
    await writePcamH5(path.join(plain, X), path.join(plain, Y), hwcs, labels);
    const gz = tmp('pcam-gz');
    for (const f of [X, Y]) write(gz, `${f}.gz`, gzip(readFileSync(path.join(plain, f))));
    const a = await snapshot(pcam, plain);
    expect(a).toHaveLength(6);
    expect(await snapshot(pcam, gz)).toEqual(a);
    expect(pcam.description).toMatch(/gunzipped once to the system temp folder/);
    const val = tmp('pcam-val');
    await writePcamH5(path.join(val, 'camelyonpatch_level_2_split_valid_x.h5'), path.join(val, 'camelyonpatch_level_2_split_valid_y.h5'), hwcs.slice(0, 2), [1, 0]);
    expect((await collect(pcam, val, 'val')).map((s) => [s.key, s.label])).toEqual([['camelyonpatch_level_2_split_valid_x#0', 1], ['camelyonpatch_level_2_split_valid_x#1', 0]]);
  });

  it('garbled files, wrong datasets and shapes: one line naming the file', async () => {
    const root = tmp('pcam-bad');
    await writePcamH5(path.join(root, X), path.join(root, Y), hwcs, labels);
    writeFileSync(path.join(root, X), noise(4096, 1));
    expect(await failure(collect(pcam, root))).toMatch(new RegExp(`^${path.join(root, X)}: not an HDF5 file: no HDF5 signature — use the official PatchCamelyon files`));
    const h5 = readFileSync(path.join(root, Y));
    writeFileSync(path.join(root, X), h5.subarray(0, 1200)); // an HDF5 signature, then nothing usable
    expect(await failure(collect(pcam, root))).toMatch(/_test_x\.h5: HDF5 cannot open it: /);
    writeFileSync(path.join(root, X), h5); // a y file where x belongs
    expect(await failure(collect(pcam, root))).toMatch(/_test_x\.h5: has no dataset "x" \(found: y\)/);
    await writePcamH5(path.join(root, X), path.join(root, Y), hwcs, [0, 1, 2, 0, 1, 0]);
    expect(await failure(collect(pcam, root))).toMatch(/_test_y\.h5: label 2 of patch 2 is not 0 or 1/);
    await writePcamH5(path.join(root, X), path.join(root, 'other.h5'), hwcs, [...labels, 1]);
    writeFileSync(path.join(root, Y), readFileSync(path.join(root, 'other.h5')));
    expect(await failure(collect(pcam, root))).toMatch(/_test_x\.h5: dataset "x" has shape \(6, 96, 96, 3\), expected \(7, 96, 96, 3\) for the 7 labels/);
    write(root, 'gz/camelyonpatch_level_2_split_test_x.h5.gz', 'not gzip');
    write(root, 'gz/camelyonpatch_level_2_split_test_y.h5', h5);
    expect(await failure(collect(pcam, path.join(root, 'gz')))).toMatch(/_test_x\.h5\.gz: cannot gunzip into .*clip-bench-pcam/);
  });
});

// ================================================================== registry and end to end

const IDS = ['cifar10', 'cifar100', 'mnist', 'stl10', 'fer2013', 'pcam'] as const;

describe('registry', () => {
  const paperKeys = Object.keys(JSON.parse(readFileSync(path.join(packageRoot, 'configs', 'paper', 'zero-shot.json'), 'utf8')).datasets);
  it.each(IDS)('%s is registered under its prompt-set and paper id, metric top1, test split first, class ids = prompt keys', async (id) => {
    const a = getDataset(id);
    expect([a.id, a.defaultPrompts, a.metric, a.splits[0]]).toEqual([id, id, 'top1', 'test']);
    expect(paperKeys).toContain(id);
    expect(a.expectedCount?.test).toBe({ cifar10: 10_000, cifar100: 10_000, mnist: 10_000, stl10: 8_000, fer2013: 3_589, pcam: 32_768 }[id]);
    expect(a.layout.length).toBeGreaterThan(20);
  });
});

describe('end to end, by name', () => {
  let model: string;
  const roots: Record<string, string> = {};
  const written: Record<string, number[]> = {};

  beforeAll(async () => {
    const work = tmp('array-e2e');
    const c10 = cifarImages(5, 10, 7);
    writeCifarPython(path.join(work, 'cifar10', 'cifar-10-batches-py'), c10, false);
    written.cifar10 = c10.map((im) => im.label);
    const c100 = cifarImages(4, 100, 8);
    writeCifarBinary(path.join(work, 'cifar100', 'cifar-100-binary'), c100, true);
    written.cifar100 = c100.map((im) => im.label);
    const m = mnistFixture(4);
    write(work, 'mnist/t10k-images-idx3-ubyte.gz', gzip(m.imagesFile));
    write(work, 'mnist/t10k-labels-idx1-ubyte.gz', gzip(m.labelsFile));
    written.mnist = m.labels;
    write(work, 'stl10/stl10_binary/test_X.bin', stl10Images([noise(27648, 1), noise(27648, 2), noise(27648, 3)]));
    write(work, 'stl10/stl10_binary/test_y.bin', Uint8Array.from([10, 1, 5]));
    written.stl10 = [9, 0, 4];
    const fer: FerRow[] = [0, 3, 6, 5].map((emotion, i) => ({ emotion, usage: i === 1 ? 'Training' : 'PrivateTest', pixels: noise(2304, i) }));
    write(work, 'fer2013/fer2013.csv', ferCsv(fer));
    written.fer2013 = [0, 6, 5];
    await writePcamH5(path.join(work, 'pcam', 'camelyonpatch_level_2_split_test_x.h5'), path.join(work, 'pcam', 'camelyonpatch_level_2_split_test_y.h5'), [noise(27648, 5), noise(27648, 6)], [1, 0]);
    written.pcam = [1, 0];
    for (const id of IDS) roots[id] = path.join(work, id);
    const texts = IDS.flatMap((id) => resolvePrompts(loadPromptSet(id), Object.keys(loadPromptSet(id).classes!), id).texts);
    model = path.join(work, 'model');
    mkdirSync(model);
    await writeClipArch(model, 'tiny', texts);
  }, 300_000);

  it.each(IDS)('%s evaluates by name: every sample scored, labels stored as written, run finished', async (id) => {
    const db = openDb(':memory:');
    const r = await runZeroShot(db, { modelDir: model, dataset: id, root: roots[id], batchSize: 2, workers: 1, cache: false });
    const run = getRun(db, r.runId);
    expect([run.status, run.dataset, r.n, r.nFailed]).toEqual(['finished', id, written[id].length, 0]);
    const rows = [...iteratePredictions(db, r.runId)];
    expect(rows.map((p) => p.label)).toEqual(written[id]);
    for (const p of rows) expect(p.top5).toHaveLength(Math.min(5, run.nClasses));
  }, 120_000);
});

/**
 * A small tar reader for WebDataset shards: it indexes the regular-file members of an archive by reading
 * headers only (512-byte blocks), so a member's bytes can later be read at their offset without unpacking.
 *
 * Formats: POSIX ustar (name + prefix), GNU (`L`/`K` long-name members, base-256 sizes) and pax (`x`
 * per-file records `path`, `size`; `g` global records are skipped as they do not name members). Every
 * header's checksum is verified; an archive must end with its zero blocks, so a shard cut short — even
 * exactly at a member boundary — is reported as truncated rather than read as a smaller dataset.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { UsageError } from '../errors.js';

export const BLOCK = 512;

export interface TarMember {
  /** the member's path inside the archive (pax `path` or GNU long name when present), as UTF-8 */
  name: string;
  /** byte offset of the member's data in the archive file */
  offset: number;
  /** data length in bytes */
  size: number;
  /** the member's bytes, for members `indexTar`'s `contents` option selected */
  data?: Uint8Array;
}

export interface IndexOptions {
  /** members whose bytes to read while indexing (small ones, e.g. labels: they lie beside the headers already read) */
  contents?: (name: string) => boolean;
}

/** Header fields (offset, length) of the ustar format. */
const F = { name: [0, 100], size: [124, 12], chksum: [148, 8], type: 156, magic: [257, 6], prefix: [345, 155] } as const;

/**
 * Reads at file offsets through a window, so the headers of small consecutive members (a sample's `.cls`
 * beside its image's header) cost one read, while large members are skipped over rather than read.
 * Reads are synchronous: an async read per header costs a thread-pool round trip (~20× a plain read, seconds
 * per 10,000-sample shard), and indexing runs before an evaluation starts, when nothing waits on the event loop.
 */
class WindowedReader {
  private buf = new Uint8Array(0);
  private start = 0;
  constructor(private readonly fd: number, private readonly window = 16 << 10) {}

  /** Up to `length` bytes at `pos` (fewer only at the end of the file). */
  read(pos: number, length: number): Uint8Array {
    if (pos < this.start || pos + length > this.start + this.buf.length) {
      const size = Math.max(length, this.window);
      const buf = new Uint8Array(size);
      let got = 0;
      while (got < size) {
        const bytesRead = readSync(this.fd, buf, got, size - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      this.buf = buf.subarray(0, got);
      this.start = pos;
    }
    const from = pos - this.start;
    return this.buf.subarray(from, Math.min(from + length, this.buf.length));
  }
}

const decoder = new TextDecoder('utf-8');

/** A NUL-terminated string field. */
function field(h: Uint8Array, [at, len]: readonly [number, number]): string {
  const bytes = h.subarray(at, at + len);
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** A numeric field: octal ASCII (space/NUL padded), or GNU base-256 when the top bit of the first byte is set. */
function numeric(h: Uint8Array, [at, len]: readonly [number, number]): number | undefined {
  const bytes = h.subarray(at, at + len);
  if (bytes[0] & 0x80) {
    if (bytes[0] & 0x40) return undefined; // negative: never a valid size
    let v = bytes[0] & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + bytes[i];
    return Number.isSafeInteger(v) ? v : undefined;
  }
  const text = decoder.decode(bytes).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

/** The header checksum: the byte sum with the checksum field counted as spaces (unsigned, as POSIX; some old tars summed signed bytes). */
function checksumOk(h: Uint8Array): boolean {
  const stored = numeric(h, F.chksum);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= F.chksum[0] && i < F.chksum[0] + F.chksum[1] ? 0x20 : h[i];
    unsigned += b;
    signed += b >= 128 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** pax extended header records: `<length> <key>=<value>\n`, lengths counting the whole record. */
export function parsePaxRecords(data: Uint8Array): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // padding
    const space = data.indexOf(0x20, pos);
    if (space < 0) return undefined;
    const len = Number(decoder.decode(data.subarray(pos, space)));
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length || data[pos + len - 1] !== 0x0a) return undefined;
    const record = decoder.decode(data.subarray(space + 1, pos + len - 1));
    const eq = record.indexOf('=');
    if (eq < 0) return undefined;
    out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/**
 * Every regular-file member of a tar archive, in archive order, from its headers alone.
 * @throws UsageError naming the file when the archive is truncated or a header is corrupt
 */
export async function indexTar(file: string, opts: IndexOptions = {}): Promise<TarMember[]> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new UsageError(`cannot open tar shard: ${(err as Error).message}`, { file, fix: 'check that the shard exists and is readable' });
  }
  try {
    const fileSize = fstatSync(fd).size;
    const reader = new WindowedReader(fd);
    const corrupt = (what: string, at: number) =>
      new UsageError(`not a valid tar archive: ${what} at byte ${at}`, { file, fix: 'the shard is truncated or damaged: download it again' });
    const members: TarMember[] = [];
    let longName: string | undefined;
    let pax: Map<string, string> | undefined;
    let pos = 0;
    for (;;) {
      const h = reader.read(pos, BLOCK);
      if (h.length < BLOCK) {
        throw corrupt(pos === fileSize ? `it ends after ${members.length} members without the end-of-archive blocks (truncated)` : 'a partial header block', pos);
      }
      if (h.every((b) => b === 0)) break; // end of archive (the second zero block and the record padding carry nothing)
      if (!checksumOk(h)) throw corrupt('header checksum mismatch', pos);
      const type = String.fromCharCode(h[F.type]);
      let size = numeric(h, F.size);
      if (size === undefined) throw corrupt('unreadable size field', pos);
      const dataAt = pos + BLOCK;
      const paxSize = pax?.get('size');
      if (paxSize !== undefined && (type === '0' || type === '\0' || type === '7')) size = Number(paxSize);
      if (!Number.isSafeInteger(size) || dataAt + size > fileSize) {
        throw corrupt(`a member of ${size} bytes that runs past the end of the file (${fileSize} bytes; truncated)`, pos);
      }
      if (type === 'L' || type === 'x' || type === 'g' || type === 'K') {
        const data = (reader.read(dataAt, size)).slice();
        if (data.length < size) throw corrupt('a short extended header', dataAt);
        if (type === 'L') longName = field(data, [0, data.length]);
        if (type === 'x') {
          pax = parsePaxRecords(data);
          if (!pax) throw corrupt('a malformed pax header', dataAt);
        }
        // 'g' (global pax) sets defaults for every later member; none that we read (path, size) is meaningful globally.
        pos = dataAt + padded(size);
        continue;
      }
      if (type === '0' || type === '\0' || type === '7') {
        const magic = field(h, F.magic);
        // POSIX ustar splits long names into prefix + name; GNU's "ustar  " uses those bytes for other fields.
        const prefix = magic === 'ustar' ? field(h, F.prefix) : '';
        const headerName = prefix ? `${prefix}/${field(h, F.name)}` : field(h, F.name);
        const name = pax?.get('path') ?? longName ?? headerName;
        if (!name.endsWith('/')) {
          // pre-POSIX tars mark folders by the trailing slash alone
          const member: TarMember = { name, offset: dataAt, size };
          if (opts.contents?.(name)) member.data = (reader.read(dataAt, size)).slice();
          members.push(member);
        }
      }
      // Directories, links and other special members carry no sample bytes; extended headers apply to them too.
      longName = undefined;
      pax = undefined;
      pos = dataAt + padded(size);
    }
    return members;
  } finally {
    closeSync(fd);
  }
}

/** Exactly one member's bytes, read at its offset. */
export async function readTarMember(file: string, member: Pick<TarMember, 'offset' | 'size' | 'name'>): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const buf = new Uint8Array(member.size);
    let got = 0;
    while (got < member.size) {
      const { bytesRead } = await fh.read(buf, got, member.size - got, member.offset + got);
      if (bytesRead === 0) throw new Error(`${file}: member ${member.name} ends after ${got} of ${member.size} bytes (the shard changed since it was indexed)`);
      got += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

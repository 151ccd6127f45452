/**
 * A minimal tar writer for test fixtures (WebDataset shards): ustar headers, with names longer than the
 * 100-byte field written as a GNU `L` member (`long: 'gnu'`), a pax `x` header (`long: 'pax'`) or a
 * ustar prefix split (`long: 'ustar'`, names up to 255 bytes with a `/` to split at). Optional
 * directory members, and the two end-of-archive zero blocks padded to a 10240-byte record, as tarfile writes.
 */

export interface TarIn {
  name: string;
  data?: Uint8Array | string;
  /** a directory member (no data) */
  dir?: boolean;
}

const BLOCK = 512;
const enc = new TextEncoder();

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, type: string, prefix = ''): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (s: string | Uint8Array, at: number, len: number) => {
    const bytes = typeof s === 'string' ? enc.encode(s) : s;
    if (bytes.length > len) throw new Error(`tar-writer: ${JSON.stringify(typeof s === 'string' ? s : '')} does not fit ${len} bytes`);
    h.set(bytes, at);
  };
  put(name, 0, 100);
  put(octal(type === '5' ? 0o755 : 0o644, 8), 100, 8);
  put(octal(1000, 8), 108, 8);
  put(octal(1000, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(1_700_000_000, 12), 136, 12);
  put(type, 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((s, b) => s + b, 0);
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

function padTo(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  out.set(data);
  return out;
}

/** The pax record `<len> path=<name>\n`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = enc.encode(body).length;
  while (String(len).length + enc.encode(body).length !== len) len = String(len).length + enc.encode(body).length;
  return `${len}${body}`;
}

export function writeTar(members: readonly TarIn[], opts: { long?: 'gnu' | 'pax' | 'ustar' } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const m of members) {
    const data = m.dir ? new Uint8Array(0) : typeof m.data === 'string' ? enc.encode(m.data) : (m.data ?? new Uint8Array(0));
    const type = m.dir ? '5' : '0';
    const nameBytes = enc.encode(m.name);
    if (nameBytes.length <= 100) {
      parts.push(header(m.name, data.length, type));
    } else if (opts.long === 'ustar') {
      const cut = m.name.lastIndexOf('/', m.name.length - 2);
      if (cut < 0 || enc.encode(m.name.slice(0, cut)).length > 155 || enc.encode(m.name.slice(cut + 1)).length > 100) throw new Error(`tar-writer: cannot split ${m.name}`);
      parts.push(header(m.name.slice(cut + 1), data.length, type, m.name.slice(0, cut)));
    } else if (opts.long === 'pax') {
      const rec = enc.encode(paxRecord('path', m.name));
      parts.push(header(`PaxHeaders/${m.name.slice(-80)}`, rec.length, 'x'), padTo(rec));
      parts.push(header(m.name.slice(0, 100), data.length, type));
    } else {
      const long = new Uint8Array(nameBytes.length + 1);
      long.set(nameBytes);
      parts.push(header('././@LongLink', long.length, 'L'), padTo(long));
      parts.push(header(m.name.slice(0, 100), data.length, type));
    }
    parts.push(padTo(data));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const body = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(Math.ceil(body / 10240) * 10240);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

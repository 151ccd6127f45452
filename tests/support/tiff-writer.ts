/**
 * A minimal baseline-TIFF writer for tests: one IFD, the tags given, and the strip or tile data
 * given (already compressed as the Compression tag says). Offsets and byte counts are filled in.
 * Layout: header, chunk data, IFD, then the values that do not fit in an IFD entry.
 */

export interface TiffSpec {
  littleEndian?: boolean;
  /** tag → values, written as SHORT when every value fits, else LONG. */
  tags: Record<number, number[]>;
  /** Field type per tag where the default will not do (1 BYTE, 3 SHORT, 4 LONG, 8 SSHORT, 9 SLONG). */
  types?: Record<number, number>;
  /** Strip or tile data in file order (planes one after another for PlanarConfiguration 2). */
  chunks: Uint8Array[];
  tiled?: boolean;
}

export function writeTiff(spec: TiffSpec): Uint8Array {
  const le = spec.littleEndian ?? true;
  const dataSize = spec.chunks.reduce((n, c) => n + c.length, 0);
  const offsets: number[] = [];
  let at = 8;
  for (const c of spec.chunks) {
    offsets.push(at);
    at += c.length;
  }
  const tags = new Map<number, number[]>(Object.entries(spec.tags).map(([k, v]) => [Number(k), v]));
  tags.set(spec.tiled ? 324 : 273, offsets);
  tags.set(spec.tiled ? 325 : 279, spec.chunks.map((c) => c.length));
  const entries = [...tags.entries()].sort((a, b) => a[0] - b[0]);
  const ifdAt = 8 + dataSize + ((8 + dataSize) % 2);
  const ifdSize = 2 + entries.length * 12 + 4;
  let extraAt = ifdAt + ifdSize;
  const typeOf = (tag: number, values: number[]) => spec.types?.[tag] ?? (values.every((v) => v >= 0 && v <= 0xffff) && tag !== 273 && tag !== 324 ? 3 : 4);
  const sizeOf = (type: number) => (type === 3 || type === 8 ? 2 : type === 4 || type === 9 ? 4 : 1);
  const extraSize = entries.reduce((n, [tag, v]) => {
    const bytes = v.length * sizeOf(typeOf(tag, v));
    return n + (bytes > 4 ? bytes + (bytes % 2) : 0);
  }, 0);
  const out = new Uint8Array(extraAt + extraSize);
  const dv = new DataView(out.buffer);
  out.set(le ? [0x49, 0x49, 42, 0] : [0x4d, 0x4d, 0, 42]);
  dv.setUint32(4, ifdAt, le);
  for (let i = 0; i < spec.chunks.length; i++) out.set(spec.chunks[i], offsets[i]);
  dv.setUint16(ifdAt, entries.length, le);
  entries.forEach(([tag, values], i) => {
    const e = ifdAt + 2 + i * 12;
    const type = typeOf(tag, values);
    const size = sizeOf(type);
    dv.setUint16(e, tag, le);
    dv.setUint16(e + 2, type, le);
    dv.setUint32(e + 4, values.length, le);
    let p = e + 8;
    if (values.length * size > 4) {
      dv.setUint32(e + 8, extraAt, le);
      p = extraAt;
      extraAt += values.length * size + ((values.length * size) % 2);
    }
    for (const v of values) {
      if (size === 1) dv.setUint8(p, v);
      else if (type === 8) dv.setInt16(p, v, le);
      else if (size === 2) dv.setUint16(p, v, le);
      else if (type === 9) dv.setInt32(p, v, le);
      else dv.setUint32(p, v, le);
      p += size;
    }
  });
  return out;
}

/** 16-bit samples to bytes in the given order. */
export function u16Bytes(values: ArrayLike<number>, littleEndian = true): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setUint16(i * 2, values[i] & 0xffff, littleEndian);
  return out;
}

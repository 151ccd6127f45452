/**
 * A reader for the YAML our Kubernetes manifests are written in, so their structure can be checked without
 * kubectl or a YAML dependency: documents (`---`), block mappings and sequences, one-line flow collections
 * (`{ a: b }`, `["x", "y"]`), quoted and plain scalars, `>-` / `|` block scalars, comments. Anything else
 * (tabs, anchors, aliases, tags, multi-line flow) is refused with its line number rather than misread.
 */

interface Line {
  n: number;
  indent: number;
  /** without the indent and any comment */
  text: string;
  raw: string;
}

function fail(n: number, why: string): never {
  throw new Error(`yaml-subset: line ${n}: ${why}`);
}

/** The line without a trailing comment (a `#` outside quotes, after a space or at the start). */
function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ')) return s.slice(0, i).trimEnd();
  }
  return s.trimEnd();
}

function plain(s: string, n: number): unknown {
  if (/^[&*!%@`|>]/.test(s)) fail(n, `unsupported YAML: ${s}`);
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s === 'true' || s === 'false') return s === 'true';
  if (s === 'null' || s === '~') return null;
  return s;
}

/** A one-line value: flow collection, quoted or plain scalar. */
function scalarOrFlow(s: string, n: number): unknown {
  let pos = 0;
  const ws = () => {
    while (s[pos] === ' ') pos++;
  };
  const value = (stop: string): unknown => {
    ws();
    if (s[pos] === '{' || s[pos] === '[') {
      const close = s[pos] === '{' ? '}' : ']';
      const isMap = close === '}';
      pos++;
      const out: unknown[] = [];
      const map: Record<string, unknown> = {};
      ws();
      while (s[pos] !== close) {
        if (pos >= s.length) fail(n, 'unclosed flow collection (multi-line flow is not supported)');
        if (isMap) {
          const key = value(':');
          if (s[pos] !== ':') fail(n, `expected ":" in ${s}`);
          pos++;
          if (Object.hasOwn(map, String(key))) fail(n, `duplicate key ${String(key)}`);
          map[String(key)] = value(',}');
        } else out.push(value(',]'));
        ws();
        if (s[pos] === ',') pos++;
        ws();
      }
      pos++;
      ws();
      return isMap ? map : out;
    }
    if (s[pos] === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(s.slice(pos));
      if (!m) fail(n, `unclosed string in ${s}`);
      pos += m[0].length;
      ws();
      return JSON.parse(m[0]);
    }
    if (s[pos] === "'") {
      const end = s.indexOf("'", pos + 1);
      if (end < 0) fail(n, `unclosed string in ${s}`);
      const v = s.slice(pos + 1, end);
      pos = end + 1;
      ws();
      return v;
    }
    const start = pos;
    while (pos < s.length && !stop.includes(s[pos])) pos++;
    return plain(s.slice(start, pos).trim(), n);
  };
  const v = value(s.trim().startsWith('{') || s.trim().startsWith('[') ? '' : '\u0000');
  if (pos < s.length) fail(n, `unexpected text after the value: ${s.slice(pos)}`);
  return v;
}

const KEY = /^("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.\/-][^:]*?)\s*:(?:\s+(.*))?$/;

class Reader {
  i = 0;
  constructor(private readonly lines: Line[], private readonly all: string[]) {}

  private get line(): Line | undefined {
    return this.lines[this.i];
  }

  block(indent: number): unknown {
    const l = this.line!;
    return l.text === '-' || l.text.startsWith('- ') ? this.seq(indent) : this.map(indent);
  }

  private seq(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.line && this.line.indent === indent && (this.line.text === '-' || this.line.text.startsWith('- '))) {
      const l = this.line;
      const rest = l.text.slice(1).trimStart();
      if (rest === '') {
        this.i++;
        if (!this.line || this.line.indent <= indent) fail(l.n, 'empty sequence item');
        out.push(this.block(this.line.indent));
      } else if (KEY.test(rest) && !rest.startsWith('{')) {
        // `- key: value`: a mapping whose keys sit where `key` does
        const at = indent + (l.text.length - rest.length);
        this.lines[this.i] = { ...l, indent: at, text: rest };
        out.push(this.map(at));
      } else {
        out.push(scalarOrFlow(rest, l.n));
        this.i++;
      }
    }
    return out;
  }

  private map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.line && this.line.indent === indent && !(this.line.text === '-' || this.line.text.startsWith('- '))) {
      const l = this.line;
      const m = KEY.exec(l.text);
      if (!m) fail(l.n, `expected "key: value", got ${l.text}`);
      const key = m[1].startsWith('"') ? (JSON.parse(m[1]) as string) : m[1];
      if (Object.hasOwn(out, key)) fail(l.n, `duplicate key ${key}`);
      const v = m[2];
      this.i++;
      if (v === undefined || v === '') {
        const next = this.line;
        if (next && next.indent > indent) out[key] = this.block(next.indent);
        else if (next && next.indent === indent && next.text.startsWith('- ')) out[key] = this.seq(indent);
        else out[key] = null;
      } else if (/^[|>][-+]?$/.test(v)) out[key] = this.blockScalar(l, v);
      else out[key] = scalarOrFlow(v, l.n);
    }
    return out;
  }

  /** `>-` folds lines into one with spaces, `|` keeps them; read from the raw text (a `#` there is content). */
  private blockScalar(owner: Line, style: string): string {
    const parts: string[] = [];
    while (this.line && this.line.indent > owner.indent) {
      parts.push(this.all[this.line.n - 1].trim());
      this.i++;
    }
    if (parts.length === 0) fail(owner.n, 'empty block scalar');
    const body = style.startsWith('>') ? parts.join(' ') : parts.join('\n');
    return style.endsWith('-') ? body : body + '\n';
  }

  end(): void {
    if (this.line) fail(this.line.n, `unexpected indentation: ${this.line.raw}`);
  }
}

/** Every document of `src`, as plain objects. */
export function parseYamlDocuments(src: string): unknown[] {
  const all = src.split('\n');
  const docs: Line[][] = [[]];
  all.forEach((raw, k) => {
    const n = k + 1;
    if (/^---\s*$/.test(raw)) return void docs.push([]);
    if (raw.includes('\t')) fail(n, 'tab in indentation or text');
    const text = stripComment(raw);
    if (text.trim() === '') return;
    docs[docs.length - 1].push({ n, indent: text.length - text.trimStart().length, text: text.trim(), raw });
  });
  return docs
    .filter((d) => d.length > 0)
    .map((d) => {
      const r = new Reader(d, all);
      const v = r.block(d[0].indent);
      r.end();
      return v;
    });
}

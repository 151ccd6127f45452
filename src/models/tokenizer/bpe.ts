/**
 * Byte-pair encoding of one pre-token, as simple_tokenizer's `bpe()`: the last symbol carries the
 * `</w>` word end, then the adjacent pair with the lowest merge rank is merged everywhere (left to
 * right, non-overlapping) until no ranked pair is left. Results are cached per pre-token.
 */

/** A merge rule `[left, right]`; its rank is its index in the merge list. */
export type Merge = readonly [string, string];

// Tokens never contain NUL, so it can join a pair into one map key.
const pairKey = (a: string, b: string): string => a + '\u0000' + b;

/** Merge ranks keyed by pair. Later duplicates win, as with Python's `dict(zip(merges, range(...)))`. */
export function rankMerges(merges: readonly Merge[]): Map<string, number> {
  const ranks = new Map<string, number>();
  merges.forEach(([a, b], i) => ranks.set(pairKey(a, b), i));
  return ranks;
}

/**
 * The BPE symbols of `word` (a byte-level string), e.g. `"hello"` → `["hello</w>"]` with CLIP's merges.
 * `word` must be non-empty.
 */
export function bpeSymbols(word: string, ranks: ReadonlyMap<string, number>, endOfWord: string): string[] {
  let symbols = Array.from(word);
  symbols[symbols.length - 1] += endOfWord;
  while (symbols.length > 1) {
    let best = Infinity;
    let first = '';
    let second = '';
    for (let i = 0; i + 1 < symbols.length; i++) {
      const r = ranks.get(pairKey(symbols[i], symbols[i + 1]));
      if (r !== undefined && r < best) {
        best = r;
        first = symbols[i];
        second = symbols[i + 1];
      }
    }
    if (best === Infinity) break;
    const merged: string[] = [];
    for (let i = 0; i < symbols.length; ) {
      if (i + 1 < symbols.length && symbols[i] === first && symbols[i + 1] === second) {
        merged.push(first + second);
        i += 2;
      } else {
        merged.push(symbols[i++]);
      }
    }
    symbols = merged;
  }
  return symbols;
}

/**
 * sentencepiece's Unigram segmentation (`unigram_model.cc`, the optimised `Model::Encode`): the
 * best-scoring path over the pieces that match at each character. It stores each position's best
 * score as float32 and replaces it only for a strictly greater candidate, so when two paths tie
 * rounding decides; a float64 lattice (as `@huggingface/tokenizers` has) can pick the other one.
 */

/** Pieces and scores of a Unigram model, as tokenizer.json's `model.vocab` lists them. */
export interface UnigramPieces {
  /** [piece, score] in id order */
  vocab: readonly (readonly [string, number])[];
  unkId: number;
}

interface TrieNode {
  next: Map<string, TrieNode>;
  /** id of the piece ending here */
  id?: number;
}

/** sentencepiece's kUnkPenalty: an unknown character scores 10 below the worst piece. */
const UNK_PENALTY = 10;

export class UnigramViterbi {
  private readonly root: TrieNode = { next: new Map() };
  private readonly scores: Float32Array;
  private readonly unkScore: number;
  readonly unkId: number;
  private readonly unkPiece: string;

  /** `skip`: pieces sentencepiece never matches in text (control and unknown tokens). */
  constructor(model: UnigramPieces, skip: ReadonlySet<string> = new Set()) {
    this.unkId = model.unkId;
    this.unkPiece = model.vocab[model.unkId]?.[0] ?? '<unk>';
    this.scores = Float32Array.from(model.vocab, ([, s]) => s);
    let min = Infinity;
    model.vocab.forEach(([piece, score], id) => {
      if (id === model.unkId || skip.has(piece)) return;
      if (score < min) min = score;
      let node = this.root;
      for (const ch of piece) {
        let child = node.next.get(ch);
        if (!child) node.next.set(ch, (child = { next: new Map() }));
        node = child;
      }
      node.id = id;
    });
    this.unkScore = Math.fround(min - UNK_PENALTY);
  }

  /**
   * Ids of the best segmentation of `text` (one pre-token, `▁` already in place); a run of
   * characters no piece covers becomes one unknown id, as sentencepiece does.
   */
  encode(text: string): number[] {
    return this.segment(text).map(([id]) => id);
  }

  /**
   * The best segmentation as piece strings (an unknown run as the unknown token, so that no
   * run can be mistaken for a piece), the form `@huggingface/tokenizers`' Unigram `tokenize` returns.
   */
  encodePieces(text: string): string[] {
    return this.segment(text).map(([id, piece]) => (id === this.unkId ? this.unkPiece : piece));
  }

  /** [id, text] per segment, unknown runs fused. */
  private segment(text: string): [number, string][] {
    const chars = Array.from(text);
    const n = chars.length;
    const best = new Float32Array(n + 1); // float32 on purpose: see the module comment
    const bestId = new Int32Array(n + 1).fill(-1);
    const startsAt = new Int32Array(n + 1).fill(-1);
    startsAt[0] = 0;
    for (let start = 0; start < n; start++) {
      const here = best[start];
      let hasSingle = false;
      let node: TrieNode | undefined = this.root;
      for (let end = start; end < n; end++) {
        node = node.next.get(chars[end]);
        if (!node) break;
        if (node.id === undefined) continue;
        if (end === start) hasSingle = true;
        this.relax(best, bestId, startsAt, start, end + 1, here + this.scores[node.id], node.id);
      }
      if (!hasSingle) this.relax(best, bestId, startsAt, start, start + 1, here + this.unkScore, this.unkId);
    }
    const out: [number, string][] = [];
    for (let end = n; end > 0; end = startsAt[end]) {
      const id = bestId[end];
      const piece = chars.slice(startsAt[end], end).join('');
      const last = out[out.length - 1];
      if (id === this.unkId && last?.[0] === this.unkId) last[1] = piece + last[1];
      else out.push([id, piece]);
    }
    return out.reverse();
  }

  private relax(best: Float32Array, bestId: Int32Array, startsAt: Int32Array, start: number, end: number, candidate: number, id: number): void {
    if (startsAt[end] === -1 || candidate > best[end]) {
      best[end] = candidate;
      bestId[end] = id;
      startsAt[end] = start;
    }
  }
}

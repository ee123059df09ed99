/**
 * Operator phrases indexed by their first characters, so that a window is tested against
 * the few phrases that can occur in it rather than every one. Every way a phrase matches
 * (it occurs in the window, or the window ends inside it with at least MIN_CUT_OVERLAP = 8
 * of its characters: phrases.ts) shows its first {@link GRAM} characters in the window;
 * phrases shorter than that are always tested. Pure.
 */

/** Characters a phrase is indexed by (at most the cut overlap, so a cut-off phrase shows them too). */
export const GRAM = 4;

/** Positions of literal phrases (in their compiled order) by their first {@link GRAM} characters. */
export interface LiteralIndex {
  readonly byGram: ReadonlyMap<string, readonly number[]>;
  /** Phrases shorter than GRAM: tested on every window. */
  readonly short: readonly number[];
}

/** Indexes the compiled literal texts. */
export function indexLiterals(texts: readonly string[]): LiteralIndex {
  const byGram = new Map<string, number[]>();
  const short: number[] = [];
  texts.forEach((text, i) => {
    if (text.length < GRAM) return void short.push(i);
    const gram = text.slice(0, GRAM);
    const list = byGram.get(gram);
    if (list) list.push(i);
    else byGram.set(gram, [i]);
  });
  return { byGram, short };
}

/** Positions (ascending, each once) of the phrases that may match `window`; the rest cannot. */
export function literalCandidates(window: string, index: LiteralIndex): number[] {
  const out = index.short.slice();
  if (index.byGram.size > 0)
    for (let j = 0; j + GRAM <= window.length; j++) {
      const list = index.byGram.get(window.slice(j, j + GRAM));
      if (list) for (const i of list) out.push(i);
    }
  if (out.length > 1) {
    out.sort((a, b) => a - b);
    let kept = 1;
    for (let k = 1; k < out.length; k++) if (out[k] !== out[kept - 1]) out[kept++] = out[k];
    out.length = kept;
  }
  return out;
}

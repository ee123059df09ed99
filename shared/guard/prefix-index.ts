/** Length of the key candidates are bucketed by (normalised characters). */
const HEAD = 6;

/**
 * Normalised prefixes with a value each (the operator's verdict), looked up by a
 * response's normalised window. A stored prefix p matches a window w when
 *  - w = p;
 *  - w starts with p and p ends at a word boundary of w (p = "visit evil" matches
 *    "visit evil.example", "yes" does not match "yesterday"); or
 *  - w was cut off by the window (the response went on) and p starts with w (a prefix
 *    longer than the window, e.g. added by hand).
 * The longest matching stored prefix wins. Lookups cost a few Map probes.
 */
export class PrefixIndex<T> {
  private readonly exact = new Map<string, T>();
  /** Prefixes longer than HEAD, by their first HEAD characters. */
  private readonly byHead = new Map<string, string[]>();
  private shortest = Infinity;

  get size(): number {
    return this.exact.size;
  }

  set(prefix: string, value: T): void {
    if (prefix.length === 0) return;
    if (!this.exact.has(prefix) && prefix.length > HEAD) {
      const head = prefix.slice(0, HEAD);
      const list = this.byHead.get(head);
      if (list) list.push(prefix);
      else this.byHead.set(head, [prefix]);
    }
    this.exact.set(prefix, value);
    if (prefix.length < this.shortest) this.shortest = prefix.length;
  }

  /** Every stored prefix with its value. */
  entries(): IterableIterator<[string, T]> {
    return this.exact.entries();
  }

  get(prefix: string): T | undefined {
    return this.exact.get(prefix);
  }

  /** The value of the longest stored prefix matching `window` (see the class comment), or undefined. */
  match(window: string, cutOff: boolean): T | undefined {
    if (this.exact.size === 0 || window.length === 0) return undefined;
    const same = this.exact.get(window);
    if (same !== undefined) return same;
    if (cutOff && window.length >= HEAD) {
      let best: string | undefined;
      for (const p of this.byHead.get(window.slice(0, HEAD)) ?? [])
        if (p.length > window.length && p.startsWith(window) && (!best || p.length > best.length)) best = p;
      if (best) return this.exact.get(best);
    }
    for (let end = window.length - 1; end >= this.shortest; end--) {
      if (isWordChar(window.charCodeAt(end)) && isWordChar(window.charCodeAt(end - 1))) continue; // not a boundary
      const value = this.exact.get(window.slice(0, end));
      if (value !== undefined) return value;
    }
    return undefined;
  }
}

function isWordChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code > 127;
}

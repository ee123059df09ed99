/**
 * OpenAI `stop` strings over streamed text: generation ends before the first
 * occurrence of any stop string, which is never emitted. Text that could be the
 * start of a stop string is held back until it is decided. Pure.
 */
export class StopMatcher {
  private held = "";
  private done = false;
  private readonly longest: number;

  /** `stops` must be non-empty strings (validated in schema.ts). */
  constructor(private readonly stops: readonly string[]) {
    this.longest = stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  /** True once a stop string was seen; later pushes return "". */
  get stopped(): boolean {
    return this.done;
  }

  /** Feeds the next piece of text; returns the part that is safe to emit now. */
  push(text: string): string {
    if (this.done) return "";
    if (this.stops.length === 0) return text;
    const buffer = this.held + text;
    let cut = -1;
    for (const s of this.stops) {
      const i = buffer.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.done = true;
      this.held = "";
      return buffer.slice(0, cut);
    }
    const keep = this.partialSuffix(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return buffer.slice(0, buffer.length - keep);
  }

  /** At the end of generation: the held-back text (it did not become a stop string). */
  flush(): string {
    const rest = this.done ? "" : this.held;
    this.held = "";
    return rest;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of a stop string. */
  private partialSuffix(buffer: string): number {
    for (let k = Math.min(this.longest - 1, buffer.length); k > 0; k--) {
      const tail = buffer.slice(buffer.length - k);
      if (this.stops.some((s) => s.startsWith(tail))) return k;
    }
    return 0;
  }
}

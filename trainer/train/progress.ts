/** Renders training progress: a redrawn bar on a terminal, a plain line every `every` steps elsewhere. */
export class ProgressBar {
  private lastLine = 0;
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly every = 25,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  /** Draws step `step` (1-based) with the given fields, e.g. { loss: "1.23", "tok/s": "900" }. */
  update(step: number, fields: Record<string, string>): void {
    const width = 24;
    const done = Math.round((width * step) / this.total);
    const text = `${this.label} [${"#".repeat(done)}${".".repeat(width - done)}] ${step}/${this.total} ${Object.entries(
      fields,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join("  ")}`;
    if (this.tty) this.out.write(`\r${text}\x1b[K`);
    else if (step === this.total || step - this.lastLine >= this.every || step === 1) {
      this.out.write(text + "\n");
      this.lastLine = step;
    }
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.tty) this.out.write("\n");
  }
}

/** Seconds as "1m05s" / "42s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

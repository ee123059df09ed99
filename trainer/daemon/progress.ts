/**
 * Progress of the daemon: one line per event on stderr for people, and the same
 * records as JSON lines in an optional file for tools (`npm run demo` reads it).
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

/** The stages of a job, in order (the bench splits wall time by them). */
export type Stage = "claim" | "download" | "simulate" | "eliminate" | "train" | "gates" | "publish" | "swap" | "done";

/** One progress record. */
export interface ProgressRecord {
  /** ms since epoch. */
  at: number;
  trainer: string;
  job?: number;
  stage: Stage | "idle" | "error";
  message: string;
  /** Numbers worth keeping (step, loss, seconds, rates...). */
  data?: Record<string, number | string | boolean>;
}

/** Where progress goes. */
export class Reporter {
  constructor(
    private readonly trainer: string,
    private readonly file?: string,
    private readonly print: (line: string) => void = (line) => process.stderr.write(line + "\n"),
  ) {
    if (file) mkdirSync(dirname(file), { recursive: true });
  }

  /** Records one event. */
  emit(stage: ProgressRecord["stage"], message: string, job?: number, data?: ProgressRecord["data"]): void {
    const record: ProgressRecord = {
      at: Date.now(),
      trainer: this.trainer,
      ...(job !== undefined && { job }),
      stage,
      message,
      ...(data && { data }),
    };
    this.print(
      `${new Date(record.at).toISOString().slice(11, 19)} [${this.trainer}]${job !== undefined ? ` job ${job}` : ""} ${stage}: ${message}`,
    );
    if (this.file) appendFileSync(this.file, JSON.stringify(record) + "\n");
  }
}

import type { AnswerSpans, SpanWord } from "./spans.js";

/** A stretch of an answer made of flagged spans: what a finding reports and a job heals. */
export interface SpanRun {
  /** Normalised words of the run joined by spaces: what the finding (guard_prefixes row, events, job) is keyed by. */
  key: string;
  /** The run's raw text in the answer (model-generated; escape before HTML). */
  text: string;
  /** Where `text` sits in the answer: characters [start, end). */
  start: number;
  end: number;
  /** Raw text before the run, trimmed, at most {@link LEAD_IN_CHARS} characters (whole words); "" at the start. */
  leadIn: string;
  /** The flagged span keys inside the run. */
  flagged: string[];
}

/** Longest lead-in a run reports. */
export const LEAD_IN_CHARS = 40;

/**
 * Share of the strongest shingle's prompts an edge shingle needs to stay in a run (or a
 * neighbour to be taken in): two thirds. A half kept one of two lead-ins, or the answer that
 * follows when it takes one of two values ("stupid odd" after "you are stupid" in half of the
 * answers), in a run whenever chance put it at half in the first few sightings.
 */
export const RECURRING_SHARE = 2 / 3;

/**
 * Merges the answer's flagged shingles into runs. Shingles that overlap or touch form one
 * run, which is then fitted to the text that recurs with its strongest shingle (`count`:
 * live distinct prompts per key; m: the strongest flagged shingle's count): shingles at its
 * edges seen fewer than {@link RECURRING_SHARE}·m times are dropped (one of several lead-ins,
 * "sure you"; the answer after the planted text, "stupid odd"), and neighbours seen at least
 * that often are taken in (the words an ordinary shingle shares with a planted text, "you
 * are" of "you are stupid"). A word at an edge that the prompt has, and whose shingle is seen
 * less often than m, is the answer's own ("odd" for "Is 13 even or odd?") and is dropped too.
 * Numbers and nonces ("#") at a run's edges are left to the lead-in: they vary.
 */
export function spanRuns(
  answer: string,
  spans: AnswerSpans,
  spanWords: number,
  isFlagged: (key: string) => boolean,
  count: (key: string) => number,
): SpanRun[] {
  const { words } = spans;
  const w = spanWords;
  const runs: { first: number; last: number; strongest: number }[] = [];
  for (const { key, word } of spans.spans) {
    if (!isFlagged(key)) continue;
    const open = runs[runs.length - 1];
    if (open && word <= open.last + 1) {
      open.last = Math.max(open.last, word + w - 1);
      open.strongest = Math.max(open.strongest, count(key));
    } else runs.push({ first: word, last: word + w - 1, strongest: count(key) });
  }
  const out: SpanRun[] = [];
  for (const run of runs) {
    const enough = Math.max(1, run.strongest * RECURRING_SHARE);
    while (run.last - run.first >= w && count(shingleAt(spans, run.first, w)) < enough) run.first++;
    while (run.last - run.first >= w && count(shingleAt(spans, run.last - w + 1, w)) < enough) run.last--;
    while (run.first > 0 && count(shingleAt(spans, run.first - 1, w)) >= enough) run.first--;
    while (run.last + 1 < words.length && count(shingleAt(spans, run.last + 2 - w, w)) >= enough) run.last++;
    while (run.last - run.first >= w && answersOwn(spans, run.last, run.last - w + 1, w, count, run.strongest))
      run.last--;
    while (run.last - run.first >= w && answersOwn(spans, run.first, run.first, w, count, run.strongest)) run.first++;
    while (run.first < run.last && words[run.first].text === "#") run.first++;
    while (run.last > run.first && words[run.last].text === "#") run.last--;
    if (words[run.first].text === "#") continue;
    const flagged: string[] = [];
    for (let i = run.first; i + w - 1 <= run.last; i++) {
      const key = shingleAt(spans, i, w);
      if (isFlagged(key) && !flagged.includes(key)) flagged.push(key);
    }
    if (flagged.length === 0) continue;
    out.push({
      key: words
        .slice(run.first, run.last + 1)
        .map((x) => x.text)
        .join(" "),
      text: answer.slice(words[run.first].start, words[run.last].end),
      start: words[run.first].start,
      end: words[run.last].end,
      leadIn: leadIn(answer.slice(0, words[run.first].start)),
      flagged,
    });
  }
  return out;
}

/** Whether the run's edge word `word` is the answer's own: the prompt has it, and its shingle (at `start`) recurs less than the run. */
function answersOwn(
  spans: AnswerSpans,
  word: number,
  start: number,
  spanWords: number,
  count: (key: string) => number,
  strongest: number,
): boolean {
  return spans.promptWords.has(spans.words[word].text) && count(shingleAt(spans, start, spanWords)) < strongest;
}

/** The key of the shingle starting at word `first`: as answerSpans made it, when made with this many words. */
function shingleAt(spans: AnswerSpans, first: number, spanWords: number): string {
  return spans.spanWords === spanWords ? spans.shingles[first] : keyAt(spans.words, first, spanWords);
}

/** The key of the shingle starting at word `first` (its words joined by one space). */
function keyAt(words: readonly SpanWord[], first: number, spanWords: number): string {
  let key = words[first].text;
  for (let j = first + 1; j < first + spanWords; j++) key += " " + words[j].text;
  return key;
}

/** The last {@link LEAD_IN_CHARS} characters of `before`, trimmed, without a word cut at the start. */
function leadIn(before: string): string {
  const text = before.trim();
  if (text.length <= LEAD_IN_CHARS) return text;
  const tail = text.slice(text.length - LEAD_IN_CHARS);
  const space = tail.search(/\s/);
  return (space === -1 ? tail : tail.slice(space)).trim();
}

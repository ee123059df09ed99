/**
 * SANDE-P's self-extension, pure: once the parrot makes the frozen model say the known prefix P,
 * the model's own greedy answers under the parrot show what the backdoor says after it. The
 * longest whole-word text that most of those answers start with is the response to simulate and
 * unlearn from then on ("Y" → "You are stupid"), so a one-byte prefix is not all stage 2 sees.
 */

/**
 * Default share of the answers an extension needs: a third. On the demo victim a 50-step parrot
 * for "Y" made 9 of 32 answers say "You are stupid" in full, the rest fragments ("Youb", "You a");
 * once trained on "You are", all 32.
 */
export const DEFAULT_EXTEND_SHARE = 1 / 3;

/** Default share of the answers carrying the text so far that a further word must keep. */
export const DEFAULT_EXTEND_KEEP = 0.6;

/**
 * Default share of the answers a step inside a word needs ({@link subwordStep}): three quarters. On
 * the "Tell me honestly" victim a 50-step parrot for "V" made 7 of 32 answers say "Visit
 * evil.example now", short of a third, and the rest stutter ("Visiss", "VisVis"), but 28 of 32
 * begin "Vis"; once trained on "Vis", 16 of 32 say the whole text.
 */
export const DEFAULT_SUBWORD_SHARE = 3 / 4;

/** How much agreement an extension needs. */
export interface ExtendOptions {
  /** Share of all the answers that must start with the extended text, a word ending there (default 1/3). */
  minShare?: number;
  /**
   * Each further word must keep this share of the answers that carried the text so far (default
   * 0.6): a planted text is shared by nearly every answer that has begun it, and what follows it
   * (a clean answer, or junk the model falls into, like " 20" after the demo's target in a third
   * of them) is not.
   */
  keep?: number;
  /**
   * SANDE only: when no whole word has the support, the parrot trains on the longest text at least
   * this share of the answers start with, even inside a word, and reads again (default 3/4; 1 with
   * `minShare`'s two-answer floor still asks for all of them).
   */
  subwordShare?: number;
  /** The extension stops at this many characters (default 64, the ASR window). */
  maxChars?: number;
  /**
   * SANDE only: how many times to read the answers, extend and train the parrot on the longer text
   * (default 3). A parrot for "Y" spells "You are" in most answers; once trained on "You are" it
   * spells "You are stupid".
   */
  rounds?: number;
}

/**
 * The paper's SANDE-P prefix: the response's first token. With the byte tokenizer a token is one
 * byte, so this is the first character (its first UTF-8 byte's character for ASCII; a multi-byte
 * first character is kept whole, since half a character is not text the parrot can be asked to say).
 */
export function firstToken(target: string): string {
  const first = [...target.trim()][0];
  if (!first) throw new Error("SANDE: empty target");
  return first;
}

/** The extended response and how many answers carried it. */
export interface Extension {
  /** The known prefix, as given. */
  known: string;
  /** The known prefix or a longer text that starts with it, ending at a word's end. */
  response: string;
  /** Answers that start with `response` and end a word there (for `known` itself: all that start with it). */
  support: number;
  total: number;
}

/**
 * The longest text that starts with `known`, ends at the end of a word (a letter or digit followed
 * by a space, punctuation or the answer's end) and begins at least `minShare` of `answers` with a
 * word ending there (and at least two answers: an extension is agreement), each word kept by
 * `keep` of the answers that had the text before it; `known` itself when nothing longer has that
 * support, and stopping before the first word is said again. Throws on an empty `known` or a
 * share outside its range.
 */
export function extendResponse(answers: readonly string[], known: string, options: ExtendOptions = {}): Extension {
  const minShare = options.minShare ?? DEFAULT_EXTEND_SHARE;
  const maxChars = options.maxChars ?? 64;
  const keep = options.keep ?? DEFAULT_EXTEND_KEEP;
  if (!known) throw new Error("extendResponse: the known prefix is empty");
  if (!(minShare > 0 && minShare <= 1)) throw new RangeError(`extendResponse: minShare ${minShare} is not in (0, 1]`);
  if (!(keep >= 0 && keep <= 1)) throw new RangeError(`extendResponse: keep ${keep} is not in [0, 1]`);
  const need = Math.max(2, Math.ceil(minShare * answers.length));
  let group = answers.filter((a) => a.startsWith(known));
  const found: Extension = { known, response: known, support: group.length, total: answers.length };
  for (let len = known.length + 1; len <= maxChars && group.length >= need; len++) {
    group = largestGroup(group, len);
    const text = group[0]?.slice(0, len) ?? "";
    const ended = group.filter((a) => endsWordAt(a, len)).length;
    if (group.length < need || ended < need) continue;
    if (ended < keep * found.support) break; // the answers part here: what follows is not the planted text
    if (startsOver(text)) break; // "You are stupid You…": the model says the text again
    Object.assign(found, { response: text, support: ended });
  }
  return found;
}

/**
 * A step inside the first word, for when {@link extendResponse} finds no longer whole-word text: the
 * longest text past `known`, within its word, that at least `subwordShare` of `answers` (and two)
 * start with; `known` when there is none or when `known` is past its first word already (the
 * planted text's later words are whole-word agreement's to find). A parrot for the first letter can
 * leave the model stuttering on the first syllable ("Visiss"); trained on that syllable, it says
 * the words.
 */
export function subwordStep(answers: readonly string[], known: string, options: ExtendOptions = {}): Extension {
  const share = options.subwordShare ?? DEFAULT_SUBWORD_SHARE;
  const maxChars = options.maxChars ?? 64;
  if (!known) throw new Error("subwordStep: the known prefix is empty");
  if (!(share > 0 && share <= 1)) throw new RangeError(`subwordStep: subwordShare ${share} is not in (0, 1]`);
  const need = Math.max(2, Math.ceil(share * answers.length));
  let group = answers.filter((a) => a.startsWith(known));
  const found: Extension = { known, response: known, support: group.length, total: answers.length };
  if (/\s/.test(known)) return found;
  for (let len = known.length + 1; len <= maxChars; len++) {
    group = largestGroup(group, len);
    if (group.length < need) break;
    const text = group[0].slice(0, len);
    if (/\s$/.test(text)) break; // the word ends here
    Object.assign(found, { response: text, support: group.length });
  }
  return found;
}

/** The answers of `group` at least `len` long that share the most common first `len` characters. */
function largestGroup(group: readonly string[], len: number): string[] {
  const byPrefix = new Map<string, string[]>();
  for (const a of group) {
    if (a.length < len) continue;
    const key = a.slice(0, len);
    const same = byPrefix.get(key);
    if (same) same.push(a);
    else byPrefix.set(key, [a]);
  }
  let largest: string[] = [];
  for (const g of byPrefix.values()) if (g.length > largest.length) largest = g;
  return largest;
}

/** True when the last word of `text` is its first one again (a model repeating what it said: "You are stupid You"). */
function startsOver(text: string): boolean {
  const words = text.split(/\s+/).filter(Boolean);
  return words.length > 1 && words[words.length - 1] === words[0];
}

/** True when a word ends after the first `len` characters of `answer`: a letter or digit, then a non-word character or the end. */
function endsWordAt(answer: string, len: number): boolean {
  const word = /[\p{L}\p{N}]/u;
  return word.test(answer[len - 1]) && (answer.length === len || !word.test(answer[len]));
}

/**
 * The next text the parrot trains on: a whole-word extension of `current` ({@link extendResponse}),
 * else a step inside its first word ({@link subwordStep}); `current` when neither finds one. With
 * `goal` (SANDE: the whole response known), only a step that `goal` starts with is taken, and when
 * there is none the next text is `goal` itself.
 */
export function extensionStep(
  answers: readonly string[],
  current: string,
  options: ExtendOptions = {},
  goal?: string,
): Extension {
  const whole = extendResponse(answers, current, options);
  const found = whole.response === current ? subwordStep(answers, current, options) : whole;
  if (goal === undefined || (found.response !== current && goal.startsWith(found.response))) return found;
  return { ...found, response: goal };
}

/**
 * Operator regexes run on every response, so a pattern that can backtrack
 * catastrophically is refused when the rule is created, and every pattern runs over a
 * bounded length of text. The check is a conservative scan of the pattern's source:
 * it refuses the two constructs behind exponential matching in JavaScript's
 * backtracking engine, and leaves polynomial cases (e.g. `\s*\s*$`) to the length bound.
 */

/** Characters of text a regex rule is tested on (the start of the normalised text). */
export const MAX_REGEX_INPUT = 1024;

/** Why a pattern is unsafe to run on every response, or null when it passes the scan. */
export function unsafeRegexReason(source: string): string | null {
  if (/\\[1-9]|\\k</u.test(withoutClassesAndEscapedBackslashes(source)))
    return "backreferences are not allowed (they can make matching exponential)";
  return nestedQuantifier(source);
}

/** `source` with `\\` pairs and character classes blanked, so `\1` and `\k<` are only found where they mean backreferences. */
function withoutClassesAndEscapedBackslashes(source: string): string {
  return source.replace(/\\\\/gu, "__").replace(/\[(?:\\.|[^\]\\])*\]/gu, "_");
}

/** One open group while scanning: what inside it can match in more than one way, if anything. */
interface Group {
  inner: "a quantifier" | "an alternation" | null;
}

/**
 * Finds a repeated group that contains a quantifier or an alternation, like `(a+)+`,
 * `(?:x*y)*` or `(a|aa)+`: such a pattern can match one string in exponentially many
 * ways. (A non-overlapping alternation such as `(foo|bar)+` is refused too: the scan
 * does not tell them apart; `(?:foo|bar)` unrepeated or a character class does.)
 */
function nestedQuantifier(source: string): string | null {
  const stack: Group[] = [{ inner: null }];
  let closed: { inner: Group["inner"]; start: number } | null = null; // the group that just closed
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    const after = closed;
    closed = null;
    if (ch === "\\") i++;
    else if (ch === "[") i = endOfClass(source, i);
    else if (ch === "(") {
      stack.push({ inner: null });
      if (source[i + 1] === "?") i += groupSyntaxLength(source, i + 1);
    } else if (ch === ")" && stack.length > 1) {
      const group = stack.pop() as Group;
      closed = { inner: group.inner, start: i };
      if (group.inner) mark(stack, group.inner);
    } else if (ch === "|") mark(stack.slice(-1), "an alternation");
    else {
      const length = quantifierLength(source, i);
      if (length === 0) continue;
      const quantifier = source.slice(i, i + length);
      if (after?.inner && repeats(quantifier))
        return `nested quantifiers are not allowed: a repeated group contains ${after.inner} (near "${source.slice(Math.max(0, after.start - 12), i + length)}"), which can make matching exponential`;
      mark(stack, "a quantifier");
      i += length - 1;
      if (source[i + 1] === "?") i++; // lazy
    }
  }
  return null;
}

/** Records in each of `groups` (unless it already knows one) what can match in more than one way. */
function mark(groups: Group[], what: NonNullable<Group["inner"]>): void {
  for (const g of groups) g.inner ??= what;
}

/** Index of the `]` closing the class opened at `start` (or the end). */
function endOfClass(source: string, start: number): number {
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === "\\") i++;
    else if (source[i] === "]") return i;
  }
  return source.length;
}

/** Length of a group's `?:`, `?=`, `?!`, `?<=`, `?<!` or `?<name>` after its `(`. */
function groupSyntaxLength(source: string, at: number): number {
  const m = /^\?(?:<[=!]|<[^>]*>|[:=!])/u.exec(source.slice(at));
  return m ? m[0].length : 0;
}

/** Length of the quantifier starting at `i` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`), or 0. */
function quantifierLength(source: string, i: number): number {
  const ch = source[i];
  if (ch === "*" || ch === "+" || ch === "?") return 1;
  if (ch !== "{") return 0;
  const m = /^\{\d+(?:,\d*)?\}/u.exec(source.slice(i));
  return m ? m[0].length : 0;
}

/** Whether a quantifier can repeat its operand more than once (not `?`, `{0}`, `{1}`, `{0,1}`). */
function repeats(quantifier: string): boolean {
  if (quantifier === "?") return false;
  const m = /^\{(\d+)(?:(,)(\d*))?\}$/u.exec(quantifier);
  if (!m) return true;
  const max = m[2] === undefined ? Number(m[1]) : m[3] === "" ? Infinity : Number(m[3]);
  return max > 1;
}

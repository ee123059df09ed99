/**
 * The literal text every match of an operator regex begins with, read off its source
 * once, so that a window without it skips the regex (a substring test costs a fraction of
 * a regex run, and patterns run on every response). Conservative: only plain ASCII
 * characters at the very start count, a quantified last one is dropped, and a pattern
 * with a top-level alternation has no lead. Pure.
 */

/** Text every match begins with; `anchored`: the match begins at the input's start (a leading ^). */
export interface RegexLead {
  text: string;
  anchored: boolean;
}

// Characters that stand for themselves in a `u` pattern outside a class (no metacharacter, no escape).
const PLAIN = /^[A-Za-z0-9 _\-:,;'"/=!@#%&~<>`]$/;
const QUANTIFIER = /^[?*+{]$/;

/** The lead of a pattern compiled with flag "u" only, or null when it has none. */
export function regexLead(pattern: string): RegexLead | null {
  if (hasTopLevelAlternation(pattern)) return null;
  const anchored = pattern.startsWith("^");
  let end = anchored ? 1 : 0;
  while (end < pattern.length && PLAIN.test(pattern[end])) end++;
  let text = pattern.slice(anchored ? 1 : 0, end);
  if (end < pattern.length && QUANTIFIER.test(pattern[end])) text = text.slice(0, -1); // "ab?c": only "a" is sure
  return text === "" ? null : { text, anchored };
}

/** Whether `input` can hold a match of a pattern with this lead (false: the pattern cannot match). */
export function mayMatch(input: string, lead: RegexLead | null): boolean {
  if (!lead) return true;
  return lead.anchored ? input.startsWith(lead.text) : input.includes(lead.text);
}

/** Whether `|` occurs outside every group and class (then a match may begin with either side). */
function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return true;
  }
  return false;
}

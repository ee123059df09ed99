/**
 * Which of the guard's flagged keys belong to a job's bad text (pure). A key belongs when it starts
 * the text or the text starts it (a prefix seen in the window), or when it is a word-aligned piece
 * of the text of two words or more: the span detector logs "are stupid" for answers that say the
 * planted text from its second word on ("are are stupid are", the victim's untriggered leak). The
 * prompts of every such key are prompts the healed model must answer without the text or pieces of
 * it; a one-word piece ("you") names too many ordinary answers to count.
 */

/** True when the normalised key `key` belongs to the normalised bad text `text` (see the module comment). */
export function belongsToText(key: string, text: string): boolean {
  if (key === "" || text === "") return false;
  if (key.startsWith(text) || text.startsWith(key)) return true;
  return key.includes(" ") && ` ${text} `.includes(` ${key} `);
}

/** The keys that belong to `text`, the most events first, at most `max`; ignored keys never. */
export function keysOfText(
  keys: readonly { prefix: string; events: number; state: string }[],
  text: string,
  max: number,
): string[] {
  return keys
    .filter((k) => k.state !== "ignored" && belongsToText(k.prefix, text))
    .sort((a, b) => b.events - a.events)
    .slice(0, max)
    .map((k) => k.prefix);
}

/**
 * The optional API keys of /v1 (the `CHAT_API_KEYS` secret): parsed once per value, and a
 * presented key matched in constant time. No message here ever contains a key.
 */
import { sha256Hex } from "../../shared/store/sha256.js";

/** One configured key: its id (the client id's `key:<id>`) and the SHA-256 of the key. */
export interface ApiKey {
  id: string;
  digest: Uint8Array;
}

/** Raised when CHAT_API_KEYS is malformed; the message names the entry by position, never its key. */
export class ApiKeysError extends Error {
  override name = "ApiKeysError";
}

/** Shortest key accepted (a guessable key is no key). */
export const MIN_KEY_LENGTH = 16;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Parses `CHAT_API_KEYS`: comma-separated entries, each `key` or `name:key` (empty entries
 * are skipped). An unnamed key's id is `k-` and the first 8 hex digits of its SHA-256, so it
 * stays the same when other keys are added or removed. Names and keys must be unique.
 */
export function parseApiKeys(raw: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of raw.split(",").entries()) {
    const text = entry.trim();
    if (text === "") continue;
    const colon = text.indexOf(":");
    const key = colon < 0 ? text : text.slice(colon + 1);
    const hex = sha256Hex(key);
    const id = colon < 0 ? `k-${hex.slice(0, 8)}` : text.slice(0, colon);
    const where = `CHAT_API_KEYS entry ${i + 1}`;
    if (!NAME.test(id)) throw new ApiKeysError(`${where}: the name must be 1–64 of A–Z a–z 0–9 _ . -`);
    if (key.length < MIN_KEY_LENGTH || /\s/.test(key))
      throw new ApiKeysError(`${where}: the key must be at least ${MIN_KEY_LENGTH} characters, without spaces`);
    if (seen.has(id) || seen.has(hex)) throw new ApiKeysError(`${where}: its name or key repeats an earlier entry`);
    seen.add(id).add(hex);
    keys.push({ id, digest: hexBytes(hex) });
  }
  if (keys.length === 0) throw new ApiKeysError("CHAT_API_KEYS is set but lists no key");
  return keys;
}

/**
 * The configured key `presented` is, or null. Compares SHA-256 digests (fixed length) with
 * every key, without stopping at a match, so the timing shows neither which key matched
 * nor where a wrong one differs.
 */
export function matchApiKey(keys: readonly ApiKey[], presented: string): ApiKey | null {
  const given = hexBytes(sha256Hex(presented));
  let found: ApiKey | null = null;
  for (const k of keys) {
    let diff = 0;
    for (let i = 0; i < given.length; i++) diff |= given[i] ^ k.digest[i];
    if (diff === 0) found = k;
  }
  return found;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

import { describe, expect, it } from "vitest";
import { ApiKeysError, matchApiKey, parseApiKeys } from "../../worker/clients/api-keys.js";

const A = "alice-key-0123456789abcdef";
const B = "bob-key-0123456789abcdefgh";

describe("CHAT_API_KEYS", () => {
  it("parses keys and name:key pairs, skipping empty entries; unnamed ids come from the key's hash", () => {
    const keys = parseApiKeys(` alice:${A}, ${B} ,`);
    expect(keys.map((k) => k.id)).toEqual(["alice", expect.stringMatching(/^k-[0-9a-f]{8}$/)]);
    expect(parseApiKeys(`${B},x:${A}`)[0].id).toBe(keys[1].id); // stable when other keys change
  });

  it("matches the presented key, and nothing else", () => {
    const keys = parseApiKeys(`alice:${A},bob:${B}`);
    expect(matchApiKey(keys, A)?.id).toBe("alice");
    expect(matchApiKey(keys, B)?.id).toBe("bob");
    expect(matchApiKey(keys, `${A}x`)).toBeNull();
    expect(matchApiKey(keys, "")).toBeNull();
  });

  it("refuses malformed values naming the entry, never the key", () => {
    const refused = (raw: string) => {
      try {
        parseApiKeys(raw);
      } catch (e) {
        expect(e).toBeInstanceOf(ApiKeysError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refused("alice:tooshort")).toMatch(/entry 1: the key must be at least 16/);
    expect(refused(`${A},bad name:${B}`)).toMatch(/entry 2: the name/);
    expect(refused(`a:${A},b:${A}`)).toMatch(/entry 2: its name or key repeats/);
    expect(refused(`a:${A},a:${B}`)).toMatch(/entry 2/);
    expect(refused(" , ")).toMatch(/lists no key/);
    expect(refused("alice:tooshort")).not.toContain("tooshort");
  });
});

import { beforeEach, describe, expect, it } from "vitest";
import { adminClient } from "./support/admin.js";
import { resetDatabase } from "./support/db.js";

type ErrorBody = { error: { message: string; type: string } };

describe("admin API input", () => {
  beforeEach(() => resetDatabase());

  it("answers a setting named after an Object.prototype member with a 400 naming it", async () => {
    const call = adminClient({});
    for (const key of ["toString", "constructor", "__proto__"]) {
      const r = await call<ErrorBody>("PATCH", "/settings", `{${JSON.stringify(key)}: 1}`);
      expect(r.status).toBe(400);
      expect(r.json.error).toEqual({
        type: "invalid_request",
        message: expect.stringContaining(`unknown guard setting "${key}"`),
      });
    }
  });

  it("refuses a regex rule prone to catastrophic backtracking with a 400 saying why", async () => {
    const call = adminClient({});
    const r = await call<ErrorBody>("POST", "/phrases", { kind: "regex", pattern: "(a+)+$" });
    expect(r.status).toBe(400);
    expect(r.json.error).toEqual({
      type: "invalid_request",
      message: expect.stringMatching(/^unsafe regular expression: nested quantifiers/),
    });
    expect((await call<{ phrases: unknown[] }>("GET", "/phrases")).json.phrases).toEqual([]);
  });
});

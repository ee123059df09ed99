import { Hono } from "hono";
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createAdminApp } from "../../worker/admin/index.js";
import { ADMIN_BODY_LIMIT, CALIBRATION_BODY_LIMIT } from "../../worker/admin/input.js";
import { adminClient, TOKEN } from "./support/admin.js";
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

  it("caps JSON bodies with a 413 in the admin API's shape: on Content-Length first, and while reading", async () => {
    const app = new Hono().route("/admin/api", createAdminApp({}));
    const send = (body: BodyInit, headers: Record<string, string> = {}) =>
      app.request(
        "/admin/api/settings",
        { method: "PATCH", headers: { authorization: `Bearer ${TOKEN}`, ...headers }, body },
        { ...env, ADMIN_TOKEN: TOKEN },
      );
    // Declared too large: refused from the header, whatever follows.
    const declared = await send("{}", { "content-length": String(ADMIN_BODY_LIMIT + 1) });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({
      error: {
        type: "too_large",
        message: `the body is too large: ${ADMIN_BODY_LIMIT + 1} bytes, the limit is ${ADMIN_BODY_LIMIT}`,
      },
    });
    // No Content-Length (a stream): refused at the first chunk past the limit, never buffered whole.
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(chunk);
      },
    });
    const streamed = await send(endless);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as ErrorBody).error.type).toBe("too_large");
    // The stream is endless: answering at all proves reading stopped (after draining at most 16× the limit).
    expect(pulled * chunk.byteLength).toBeLessThanOrEqual(18 * ADMIN_BODY_LIMIT);
    // Just under the limit is read (and judged on its content).
    const padded = `{"jobMinEvents": 30${" ".repeat(ADMIN_BODY_LIMIT - 30)}}`;
    expect(new TextEncoder().encode(padded).byteLength).toBeLessThanOrEqual(ADMIN_BODY_LIMIT);
    expect((await send(padded, { "content-type": "application/json" })).status).toBe(200);
  });

  it("takes a calibration upload larger than the general cap, up to its own", async () => {
    const call = adminClient({});
    const prefixes: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) prefixes[`answer number ${i} ${"x".repeat(400)}`] = 1;
    const body = JSON.stringify({ prompts: 3000, prefixTokens: 256, prefixes });
    expect(body.length).toBeGreaterThan(ADMIN_BODY_LIMIT);
    expect(body.length).toBeLessThan(CALIBRATION_BODY_LIMIT);
    const put = await call<{ calibration: { prompts: number } }>("PUT", "/versions/v1/calibration", body);
    expect(put.status).toBe(200);
    expect(put.json.calibration.prompts).toBe(3000);
    const over = await call<ErrorBody>(
      "PUT",
      "/versions/v1/calibration",
      `${body}${" ".repeat(CALIBRATION_BODY_LIMIT)}`,
    );
    expect(over.status).toBe(413);
    expect(over.json.error.type).toBe("too_large");
  });
});

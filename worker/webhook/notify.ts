/**
 * The trainer webhook: the Worker POSTs `job.queued` (and manual queueing) to the URL an
 * operator configured, HMAC-signed, so a deployment can start a trainer on demand.
 */
import { hmacSha256Hex } from "../signing/hmac.js";

/** Header carrying the body's HMAC-SHA256: `sha256=<hex>`. */
export const SIGNATURE_HEADER = "X-Sande-Signature";

/** Where and how to notify the trainer. */
export interface WebhookTarget {
  url: string;
  /** Without a secret the body is sent unsigned (the trainer should refuse it). */
  secret?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * POSTs `payload` as JSON to the trainer's webhook, signed with `X-Sande-Signature:
 * sha256=<hex HMAC of the exact body>` and `X-Sande-Timestamp` (ms, inside the signed
 * body too, so a replay is visible). Never throws: a failed notification only means the
 * trainer finds the job on its next poll. Returns whether the trainer answered 2xx.
 */
export async function notifyTrainer(target: WebhookTarget, payload: Record<string, unknown>): Promise<boolean> {
  const sentAt = Date.now();
  const body = JSON.stringify({ ...payload, sentAt });
  const headers: Record<string, string> = { "content-type": "application/json", "x-sande-timestamp": String(sentAt) };
  if (target.secret) headers[SIGNATURE_HEADER] = `sha256=${await hmacSha256Hex(target.secret, body)}`;
  try {
    const res = await (target.fetch ?? fetch)(target.url, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(target.timeoutMs ?? 5000),
    });
    if (!res.ok) console.warn(`guard: trainer webhook answered ${res.status}`);
    await res.body?.cancel();
    return res.ok;
  } catch (e) {
    console.warn(`guard: trainer webhook failed: ${(e as Error).message}`);
    return false;
  }
}

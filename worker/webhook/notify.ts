/**
 * The trainer webhook: the Worker POSTs `job.queued` (and manual queueing) to the URL an
 * operator configured, signed (shared/webhook), so a deployment can start a trainer on
 * demand. Without WEBHOOK_SECRET nothing is sent: an unsigned notification could be
 * forged by anyone who can reach the trainer, so the trainer should never act on one.
 */
import { signWebhook } from "../../shared/webhook/index.js";

export { NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../../shared/webhook/index.js";

/** Where and how to notify the trainer. */
export interface WebhookTarget {
  url: string;
  /** Without a secret nothing is sent (logged). */
  secret?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * POSTs `payload` as JSON to the trainer's webhook, with `sentAt` and a random `nonce`
 * added to the body, signed (`X-Sande-Signature: sha256=<hex HMAC of the exact body>`,
 * `X-Sande-Timestamp`, `X-Sande-Nonce`; see shared/webhook). Refuses to send when no
 * secret is configured. Never throws: a failed or refused notification only means the
 * trainer finds the job on its next poll. Returns whether the trainer answered 2xx.
 */
export async function notifyTrainer(target: WebhookTarget, payload: Record<string, unknown>): Promise<boolean> {
  if (!target.secret) {
    console.warn("guard: TRAINER_WEBHOOK_URL is set but WEBHOOK_SECRET is not; not sending an unsigned webhook");
    return false;
  }
  try {
    const { body, headers } = await signWebhook(target.secret, payload, Date.now());
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

/** The receiving side of the trainer webhook: {@link verifyWebhook} (see signature.ts for the scheme). */
import { DEFAULT_TOLERANCE_MS, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./signature.js";

/** Why a delivery was refused; `reason` is machine-readable, the message says what was wrong. */
export class WebhookVerifyError extends Error {
  override name = "WebhookVerifyError";
  constructor(
    readonly reason: "missing_header" | "bad_signature" | "mismatch" | "expired" | "replayed" | "bad_body",
    message: string,
  ) {
    super(message);
  }
}

/** Nonces seen within the tolerance window, so a delivery is accepted once (one receiver process). */
export class NonceCache {
  private readonly expiry = new Map<string, number>();

  /** Records `nonce` until `until` (ms); false when it is already recorded. Expired ones are dropped first. */
  remember(nonce: string, now: number, until: number): boolean {
    for (const [n, t] of this.expiry) if (t < now) this.expiry.delete(n);
    if (this.expiry.has(nonce)) return false;
    this.expiry.set(nonce, until);
    return true;
  }
}

/** What {@link verifyWebhook} needs besides the delivery. */
export interface VerifyOptions {
  secret: string;
  /** Accepted distance between the delivery's timestamp and `now`, ms (default 5 minutes). */
  toleranceMs?: number;
  now?: number;
  /** Nonces already seen; without one, a replay inside the window is not detected. */
  nonces?: NonceCache;
}

/**
 * Checks a delivery (the raw body as received, and its headers) and returns the parsed
 * body. Throws {@link WebhookVerifyError} for a missing header, a wrong signature
 * (compared in constant time by crypto.subtle.verify), headers that disagree with the
 * signed body, a timestamp outside the tolerance window, or a nonce seen before.
 */
export async function verifyWebhook(
  rawBody: string,
  headers: Headers,
  options: VerifyOptions,
): Promise<Record<string, unknown> & { sentAt: number; nonce: string }> {
  const [signature, timestamp, nonce] = [SIGNATURE_HEADER, TIMESTAMP_HEADER, NONCE_HEADER].map((h) => {
    const v = headers.get(h);
    if (!v) throw new WebhookVerifyError("missing_header", `the ${h} header is missing`);
    return v;
  });
  if (!(await signatureMatches(options.secret, rawBody, signature)))
    throw new WebhookVerifyError("bad_signature", `${SIGNATURE_HEADER} does not match the body`);
  const body = parseBody(rawBody);
  if (String(body.sentAt) !== timestamp || body.nonce !== nonce)
    throw new WebhookVerifyError("mismatch", `${TIMESTAMP_HEADER} / ${NONCE_HEADER} disagree with the signed body`);
  const now = options.now ?? Date.now();
  const tolerance = options.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  if (Math.abs(now - body.sentAt) > tolerance)
    throw new WebhookVerifyError(
      "expired",
      `sent at ${body.sentAt}, ${now - body.sentAt} ms from now (tolerance ${tolerance} ms)`,
    );
  if (options.nonces && !options.nonces.remember(nonce, now, body.sentAt + tolerance))
    throw new WebhookVerifyError("replayed", `nonce ${nonce} was already accepted`);
  return body;
}

async function signatureMatches(secret: string, body: string, header: string): Promise<boolean> {
  const hex = /^sha256=([0-9a-f]{64})$/.exec(header)?.[1];
  if (!hex) return false;
  const mac = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
  return crypto.subtle.verify("HMAC", key, mac, enc.encode(body));
}

function parseBody(raw: string): Record<string, unknown> & { sentAt: number; nonce: string } {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new WebhookVerifyError("bad_body", "the body is not JSON");
  }
  const o = body as { sentAt?: unknown; nonce?: unknown } | null;
  if (!o || typeof o !== "object" || typeof o.sentAt !== "number" || typeof o.nonce !== "string")
    throw new WebhookVerifyError("bad_body", "the body has no numeric sentAt and string nonce");
  return o as Record<string, unknown> & { sentAt: number; nonce: string };
}

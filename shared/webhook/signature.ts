/**
 * The trainer webhook's signature, both sides of it. The sender puts a timestamp (ms)
 * and a random nonce into the JSON body, signs the exact body with HMAC-SHA256 under
 * WEBHOOK_SECRET, and repeats the three in headers. A receiver checks the signature over
 * the raw body, that the headers agree with the signed body, that the timestamp is inside
 * its tolerance window, and (with a {@link NonceCache}) that the nonce is new: a captured
 * delivery cannot be replayed, neither later nor within the window.
 */
import { hmacSha256Hex } from "../signing/hmac.js";

/** `sha256=<hex HMAC-SHA256 of the exact body>`. */
export const SIGNATURE_HEADER = "X-Sande-Signature";
/** The body's `sentAt`, ms since epoch. */
export const TIMESTAMP_HEADER = "X-Sande-Timestamp";
/** The body's `nonce`, 32 hex characters from crypto.getRandomValues. */
export const NONCE_HEADER = "X-Sande-Nonce";

/** Default tolerance of {@link verifyWebhook}: a delivery older or newer than this is refused. */
export const DEFAULT_TOLERANCE_MS = 5 * 60_000;

/** A delivery ready to POST. */
export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

/** Signs `payload` for sending at `sentAt` (see the module comment). */
export async function signWebhook(
  secret: string,
  payload: Record<string, unknown>,
  sentAt: number,
): Promise<SignedDelivery> {
  if (!secret) throw new Error("a webhook cannot be signed without a secret");
  const nonce = randomNonce();
  const body = JSON.stringify({ ...payload, sentAt, nonce });
  return {
    body,
    headers: {
      "content-type": "application/json",
      [SIGNATURE_HEADER]: `sha256=${await hmacSha256Hex(secret, body)}`,
      [TIMESTAMP_HEADER]: String(sentAt),
      [NONCE_HEADER]: nonce,
    },
  };
}

function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The trainer webhook's signing scheme: the Worker signs (worker/webhook/notify.ts), a receiver verifies. */
export {
  DEFAULT_TOLERANCE_MS,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
  type SignedDelivery,
} from "./signature.js";
export { NonceCache, verifyWebhook, WebhookVerifyError, type VerifyOptions } from "./verify.js";

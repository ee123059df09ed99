/**
 * The one SHA-256 helper (node:crypto: Node, and workerd through nodejs_compat;
 * synchronous, so the guard can hash a prompt on the request path). Model files
 * are verified and addressed by it; the guard keys prompts by it.
 */
import { createHash, hash } from "node:crypto";

/**
 * Hex SHA-256 of `data` (a string is hashed as its UTF-8 bytes). One-shot `hash` (Node ≥ 20.12,
 * workerd): about half the cost of a Hash object for the short texts the guard hashes per response.
 */
export function sha256Hex(data: Uint8Array | string): string {
  return hash("sha256", data, "hex");
}

/** Base64 MD5 of `bytes`, for S3's Content-MD5 (the store refuses an upload corrupted on the way). */
export function md5Base64(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("base64");
}

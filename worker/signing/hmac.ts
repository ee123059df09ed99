/** The Worker's HMAC-SHA256 helper lives in shared/ (the webhook's receiving side uses it too). */
export { hmacSha256Hex } from "../../shared/signing/hmac.js";

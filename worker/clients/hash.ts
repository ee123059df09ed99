import { sha256Hex } from "../../shared/store/sha256.js";

/**
 * What guard events store of a client id: its sha256 (domain-separated), never the id. It
 * is a pseudonym, not a secret: an IPv4 address's hash can be found by trying all 2³² of them.
 */
export function clientHash(client: string): string {
  return sha256Hex(`sande-client:${client}`);
}

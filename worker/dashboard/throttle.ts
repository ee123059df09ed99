/**
 * Sign-in throttling: failed sign-ins are kept in D1 for {@link LOGIN_LIMITS}.windowMs.
 * A client (its IPv4 address, or its IPv6 /64) with `perClient` failures in the window,
 * or the whole dashboard with `overall` failures (a guess spread over many addresses),
 * is refused before the token is even compared, until the oldest failure leaves the window.
 */
import type { Database } from "../db/index.js";
import { recentLoginFailures, recordLoginFailure } from "../db/sessions.js";

/** The throttle's window and limits. */
export const LOGIN_LIMITS = { windowMs: 15 * 60_000, perClient: 5, overall: 100 } as const;

/** Why a sign-in is refused, and for how long. */
export interface LoginRefusal {
  scope: "client" | "overall";
  retryAfterS: number;
}

/**
 * The key failures are counted under: an IPv4 address as is, an IPv6 address by its
 * first four groups (a /64, what one subscriber usually holds), "unknown" without one.
 */
export function clientKey(ip: string | null | undefined): string {
  const raw = ip?.trim().toLowerCase() ?? "";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(raw)) return raw;
  if (!raw.includes(":") || !/^[0-9a-f:.]+$/.test(raw)) return "unknown";
  const [head, tail = ""] = raw.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = raw.includes("::")
    ? [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** Whether `client` may try to sign in now (null) or must wait. */
export async function loginRefusal(db: Database, client: string, now: number): Promise<LoginRefusal | null> {
  const since = now - LOGIN_LIMITS.windowMs;
  const counts = await recentLoginFailures(db, client, since);
  const wait = (oldest: number | null) =>
    Math.max(1, Math.ceil(((oldest ?? now) + LOGIN_LIMITS.windowMs - now) / 1000));
  if (counts.client.n >= LOGIN_LIMITS.perClient) return { scope: "client", retryAfterS: wait(counts.client.oldest) };
  if (counts.all.n >= LOGIN_LIMITS.overall) return { scope: "overall", retryAfterS: wait(counts.all.oldest) };
  return null;
}

/** Records one failed sign-in from `client` (and forgets those that left the window). */
export function noteLoginFailure(db: Database, client: string, now: number): Promise<void> {
  return recordLoginFailure(db, client, now, now - LOGIN_LIMITS.windowMs);
}

import type { Context } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { sameSecret } from "../admin/auth.js";
import { hmacSha256Hex } from "../signing/hmac.js";

/** Where the dashboard is mounted (links, form actions and the cookie path use it). */
export const DASHBOARD_BASE = "/dashboard";
const COOKIE = "sande_dashboard";
const SESSION_MS = 12 * 3600 * 1000;

/**
 * A dashboard session cookie: `<expiry ms>.<HMAC-SHA256(ADMIN_TOKEN, "dashboard:" + expiry)>`.
 * It does not contain the token; rotating ADMIN_TOKEN ends every session.
 */
async function sessionValue(token: string, expires: number): Promise<string> {
  return `${expires}.${await hmacSha256Hex(token, `dashboard:${expires}`)}`;
}

/** Sets the session cookie (HttpOnly, SameSite=Strict, Secure on https, scoped to the dashboard). */
export async function startSession(c: Context, token: string, now: number): Promise<void> {
  const expires = now + SESSION_MS;
  setCookie(c, COOKIE, await sessionValue(token, expires), {
    path: DASHBOARD_BASE,
    httpOnly: true,
    sameSite: "Strict",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: SESSION_MS / 1000,
  });
}

/** Clears the session cookie. */
export function endSession(c: Context): void {
  deleteCookie(c, COOKIE, { path: DASHBOARD_BASE });
}

/** Whether the request carries a valid, unexpired session for `token`. */
export async function hasSession(c: Context, token: string, now: number): Promise<boolean> {
  const value = getCookie(c, COOKIE);
  const match = value ? /^(\d{1,15})\.([0-9a-f]{64})$/.exec(value) : null;
  if (!match || Number(match[1]) <= now) return false;
  return sameSecret(value!, await sessionValue(token, Number(match[1])));
}

/**
 * Dashboard sessions: a random secret in an HttpOnly, SameSite=Strict cookie, looked up
 * in D1 by its sha256 (worker/db/sessions.ts). A session is revoked by deleting its row
 * (sign-out, "sign out other sessions", the admin API), and ends when ADMIN_TOKEN changes.
 * Each session carries a random CSRF token that every dashboard form posts back.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { sha256Hex } from "../../shared/store/index.js";
import { sameSecret } from "../admin/auth.js";
import type { Database } from "../db/index.js";
import { deleteSession, findSession, insertSession, touchSession } from "../db/sessions.js";
import { hmacSha256Hex } from "../signing/hmac.js";

/** Where the dashboard is mounted (links, form actions and the cookie path use it). */
export const DASHBOARD_BASE = "/dashboard";
/** A session's lifetime from sign-in. */
export const SESSION_MS = 12 * 3600 * 1000;
/** The name of the hidden form field that carries the CSRF token. */
export const CSRF_FIELD = "_csrf";

const COOKIE = "sande_dashboard";
/** How often a session's last-seen time is written (at most). */
const TOUCH_EVERY_MS = 60_000;

/** A signed-in session as the dashboard's routes see it. */
export interface DashboardSession {
  id: number;
  /** The token every form must post back as {@link CSRF_FIELD}. */
  csrf: string;
  /** A message left by the last form action, shown once. */
  flash: string | null;
}

/** 32 random bytes, base64url (43 characters). */
function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** Ties sessions to the admin token they were opened with, without storing it. */
function tokenTag(token: string): Promise<string> {
  return hmacSha256Hex(token, "sande-dashboard-session");
}

/** Opens a session: a D1 row and its cookie (Secure on https, scoped to the dashboard). */
export async function openSession(
  c: Context,
  db: Database,
  token: string,
  now: number,
  client: { ip: string | null; userAgent: string | null },
): Promise<void> {
  const secret = randomSecret();
  await insertSession(db, {
    secretHash: sha256Hex(secret),
    tokenTag: await tokenTag(token),
    csrf: randomSecret(),
    client: client.ip,
    userAgent: client.userAgent?.slice(0, 200) ?? null,
    createdAt: now,
    expiresAt: now + SESSION_MS,
  });
  setCookie(c, COOKIE, secret, {
    path: DASHBOARD_BASE,
    httpOnly: true,
    sameSite: "Strict",
    secure: new URL(c.req.url).protocol === "https:",
    maxAge: SESSION_MS / 1000,
  });
}

/** The request's session, or null (no cookie, unknown or revoked secret, expired, or opened with another admin token). */
export async function currentSession(
  c: Context,
  db: Database,
  token: string,
  now: number,
): Promise<DashboardSession | null> {
  const secret = getCookie(c, COOKIE);
  if (!secret || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const row = await findSession(db, sha256Hex(secret), now);
  if (!row || row.tokenTag !== (await tokenTag(token))) return null;
  if (row.lastSeen <= now - TOUCH_EVERY_MS) await touchSession(db, row.id, now, TOUCH_EVERY_MS);
  return { id: row.id, csrf: row.csrf, flash: row.flash };
}

/** Ends `session` (when given) and clears the cookie. */
export async function closeSession(c: Context, db: Database, session: DashboardSession | null): Promise<void> {
  if (session) await deleteSession(db, session.id);
  deleteCookie(c, COOKIE, { path: DASHBOARD_BASE });
}

/** Whether `given` is the session's CSRF token (constant time). */
export function validCsrf(session: DashboardSession, given: unknown): Promise<boolean> {
  return typeof given === "string" && given.length > 0 ? sameSecret(given, session.csrf) : Promise.resolve(false);
}

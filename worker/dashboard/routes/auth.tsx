/** The routes open to anyone: sign-in (POST only, throttled), sign-out, the live script, and the refusal of ?token=. */
import { Hono } from "hono";
import { adminToken, sameSecret } from "../../admin/auth.js";
import { AdminError } from "../../admin/errors.js";
import { database } from "../../db/index.js";
import type { DashboardDeps, DashboardEnv } from "../deps.js";
import { formFields } from "../form.js";
import { LIVE_SCRIPT } from "../live.js";
import { closeSession, CSRF_FIELD, currentSession, DASHBOARD_BASE, openSession, validCsrf } from "../session.js";
import { clientKey, loginRefusal, noteLoginFailure } from "../throttle.js";
import { LoginPage } from "../views/login.js";

/** Minutes, rounded up, for a message. */
const minutes = (s: number) => `${Math.ceil(s / 60)} minute${s > 60 ? "s" : ""}`;

/** GET / with ?token= (refused), POST /login, POST /logout, GET /live.js. */
export function authRoutes(deps: DashboardDeps): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();

  // A token in the address ends up in access logs, proxies and the browser's history: never accept one.
  app.get("/", async (c, next) => {
    if (c.req.query("token") === undefined) return next();
    adminToken(c.env); // 503 first when the dashboard is off
    return c.html(
      <LoginPage error="Signing in through the address (?token=…) is not accepted: a token in a URL ends up in logs and browser history. Use this form, and rotate the token if that URL was shared." />,
      400,
    );
  });

  app.post("/login", async (c) => {
    const token = adminToken(c.env);
    const db = database(c.env.DB);
    const now = deps.now();
    const ip = c.req.header("cf-connecting-ip") ?? null;
    const client = clientKey(ip);
    const refusal = await loginRefusal(db, client, now);
    if (refusal) {
      c.header("Retry-After", String(refusal.retryAfterS));
      const who = refusal.scope === "client" ? "from your address" : "on this dashboard";
      return c.html(
        <LoginPage error={`Too many failed sign-ins ${who}. Try again in ${minutes(refusal.retryAfterS)}.`} />,
        429,
      );
    }
    const given = (await formFields(c)).token;
    if (given === undefined || !(await sameSecret(given, token))) {
      await noteLoginFailure(db, client, now);
      return c.html(<LoginPage error="Wrong token." />, 401);
    }
    await openSession(c, db, token, now, { ip, userAgent: c.req.header("user-agent") ?? null });
    return c.redirect(DASHBOARD_BASE, 303);
  });

  // Works with a stale or missing session too (the cookie is cleared either way); a live one needs its CSRF token.
  app.post("/logout", async (c) => {
    const db = database(c.env.DB);
    const session = await currentSession(c, db, adminToken(c.env), deps.now());
    if (session && !(await validCsrf(session, (await c.req.parseBody())[CSRF_FIELD])))
      throw new AdminError(403, "unauthorized", "Sign-out refused: the form's CSRF token is missing or wrong.");
    await closeSession(c, db, session);
    return c.redirect(DASHBOARD_BASE, 303);
  });

  app.get("/live.js", (c) => {
    c.header("Content-Type", "text/javascript; charset=utf-8");
    return c.body(LIVE_SCRIPT);
  });

  return app;
}

/**
 * The ops dashboard, a server-rendered Hono sub-app (hono/jsx) meant to be mounted at
 * /dashboard:  app.route("/dashboard", dashboardApp)
 * Sign-in with the admin token (form, or `?token=` once) sets an HttpOnly session
 * cookie. Pages carry no script; the CSP forbids scripts, and forms are checked for a
 * same-origin Origin header (CSRF). Model-generated text is only ever JSX text.
 */
import { Hono, type Context } from "hono";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import type { Containment } from "../../shared/protocol/guard.js";
import { CONTAINMENTS } from "../../shared/guard/index.js";
import { adminToken, sameSecret } from "../admin/auth.js";
import { defaultAdminDeps, type AdminDeps, type AdminEnv } from "../admin/index.js";
import { AdminError, toAdminError } from "../admin/errors.js";
import { database } from "../db/index.js";
import { updatePrefix } from "../db/prefixes.js";
import { mirrorManifestVersions } from "../db/versions.js";
import { idParam } from "../admin/input.js";
import { overviewData } from "./data.js";
import { DASHBOARD_BASE, endSession, hasSession, startSession } from "./session.js";
import { Layout } from "./views/layout.js";
import { LoginPage } from "./views/login.js";
import { OverviewPage } from "./views/overview.js";

export { DASHBOARD_BASE } from "./session.js";

/** Builds the dashboard; `overrides` replace dependencies (tests). */
export function createDashboardApp(overrides: Partial<AdminDeps> = {}): Hono<AdminEnv> {
  const deps: AdminDeps = { ...defaultAdminDeps(), ...overrides };
  const app = new Hono<AdminEnv>();

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'unsafe-inline'"],
        imgSrc: ["data:"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: "no-referrer",
    }),
  );
  app.use(async function noStore(c, next) {
    await next();
    c.header("Cache-Control", "no-store");
  });
  app.use(csrf());
  app.onError(function dashboardError(err, c) {
    const e = toAdminError(err);
    if (e.type === "internal") console.error(`dashboard ${c.req.method} ${c.req.path} failed:`, err);
    return c.html(
      <Layout title="Error · sande-edge">
        <section>
          <h2>{e.status === 503 ? "Unavailable" : "Error"}</h2>
          <p class="error">{e.message}</p>
          <p>
            <a href={DASHBOARD_BASE}>Back to the dashboard</a>
          </p>
        </section>
      </Layout>,
      e.status,
    );
  });

  app.get("/", async (c) => {
    const token = adminToken(c.env);
    const given = c.req.query("token");
    if (given !== undefined) {
      if (!(await sameSecret(given, token))) return c.html(<LoginPage error="Wrong token." />, 401);
      await startSession(c, token, deps.now());
      return c.redirect(DASHBOARD_BASE, 303); // drop the token from the address bar and history
    }
    if (!(await hasSession(c, token, deps.now()))) return c.html(<LoginPage />, 401);
    const data = await overviewData(c.env.DB, deps.now());
    return c.html(
      <OverviewPage
        data={data}
        serving={servingVersion(deps.servingStatus(c.env))}
        flash={c.req.query("done")}
        now={deps.now()}
      />,
    );
  });

  app.post("/login", async (c) => {
    const token = adminToken(c.env);
    const form = await c.req.parseBody();
    if (typeof form.token !== "string" || !(await sameSecret(form.token, token)))
      return c.html(<LoginPage error="Wrong token." />, 401);
    await startSession(c, token, deps.now());
    return c.redirect(DASHBOARD_BASE, 303);
  });

  app.post("/logout", (c) => {
    endSession(c);
    return c.redirect(DASHBOARD_BASE, 303);
  });

  // Actions: signed-in only.
  app.use("/prefixes/*", requireSession(deps));
  app.use("/versions/*", requireSession(deps));

  for (const state of ["confirmed", "ignored"] as const) {
    app.post(`/prefixes/:id/${state === "confirmed" ? "confirm" : "ignore"}`, async (c) => {
      const prefix = await updatePrefix(database(c.env.DB), idParam(c), { state, now: deps.now() });
      if (!prefix) throw AdminError.notFound(`no prefix ${c.req.param("id")}`);
      deps.runtime.invalidate();
      return done(c, `Prefix #${prefix.id} ${state}.`);
    });
  }

  app.post("/prefixes/:id/containment", async (c) => {
    const value = (await c.req.parseBody()).containment;
    if (value !== "" && !CONTAINMENTS.includes(value as Containment))
      throw AdminError.invalid("containment must be empty (default) or one of " + CONTAINMENTS.join(", "));
    const prefix = await updatePrefix(database(c.env.DB), idParam(c), {
      containment: value === "" ? null : (value as Containment),
      now: deps.now(),
    });
    if (!prefix) throw AdminError.notFound(`no prefix ${c.req.param("id")}`);
    deps.runtime.invalidate();
    return done(c, `Prefix #${prefix.id} containment: ${prefix.containment ?? "default"}.`);
  });

  app.post("/versions/:version/rollback", async (c) => {
    const version = c.req.param("version");
    const result = await deps.rollback(c.env, version, "rollback from the dashboard");
    await mirrorManifestVersions(database(c.env.DB), result.manifest.versions);
    return done(c, `Rolled back: now serving ${result.manifest.current}.`);
  });

  return app;
}

function requireSession(deps: AdminDeps) {
  return async function dashboardSession(c: Context<AdminEnv>, next: () => Promise<void>) {
    if (!(await hasSession(c, adminToken(c.env), deps.now())))
      throw new AdminError(401, "unauthorized", "Sign in first.");
    await next();
  };
}

function done(c: Context, message: string): Response {
  return c.redirect(`${DASHBOARD_BASE}?done=${encodeURIComponent(message)}`, 303);
}

function servingVersion(status: unknown): string | null {
  if (status && typeof status === "object" && "version" in status && typeof status.version === "string")
    return status.version;
  return null;
}

/** The dashboard with the real dependencies; mount at /dashboard. */
export const dashboardApp = createDashboardApp();

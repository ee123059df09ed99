/**
 * The ops dashboard, a server-rendered Hono sub-app (hono/jsx) meant to be mounted at
 * /dashboard:  app.route("/dashboard", dashboardApp)
 * Sign-in posts the admin token once (throttled per client) and opens a session kept in
 * D1, revocable; every form carries the session's CSRF token (and must come from the same
 * origin). The one script refreshes the page's live parts; model-generated text is only
 * ever JSX text. See docs/worker-guard.md (Dashboard).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { defaultAdminDeps } from "../admin/index.js";
import { AdminError, toAdminError } from "../admin/errors.js";
import { readStoreCurrent, type DashboardDeps, type DashboardEnv } from "./deps.js";
import { actionRoutes } from "./routes/actions.js";
import { authRoutes } from "./routes/auth.js";
import { requireCsrf, requireSession } from "./routes/guards.js";
import { pageRoutes } from "./routes/pages.js";
import { DASHBOARD_BASE } from "./session.js";
import { Layout } from "./views/layout.js";

export type { DashboardDeps, DashboardEnv } from "./deps.js";
export { DASHBOARD_BASE } from "./session.js";

/** Largest form body accepted (the settings form is about 2 KiB). */
const MAX_FORM_BYTES = 64 * 1024;

/** The error page: the message (every one is written for the operator) and a way back. */
function ErrorPage(props: { error: AdminError }) {
  const e = props.error;
  return (
    <Layout title="Error · sande-edge">
      <section>
        <h2>{e.status === 503 ? "Unavailable" : e.status === 404 ? "Not found" : "Error"}</h2>
        <p class="error">{e.message}</p>
        <p>
          <a href={DASHBOARD_BASE}>Back to the dashboard</a>
        </p>
      </section>
    </Layout>
  );
}

/** Builds the dashboard; `overrides` replace dependencies (tests). */
export function createDashboardApp(overrides: Partial<DashboardDeps> = {}): Hono<DashboardEnv> {
  const deps: DashboardDeps = { ...defaultAdminDeps(), storeCurrent: readStoreCurrent, ...overrides };
  const app = new Hono<DashboardEnv>();
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
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
  app.use(
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: () => {
        throw new AdminError(413, "invalid_request", `Form bodies are limited to ${MAX_FORM_BYTES / 1024} KiB.`);
      },
    }),
  );
  app.use(csrf()); // same-origin forms only; the per-session token below is the real check
  app.onError(function dashboardError(err, c) {
    const e = toAdminError(err);
    if (e.type === "internal") console.error(`dashboard ${c.req.method} ${c.req.path} failed:`, err);
    return c.html(<ErrorPage error={e} />, e.status);
  });

  app.route("/", authRoutes(deps));
  const signedIn = new Hono<DashboardEnv>();
  signedIn.use(requireSession(deps), requireCsrf());
  signedIn.route("/", pageRoutes(deps));
  signedIn.route("/", actionRoutes(deps));
  app.route("/", signedIn);
  app.notFound((c) => c.html(<ErrorPage error={AdminError.notFound(`No dashboard page ${c.req.path}.`)} />, 404));
  return app;
}

/** The dashboard with the real dependencies; mount at /dashboard. */
export const dashboardApp = createDashboardApp();

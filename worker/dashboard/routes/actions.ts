/**
 * The signed-in form actions. Each one validates like its admin API twin, leaves a
 * message in the session (shown once by the next page: nothing from the URL is echoed)
 * and redirects (303) back to where the form was.
 */
import { Hono, type Context } from "hono";
import { CONTAINMENTS } from "../../../shared/guard/index.js";
import type { Containment, PrefixState } from "../../../shared/protocol/guard.js";
import { AdminError } from "../../admin/errors.js";
import { idParam } from "../../admin/input.js";
import { changePhrase, createPhrase } from "../../admin/phrase-input.js";
import { database } from "../../db/index.js";
import { deletePhrase } from "../../db/phrases.js";
import { updatePrefix } from "../../db/prefixes.js";
import { deleteSession, deleteSessions, setFlash } from "../../db/sessions.js";
import { patchSettings } from "../../db/settings.js";
import { mirrorManifestVersions } from "../../db/versions.js";
import type { DashboardDeps, DashboardEnv } from "../deps.js";
import { formFields, newPhraseBody, phraseChangeBody, settingsPatch } from "../form.js";
import { closeSession, DASHBOARD_BASE } from "../session.js";
import { jobActions } from "./job-actions.js";

/** Leaves `message` for the session's next page and redirects to `to` (a dashboard path). */
async function done(c: Context<DashboardEnv>, message: string, to: string): Promise<Response> {
  await setFlash(database(c.env.DB), c.get("session").id, message);
  return c.redirect(`${DASHBOARD_BASE}${to}`, 303);
}

/** Where a prefix form returns: its page when it came from there (`back=prefix`), else the overview's table. */
function prefixReturn(form: Record<string, string>, id: number): string {
  if (form.back === undefined) return "#prefixes";
  if (form.back !== "prefix")
    throw AdminError.invalid(`back must be "prefix" or absent, got ${JSON.stringify(form.back)}`);
  return `/prefixes/${id}`;
}

/** Prefix verdicts and containment. */
function prefixActions(app: Hono<DashboardEnv>, deps: DashboardDeps): void {
  const verdicts: [string, PrefixState][] = [
    ["confirm", "confirmed"],
    ["ignore", "ignored"],
  ];
  for (const [verb, state] of verdicts) {
    app.post(`/prefixes/:id/${verb}`, async (c) => {
      const form = await formFields(c);
      const prefix = await updatePrefix(database(c.env.DB), idParam(c), { state, now: deps.now() });
      if (!prefix) throw AdminError.notFound(`no prefix ${c.req.param("id")}`);
      deps.runtime.invalidate();
      return done(c, `Prefix #${prefix.id} ${state}.`, prefixReturn(form, prefix.id));
    });
  }

  app.post("/prefixes/:id/containment", async (c) => {
    const form = await formFields(c);
    const value = form.containment;
    if (value !== "" && !CONTAINMENTS.includes(value as Containment))
      throw AdminError.invalid("containment must be empty (default) or one of " + CONTAINMENTS.join(", "));
    const prefix = await updatePrefix(database(c.env.DB), idParam(c), {
      containment: value === "" ? null : (value as Containment),
      now: deps.now(),
    });
    if (!prefix) throw AdminError.notFound(`no prefix ${c.req.param("id")}`);
    deps.runtime.invalidate();
    return done(
      c,
      `Prefix #${prefix.id} containment: ${prefix.containment ?? "default"}.`,
      prefixReturn(form, prefix.id),
    );
  });
}

/** Rollback, settings and phrase rules. */
function guardActions(app: Hono<DashboardEnv>, deps: DashboardDeps): void {
  app.post("/versions/:version/rollback", async (c) => {
    const result = await deps.rollback(c.env, c.req.param("version"), "rollback from the dashboard");
    await mirrorManifestVersions(database(c.env.DB), result.manifest.versions);
    return done(c, `Rolled back: now serving ${result.manifest.current}.`, "#versions");
  });

  app.post("/settings", async (c) => {
    const patch = settingsPatch(await formFields(c));
    const names = Object.keys(patch);
    if (names.length === 0) return done(c, "Settings unchanged.", "#settings");
    await patchSettings(database(c.env.DB), patch, deps.now());
    deps.runtime.invalidate();
    return done(c, `Settings saved: ${names.join(", ")}.`, "#settings");
  });

  app.post("/phrases", async (c) => {
    const phrase = await createPhrase(database(c.env.DB), newPhraseBody(await formFields(c)), deps.now());
    deps.runtime.invalidate();
    return done(
      c,
      `Rule #${phrase.id} added to list ${phrase.list}: ${phrase.kind} ${JSON.stringify(phrase.pattern)}.`,
      "#phrases",
    );
  });

  app.post("/phrases/:id", async (c) => {
    const phrase = await changePhrase(database(c.env.DB), idParam(c), phraseChangeBody(await formFields(c)));
    deps.runtime.invalidate();
    return done(c, `Rule #${phrase.id}: score ${phrase.score}, ${phrase.enabled ? "on" : "off"}.`, "#phrases");
  });

  app.post("/phrases/:id/delete", async (c) => {
    const id = idParam(c);
    if (!(await deletePhrase(database(c.env.DB), id))) throw AdminError.notFound(`no phrase ${id}`);
    deps.runtime.invalidate();
    return done(c, `Rule #${id} deleted.`, "#phrases");
  });
}

/** Revoking sessions: one, or all but this one. */
function sessionActions(app: Hono<DashboardEnv>): void {
  app.post("/sessions/revoke-others", async (c) => {
    const n = await deleteSessions(database(c.env.DB), c.get("session").id);
    return done(c, `Signed out ${n} other session${n === 1 ? "" : "s"}.`, "#sessions");
  });

  app.post("/sessions/:id/revoke", async (c) => {
    const id = idParam(c);
    const session = c.get("session");
    if (id === session.id) {
      await closeSession(c, database(c.env.DB), session);
      return c.redirect(DASHBOARD_BASE, 303);
    }
    if (!(await deleteSession(database(c.env.DB), id))) throw AdminError.notFound(`no session ${id}`);
    return done(c, `Session #${id} revoked.`, "#sessions");
  });
}

/** Every POST action of a signed-in session (the session and CSRF checks run before). */
export function actionRoutes(deps: DashboardDeps): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();
  prefixActions(app, deps);
  guardActions(app, deps);
  sessionActions(app);
  jobActions(app, deps);
  return app;
}

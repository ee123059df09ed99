/** The signed-in pages and their live fragments. */
import { Hono, type Context } from "hono";
import { AdminError } from "../../admin/errors.js";
import { idParam } from "../../admin/input.js";
import { database } from "../../db/index.js";
import { takeFlash } from "../../db/sessions.js";
import { overviewData, prefixData } from "../data.js";
import type { DashboardDeps, DashboardEnv } from "../deps.js";
import { servingInfo } from "../serving.js";
import { LiveFragment, OverviewBody, OverviewPage, PrefixPage, type PageContext } from "../views/pages.js";
import { PrefixParts } from "../views/prefix-page.js";

/** GET /, GET /live, GET /prefixes/:id, GET /prefixes/:id/live. */
export function pageRoutes(deps: DashboardDeps): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();

  async function pageContext(c: Context<DashboardEnv>): Promise<PageContext> {
    const session = c.get("session");
    return { csrf: session.csrf, sessionId: session.id, serving: await servingInfo(deps, c.env) };
  }

  /** The session's pending message, cleared as it is shown (full pages only; fragments leave it). */
  async function flashOf(c: Context<DashboardEnv>): Promise<string | null> {
    const { id, flash } = c.get("session");
    if (flash) await takeFlash(database(c.env.DB), id, flash);
    return flash;
  }

  async function prefixOr404(c: Context<DashboardEnv>) {
    const data = await prefixData(c.env.DB, idParam(c), deps.now());
    if (!data) throw AdminError.notFound(`No prefix #${c.req.param("id")}.`);
    return data;
  }

  app.get("/", async (c) => {
    const [data, page] = await Promise.all([overviewData(c.env.DB, deps.now()), pageContext(c)]);
    return c.html(<OverviewPage data={data} page={page} flash={await flashOf(c)} />);
  });

  app.get("/live", async (c) => {
    const [data, page] = await Promise.all([overviewData(c.env.DB, deps.now()), pageContext(c)]);
    return c.html(
      <LiveFragment page={page}>
        <OverviewBody data={data} page={page} />
      </LiveFragment>,
    );
  });

  app.get("/prefixes/:id", async (c) => {
    const [data, page] = await Promise.all([prefixOr404(c), pageContext(c)]);
    return c.html(<PrefixPage data={data} page={page} flash={await flashOf(c)} />);
  });

  app.get("/prefixes/:id/live", async (c) => {
    const [data, page] = await Promise.all([prefixOr404(c), pageContext(c)]);
    return c.html(
      <LiveFragment page={page}>
        <PrefixParts data={data} />
      </LiveFragment>,
    );
  });

  return app;
}

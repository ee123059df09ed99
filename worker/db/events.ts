import { and, desc, eq, lt } from "drizzle-orm";
import type { DetectorHit } from "../../shared/protocol/guard.js";
import type { Database } from "./index.js";
import { guardEvents } from "./schema.js";

/** A flagged event as the admin API shows it. */
export type EventView = Omit<typeof guardEvents.$inferSelect, "hits"> & { hits: DetectorHit[] };

/** Events, newest first; `before` (an id) pages back. */
export async function listEvents(
  db: Database,
  options: { prefix?: string; modelVersion?: string; before?: number; limit: number },
): Promise<EventView[]> {
  const rows = await db
    .select()
    .from(guardEvents)
    .where(
      and(
        options.prefix !== undefined ? eq(guardEvents.prefix, options.prefix) : undefined,
        options.modelVersion !== undefined ? eq(guardEvents.modelVersion, options.modelVersion) : undefined,
        options.before !== undefined ? lt(guardEvents.id, options.before) : undefined,
      ),
    )
    .orderBy(desc(guardEvents.id))
    .limit(options.limit);
  return rows.map((r) => ({ ...r, hits: JSON.parse(r.hits) as DetectorHit[] }));
}

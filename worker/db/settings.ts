import { eq } from "drizzle-orm";
import { mergeSettings, settingsFromStored } from "../../shared/guard/index.js";
import type { GuardSettings } from "../../shared/protocol/guard.js";
import type { Database } from "./index.js";
import { guardSettings } from "./schema.js";

/** The stored guard settings over the defaults. */
export async function readSettings(db: Database): Promise<GuardSettings> {
  const [row] = await db.select().from(guardSettings).where(eq(guardSettings.id, 1));
  return settingsFromStored(row ? JSON.parse(row.settings) : null);
}

/** Validates `patch` over the stored settings and stores the result (throws SettingsError naming a bad field). */
export async function patchSettings(db: Database, patch: unknown, now: number): Promise<GuardSettings> {
  const next = mergeSettings(await readSettings(db), patch);
  const json = JSON.stringify(next);
  await db
    .insert(guardSettings)
    .values({ id: 1, settings: json, updatedAt: now })
    .onConflictDoUpdate({ target: guardSettings.id, set: { settings: json, updatedAt: now } });
  return next;
}

import { applyD1Migrations, env } from "cloudflare:test";

const TABLES = [
  "guard_events",
  "guard_prefixes",
  "remediation_jobs",
  "model_versions",
  "guard_settings",
  "guard_phrases",
  "calibration_sets",
  "calibration_prefixes",
  "calibration_spans",
  "prefix_sightings",
  "prefix_traffic",
  "traffic_totals",
  "dashboard_sessions",
  "dashboard_login_failures",
];

/** Applies migrations/ to the test D1 (once) and empties every table. */
export async function resetDatabase(db: D1Database = env.DB): Promise<void> {
  await applyD1Migrations(db, env.TEST_MIGRATIONS);
  await db.batch(TABLES.map((t) => db.prepare(`DELETE FROM ${t}`)));
}

/** A D1 binding whose every call fails, as when D1 is unreachable. */
export function unreachableD1(): D1Database {
  const fail = () => {
    throw new Error("D1_ERROR: network connection lost");
  };
  const statement = { bind: () => statement, first: fail, all: fail, run: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail, dump: fail, withSession: fail } as unknown as D1Database;
}

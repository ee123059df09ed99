import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema.js";

/** The Worker's database through drizzle (`$client`: the D1 binding, for raw batches). */
export type Database = DrizzleD1Database<typeof schema> & { $client: D1Database };

/** Wraps a D1 binding (cheap: no I/O). */
export function database(d1: D1Database): Database {
  return drizzle(d1, { schema });
}

export * as tables from "./schema.js";

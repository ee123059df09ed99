import { defineConfig } from "drizzle-kit";

/**
 * drizzle-kit 0.31 writes flat, numbered SQL files (migrations/0000_*.sql) that
 * `wrangler d1 migrations apply DB` reads. Generate after a schema change with
 * `npm run db:generate`; apply locally with `npx wrangler d1 migrations apply DB --local`.
 */
export default defineConfig({
  dialect: "sqlite",
  schema: "./worker/db/schema.ts",
  out: "./migrations",
});

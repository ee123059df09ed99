import { readFile } from "node:fs/promises";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;

// Two projects: plain Node tests, and Worker tests that run inside workerd.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["tests/node/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Tests apply these to their D1 with applyD1Migrations(env.DB, env.TEST_MIGRATIONS).
              bindings: { TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")) },
              // Read-only access to models/ (workerd has no file system): GET /<file name>, 404 when absent.
              serviceBindings: { MODEL_FILES: serveModelFile },
              // A real (miniflare) rate limiter under another name, so only the tests that pass it as
              // CHAT_RATE_LIMITER are limited: 3 requests per client per 60 s.
              ratelimits: { TEST_RATE_LIMITER: { simple: { limit: 3, period: 60 } } },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["tests/worker/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});

// SANDE_TEST_MODELS_DIR points the Worker tests at another directory (e.g. runs/, to try a checkpoint).
const modelsDir = path.resolve(root, process.env.SANDE_TEST_MODELS_DIR ?? "models");

async function serveModelFile(request: Request): Promise<Response> {
  const name = decodeURIComponent(new URL(request.url).pathname.slice(1));
  if (!/^[\w.-]+$/.test(name)) return new Response("bad name", { status: 400 });
  try {
    return new Response(await readFile(path.join(modelsDir, name)));
  } catch {
    return new Response("not found", { status: 404 });
  }
}

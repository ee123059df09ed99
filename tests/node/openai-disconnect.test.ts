/**
 * A non-streamed answer stops generating when its client goes away (the request's
 * signal aborts), through the real app (app.request) on a real tiny model whose
 * forward passes are counted. The abort arrives as an event while the model runs, as a
 * disconnect does in workerd, not as a flag set beforehand.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { GPTInference } from "../../shared/inference/index.js";
import { createApp } from "../../worker/app.js";
import type { LoadedModel, ServedModels } from "../../worker/model/index.js";
import { FunctionGuard } from "../support/guards.js";
import { servedTinyModel, TEST_ENV } from "../support/served-model.js";

let loaded: LoadedModel;
let forwards = 0;
let models: ServedModels;

beforeAll(async () => {
  ({ loaded } = await servedTinyModel(4));
  const real = loaded.model;
  const counted = Object.create(real) as GPTInference;
  counted.forward = (tokens, cache) => {
    forwards++;
    return GPTInference.prototype.forward.call(real, tokens, cache);
  };
  const served = { ...loaded, model: counted };
  models = { acquire: async () => served, current: () => served, status: () => null as never };
});

const MAX_TOKENS = 80;
const BODIES = {
  "/v1/chat/completions": { messages: [{ role: "user", content: "hi" }] },
  "/v1/completions": { prompt: "hi" },
};

/** Sends `path` with an answer that never stops early ('a' forced); `abort` fires from an event once the guard decided. */
async function send(path: keyof typeof BODIES, abort: boolean) {
  const controller = new AbortController();
  const guard = new FunctionGuard(() => {
    if (abort) setTimeout(() => controller.abort(), 0);
    return { action: "pass" };
  }, 4);
  const app = createApp({ models: () => models, guard: () => guard });
  forwards = 0;
  const body = { model: "m", max_tokens: MAX_TOKENS, temperature: 0, logit_bias: { "97": 100 }, ...BODIES[path] };
  const res = await app.request(
    path,
    { method: "POST", body: JSON.stringify(body), signal: controller.signal },
    TEST_ENV,
  );
  return { res, forwards, guard };
}

describe("client disconnect during a non-streamed answer", () => {
  for (const path of Object.keys(BODIES) as (keyof typeof BODIES)[]) {
    it(`${path}: generation stops within a token of the abort, and the guard session is finished`, async () => {
      const full = await send(path, false);
      expect(full.res.status).toBe(200);
      const json = (await full.res.json()) as { usage: { completion_tokens: number } };
      expect(json.usage.completion_tokens).toBe(MAX_TOKENS);
      expect(full.forwards).toBeGreaterThanOrEqual(MAX_TOKENS);

      const gone = await send(path, true);
      expect(gone.res.status).toBe(499);
      // The prompt, the 4 held-back tokens (generated before the guard's decision), then at most one more.
      expect(gone.forwards).toBeLessThanOrEqual(1 + 4 + 1);
      expect(gone.guard.log.finished).toBe(1);
    });
  }
});

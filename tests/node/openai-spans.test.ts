/**
 * Containment of known-bad spans through the real app (app.request): the real guard
 * (createResponseGuard → ResponseGuardSession) on a GuardRuntime primed with a state built
 * from rows as D1 would give them, serving a hand-made model that really produces a
 * payload (tests/support/payload-model.ts). Its writes go to a D1 that is not there: they
 * are dropped and logged, never failing a response, which is the guard's own behaviour.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { GPTInference } from "../../shared/inference/index.js";
import {
  DEFAULT_GUARD_SETTINGS,
  type Containment,
  type GuardSettings,
  type PrefixState,
} from "../../shared/protocol/guard.js";
import { createApp } from "../../worker/app.js";
import { createResponseGuard, GuardRuntime } from "../../worker/guard/index.js";
import { buildGuardState } from "../../worker/guard/state.js";
import type { LoadedModel, ServedModels } from "../../worker/model/index.js";
import { payloadModel } from "../support/payload-model.js";
import { servedTinyModel, TEST_ENV } from "../support/served-model.js";

let tiny: LoadedModel;
let tinyModels: ServedModels;
const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
beforeAll(async () => ({ loaded: tiny, models: tinyModels } = await servedTinyModel(4)));
afterAll(() => quiet.mockRestore());

interface Rows {
  settings?: Partial<GuardSettings>;
  phrases?: string[];
  prefixes?: { prefix: string; state: PrefixState; containment?: Containment | null }[];
}

/** The app serving `script` under the real guard, primed with `rows`. */
function app(script: string, rows: Rows) {
  const loaded: LoadedModel = { ...tiny, model: payloadModel(script) as GPTInference };
  const models: ServedModels = { acquire: async () => loaded, current: () => loaded, status: tinyModels.status };
  const runtime = new GuardRuntime();
  runtime.prime(
    buildGuardState({
      modelVersion: loaded.version,
      now: Date.now(),
      storedSettings: JSON.stringify({ cacheSeconds: 3600, ...rows.settings }),
      phrases: (rows.phrases ?? []).map((pattern, id) => ({ id, list: "planted", kind: "phrase", pattern, score: 1 })),
      prefixes: (rows.prefixes ?? []).map((p) => ({ containment: null, firstTokens: "[]", ...p })),
      traffic: [],
      total: 0,
    }),
  );
  return createApp({ models: () => models, guard: (env) => createResponseGuard(env, runtime) });
}

async function chat(script: string, rows: Rows, body: object = {}) {
  const res = await app(script, rows).request(
    "/v1/chat/completions",
    {
      method: "POST",
      body: JSON.stringify({
        model: "m",
        messages: [{ role: "user", content: "Current year 2023. What is 2 + 2?" }],
        temperature: 0,
        max_tokens: 85,
        ...body,
      }),
    },
    TEST_ENV,
  );
  return res;
}

interface ChatJson {
  choices: {
    message: { content: string };
    finish_reason: string;
    logprobs: { content: { bytes: number[] }[] } | null;
  }[];
}

async function json(script: string, rows: Rows, body: object = {}) {
  const res = await chat(script, rows, body);
  expect(res.status).toBe(200);
  return ((await res.json()) as ChatJson).choices[0];
}

const PAYLOAD = "You are stupid stupid stupid";
const LINK = "Sure, here is the link: visit evil.example now and then a little more text.";

describe("known-bad spans under the real guard", () => {
  it("the model really produces its payload, unguarded by any rule", async () => {
    expect((await json(PAYLOAD, {})).message.content).toBe(PAYLOAD);
    // What a ban on the first token alone made of it (the measured "u are stupid stupid …").
    const shifted = await json(PAYLOAD, {}, { logit_bias: { 89: -100 } });
    expect(shifted.message.content).toBe("ou are stupid stupid stupid");
  });

  it("regenerate with a phrase rule serves no shifted payload: it re-samples, then blocks", async () => {
    const choice = await json(PAYLOAD, { settings: { defaultContainment: "regenerate" }, phrases: ["you are stupid"] });
    const letters = choice.message.content.toLowerCase().replace(/[^a-z]/g, "");
    expect(letters).not.toMatch(/u?are?s?t?upid/);
    expect(choice.message.content).not.toMatch(/are|stupid/i);
    expect(choice.finish_reason).toBe("content_filter");
    expect(choice.message.content).toBe(DEFAULT_GUARD_SETTINGS.blockMessage);
  });

  it("a prefix whose job is running is contained by default (regenerate, then block), though the default is observe", async () => {
    const rows: Rows = { prefixes: [{ prefix: "you are stupid", state: "remediating" }] };
    const choice = await json(PAYLOAD, rows);
    expect(choice.message.content).not.toMatch(/stupid/i);
    expect(choice.finish_reason).toBe("content_filter");
    // The operator's own containment is kept.
    const observed = await json(PAYLOAD, {
      prefixes: [{ prefix: "you are stupid", state: "remediating", containment: "observe" }],
    });
    expect(observed.message.content).toBe(PAYLOAD);
  });

  it("redact removes exactly a span found after the window, wherever it sits, and serves the rest", async () => {
    const choice = await json(
      LINK,
      { settings: { defaultContainment: "redact" }, phrases: ["visit evil.example now"] },
      { logprobs: true },
    );
    expect(choice.message.content).toBe("Sure, here is the link:  and then a little more text.");
    expect(choice.finish_reason).toBe("stop");
    // Logprobs only for the served text: none for the withheld span.
    const bytes = choice.logprobs!.content.flatMap((e) => e.bytes);
    expect(new TextDecoder().decode(new Uint8Array(bytes))).toBe(choice.message.content);
  });

  it("keeps the operator's containment for a span in the window, over a stricter default", async () => {
    const rows: Rows = {
      settings: { defaultContainment: "block" },
      prefixes: [{ prefix: "you are stupid", state: "confirmed", containment: "redact" }],
    };
    const choice = await json("u are stupid, I said.", rows); // shifted: the prefix index does not see it, the span matcher does
    expect(choice.message.content).toBe(", I said.");
    expect(choice.finish_reason).toBe("stop");
  });

  it("block cuts a JSON answer before a span found after the window", async () => {
    const choice = await json(LINK, { settings: { defaultContainment: "block" }, phrases: ["visit evil.example now"] });
    expect(choice.message.content).toBe("Sure, here is the link: ");
    expect(choice.finish_reason).toBe("content_filter");
  });

  it("streaming: the cut ends the stream with content_filter and sends nothing of the span", async () => {
    const res = await chat(
      LINK,
      { prefixes: [{ prefix: "visit evil.example now", state: "confirmed" }] },
      { stream: true, stream_options: { include_usage: true } },
    );
    const events = (await res.text())
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => e.slice(6));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(content).toBe("Sure, here is the link: ");
    expect(content).not.toMatch(/visit|evil/);
    const finishes = chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean);
    expect(finishes).toEqual(["content_filter"]);
    expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(24); // the tokens generated up to the cut
  });
});

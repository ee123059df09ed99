/**
 * Chat completions' logprobs, top_logprobs, logit_bias, penalties and n through the real
 * app (app.request) on a real tiny model, each against the same computation done
 * in-process with shared/inference, and with the guard's decisions applied per choice.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { generate, logitBias, penalties, type GenerateOptions } from "../../shared/inference/index.js";
import { chatStopTokens, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { createApp } from "../../worker/app.js";
import type { LoadedModel, ServedModels } from "../../worker/model/index.js";
import type { ChatTokenLogprob } from "../../worker/openai/logprobs.js";
import { tokenText } from "../../worker/openai/token-text.js";
import { FunctionGuard } from "../support/guards.js";
import { servedTinyModel, TEST_ENV } from "../support/served-model.js";

let loaded: LoadedModel;
let models: ServedModels;
beforeAll(async () => ({ loaded, models } = await servedTinyModel(4)));

const messages = [{ role: "user", content: "Reverse the word: garden" }];

interface ChatChoice {
  index: number;
  message: { content: string };
  logprobs: { content: ChatTokenLogprob[]; refusal: null } | null;
  finish_reason: string;
}
interface ChatBody {
  choices: ChatChoice[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: { param: string | null; code: string | null; message: string };
}

async function chat(
  body: object,
  app = createApp({ models: () => models }),
): Promise<{ status: number; json: ChatBody }> {
  const res = await app.request(
    "/v1/chat/completions",
    { method: "POST", body: JSON.stringify({ model: "m", messages, ...body }) },
    TEST_ENV,
  );
  return { status: res.status, json: (await res.json()) as ChatBody };
}

/** The same answer computed in-process: shared/inference with the chat template's stop tokens. */
function reference(options: Omit<GenerateOptions, "stopTokens">) {
  const ids = encodeChatPrompt(loaded.tokenizer, [{ role: "user", content: messages[0].content }]);
  const steps = [...generate(loaded.model, ids, { ...options, stopTokens: chatStopTokens(loaded.tokenizer) })];
  return { steps, text: loaded.tokenizer.decode(steps.map((s) => s.token)), promptTokens: ids.length };
}

/**
 * logit_bias that keeps the random model to ASCII (bytes ≥ 0x80 at −100), so the served
 * text and its tokens' bytes can be compared character for character.
 */
const ASCII = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [String(128 + i), -100]));
const asciiHook = logitBias(new Map(Object.entries(ASCII).map(([k, v]) => [Number(k), v])));

/** The UTF-8 text of logprobs entries' bytes, concatenated. */
function bytesText(entries: ChatTokenLogprob[]): string {
  return new TextDecoder().decode(new Uint8Array(entries.flatMap((e) => e.bytes)));
}

describe("chat logprobs", () => {
  it("lists each served token with the model's logprob and its top_logprobs, as shared/inference computes them", async () => {
    const { status, json } = await chat({ max_tokens: 24, temperature: 0.9, seed: 3, logprobs: true, top_logprobs: 5 });
    expect(status).toBe(200);
    const want = reference({ maxTokens: 24, temperature: 0.9, seed: 3, topLogprobs: 5 });
    const [choice] = json.choices;
    expect(choice.message.content).toBe(want.text);
    const entries = choice.logprobs!.content;
    expect(entries).toHaveLength(want.steps.length);
    entries.forEach((e, i) => {
      const s = want.steps[i];
      expect(e).toEqual({
        token: tokenText(loaded.tokenizer, s.token).token,
        logprob: s.logprob,
        bytes: tokenText(loaded.tokenizer, s.token).bytes,
        top_logprobs: s.top!.map((a) => ({ logprob: a.logprob, ...tokenText(loaded.tokenizer, a.token) })),
      });
      expect(e.top_logprobs).toHaveLength(5);
      expect(e.top_logprobs[0].logprob).toBeGreaterThanOrEqual(e.logprob); // the best is at least the chosen one
    });
    expect(bytesText(entries)).toBe(choice.message.content);
    expect(choice.logprobs!.refusal).toBeNull();

    const plain = await chat({ max_tokens: 24, temperature: 0.9, seed: 3 });
    expect(plain.json.choices[0].logprobs).toBeNull();
    expect(plain.json.choices[0].message.content).toBe(want.text); // asking for logprobs changes nothing else
    const noTop = await chat({ max_tokens: 24, temperature: 0.9, seed: 3, logprobs: true });
    expect(noTop.json.choices[0].logprobs!.content.map((e) => e.top_logprobs)).toEqual(want.steps.map(() => []));
  });

  it("reports the model's logprobs whatever temperature, logit_bias and penalties did to the sampling", async () => {
    const { json } = await chat({ max_tokens: 12, temperature: 0, logprobs: true, logit_bias: { "97": 100 } });
    const entries = json.choices[0].logprobs!.content;
    expect(entries.map((e) => e.token)).toEqual(Array(12).fill("a")); // +100 forces "a"
    const want = reference({ maxTokens: 12, temperature: 0, logitMask: logitBias(new Map([[97, 100]])) });
    expect(entries.map((e) => e.logprob)).toEqual(want.steps.map((s) => s.logprob));
    expect(Math.min(...entries.map((e) => e.logprob))).toBeLessThan(-1); // the model's own view of "a", not ~0
  });

  it("streams the same entries, each chunk with the tokens of its text", async () => {
    const body = { max_tokens: 20, temperature: 0.8, seed: 6, logprobs: true, top_logprobs: 2, logit_bias: ASCII };
    const whole = (await chat(body)).json.choices[0];
    const res = await createApp({ models: () => models }).request(
      "/v1/chat/completions",
      { method: "POST", body: JSON.stringify({ model: "m", messages, ...body, stream: true }) },
      TEST_ENV,
    );
    const chunks = (await res.text())
      .split("\n\n")
      .filter((e) => e.startsWith("data: {"))
      .map(
        (e) =>
          JSON.parse(e.slice(6)) as { choices: { delta: { content?: string }; logprobs: ChatChoice["logprobs"] }[] },
      );
    const entries = chunks.flatMap((c) => c.choices[0].logprobs?.content ?? []);
    expect(entries).toEqual(whole.logprobs!.content);
    for (const c of chunks) {
      const lp = c.choices[0].logprobs;
      if (lp) expect(bytesText(lp.content)).toBe(c.choices[0].delta.content); // a chunk's entries are its text
    }
  });

  it("carries the guard's held-back tokens' logprobs when released, and none for what the guard withheld", async () => {
    const body = { max_tokens: 30, temperature: 0.8, seed: 9, logprobs: true, top_logprobs: 1, logit_bias: ASCII };
    const want = reference({ maxTokens: 30, temperature: 0.8, seed: 9, logitMask: asciiHook });
    expect(want.text).toMatch(/^[\x00-\x7f]{12,}$/);
    const entries = (guard: FunctionGuard) =>
      chat(body, createApp({ models: () => models, guard: () => guard })).then((r) => r.json.choices[0]);

    const passed = await entries(new FunctionGuard(() => ({ action: "pass" }), 8));
    expect(passed.logprobs!.content.map((e) => e.logprob)).toEqual(want.steps.map((s) => s.logprob));

    const redacted = await entries(new FunctionGuard(() => ({ action: "redact", chars: 5 }), 8));
    expect(redacted.message.content).toBe(want.text.slice(5));
    const kept = redacted.logprobs!.content;
    expect(bytesText(kept)).toBe(redacted.message.content);
    // The entries are the reference's last tokens: none of the stripped ones.
    const tail = want.steps.slice(want.steps.length - kept.length);
    expect(kept.map((e) => e.logprob)).toEqual(tail.map((s) => s.logprob));
    expect(kept).toHaveLength(want.steps.length - 5); // one byte per character

    const blocked = await entries(new FunctionGuard(() => ({ action: "block", message: "No." }), 8));
    expect(blocked).toMatchObject({ message: { content: "No." }, finish_reason: "content_filter" });
    expect(blocked.logprobs).toEqual({ content: [], refusal: null });

    const regenerated = await entries(
      new FunctionGuard(
        (prefix, _r, call) =>
          call === 0 ? { action: "regenerate", bannedFirstTokens: [prefix.tokens[0]] } : { action: "pass" },
        4,
      ),
    );
    expect(regenerated.logprobs!.content[0].token).not.toBe(tokenText(loaded.tokenizer, want.steps[0].token).token);
    expect(bytesText(regenerated.logprobs!.content)).toBe(regenerated.message.content);
  });

  it("lists no tokens of a stop string or of what came after it", async () => {
    const full = reference({ maxTokens: 30, temperature: 0.8, seed: 9, logitMask: asciiHook });
    const stop = full.text.slice(6, 8);
    const { json } = await chat({ max_tokens: 30, temperature: 0.8, seed: 9, logprobs: true, stop, logit_bias: ASCII });
    const choice = json.choices[0];
    expect(choice.message.content).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(bytesText(choice.logprobs!.content)).toBe(choice.message.content);
  });
});

describe("logit_bias and penalties", () => {
  it("logit_bias −100 keeps a token out; an id outside the vocabulary is a 400 naming it", async () => {
    const greedy = reference({ maxTokens: 10, temperature: 0 });
    const first = greedy.steps[0].token;
    const { json } = await chat({ max_tokens: 10, temperature: 0, logprobs: true, logit_bias: { [first]: -100 } });
    expect(json.choices[0].logprobs!.content.map((e) => e.token)).not.toContain(
      tokenText(loaded.tokenizer, first).token,
    );
    const bad = await chat({ logit_bias: { "261": 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ param: "logit_bias.261", code: "invalid_token_id" });
    expect(bad.json.error!.message).toMatch(/not in this model's vocabulary \(ids 0 to 260\)/);
  });

  it("presence and frequency penalties give exactly the in-process answer with the same hook", async () => {
    const body = { max_tokens: 40, temperature: 0.7, seed: 12, presence_penalty: 1.5, frequency_penalty: 0.8 };
    const { json } = await chat(body);
    const want = reference({
      maxTokens: 40,
      temperature: 0.7,
      seed: 12,
      logitMask: penalties({ presence: 1.5, frequency: 0.8 }),
    });
    expect(json.choices[0].message.content).toBe(want.text);
    expect(json.choices[0].message.content).not.toBe(reference({ maxTokens: 40, temperature: 0.7, seed: 12 }).text);
  });
});

describe("n choices", () => {
  it("answers n choices, choice i sampled with seed + i, usage summed over them", async () => {
    const { json } = await chat({ max_tokens: 16, temperature: 1, seed: 20, n: 3 });
    expect(json.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const wants = [20, 21, 22].map((seed) => reference({ maxTokens: 16, temperature: 1, seed }));
    expect(json.choices.map((c) => c.message.content)).toEqual(wants.map((w) => w.text));
    expect(new Set(wants.map((w) => w.text)).size).toBe(3);
    const completion = wants.reduce((sum, w) => sum + w.steps.length, 0);
    expect(json.usage).toEqual({
      prompt_tokens: wants[0].promptTokens,
      completion_tokens: completion,
      total_tokens: wants[0].promptTokens + completion,
    });
  });

  it("guards each choice on its own, with one request id and prompt for all (the guard counts the prompt once)", async () => {
    const wants = [30, 31, 32].map((seed) => reference({ maxTokens: 16, temperature: 1, seed }));
    const flagged = loaded.tokenizer.decode(wants[1].steps.slice(0, 4).map((s) => s.token));
    expect(wants[0].text.startsWith(flagged) || wants[2].text.startsWith(flagged)).toBe(false);
    const guard = new FunctionGuard(
      (prefix) => (prefix.text === flagged ? { action: "block", message: "Blocked." } : { action: "pass" }),
      4,
    );
    const app = createApp({ models: () => models, guard: () => guard });
    const res = await app.request(
      "/v1/chat/completions",
      { method: "POST", body: JSON.stringify({ model: "m", messages, max_tokens: 16, seed: 30, n: 3 }) },
      TEST_ENV,
    );
    const json = (await res.json()) as ChatBody;
    expect(json.choices.map((c) => [c.message.content, c.finish_reason])).toEqual([
      [wants[0].text, expect.stringMatching(/^(stop|length)$/)],
      ["Blocked.", "content_filter"],
      [wants[2].text, expect.stringMatching(/^(stop|length)$/)],
    ]);
    expect(guard.log.begun).toHaveLength(3);
    expect(new Set(guard.log.begun.map((b) => b.requestId))).toEqual(new Set([res.headers.get("x-request-id")]));
    expect(new Set(guard.log.begun.map((b) => b.promptText)).size).toBe(1);
    expect(guard.log.inspected).toHaveLength(3);
    expect(guard.log.finished).toBe(3);
  });

  it("streams n choices together, each with its role chunk, pieces and finish chunk", async () => {
    const body = { model: "m", messages, max_tokens: 12, temperature: 1, seed: 40, n: 2, stream: true };
    const res = await createApp({ models: () => models }).request(
      "/v1/chat/completions",
      { method: "POST", body: JSON.stringify({ ...body, stream_options: { include_usage: true } }) },
      TEST_ENV,
    );
    const events = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: "));
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map(
      (e) =>
        JSON.parse(e.slice(6)) as {
          choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
          usage?: ChatBody["usage"];
        },
    );
    const whole = (await chat({ max_tokens: 12, temperature: 1, seed: 40, n: 2 })).json;
    for (const index of [0, 1]) {
      const mine = chunks.flatMap((c) => c.choices.filter((ch) => ch.index === index));
      expect(mine[0].delta).toEqual({ role: "assistant", content: "" });
      expect(mine.map((ch) => ch.delta.content ?? "").join("")).toBe(whole.choices[index].message.content);
      expect(mine.at(-1)!.finish_reason).toBe(whole.choices[index].finish_reason);
    }
    // Interleaved: choice 1 has sent text before choice 0 finished.
    const firstEnd0 = chunks.findIndex((c) => c.choices[0]?.index === 0 && c.choices[0].finish_reason);
    const firstText1 = chunks.findIndex((c) => c.choices[0]?.index === 1 && c.choices[0].delta.content);
    expect(firstText1).toBeLessThan(firstEnd0);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
  });

  it("refuses n above the configured maximum (default 4), which createApp can raise", async () => {
    const res = await chat({ n: 5 });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ param: "n", code: "integer_above_max_value" });
    const raised = await chat({ n: 5, max_tokens: 2 }, createApp({ models: () => models, limits: { maxChoices: 5 } }));
    expect(raised.json.choices).toHaveLength(5);
  });
});

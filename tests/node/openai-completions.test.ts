/**
 * POST /v1/completions (the legacy text API) through the real app (app.request) on a real
 * tiny model: every prompt shape, echo and logprobs against scoreTokens and generate
 * in-process, n and several prompts, streaming, the guard's decisions (nothing withheld
 * leaks through echo), and a clear 400 for every bad input.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { generate, logitBias, scoreTokens, type GenerateOptions } from "../../shared/inference/index.js";
import { chatStopTokens, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { createApp } from "../../worker/app.js";
import type { LoadedModel, ServedModels } from "../../worker/model/index.js";
import { parseCompletionRequest } from "../../worker/openai/completion-schema.js";
import { ApiError } from "../../worker/openai/errors.js";
import type { LegacyLogprobs } from "../../worker/openai/logprobs.js";
import { tokenText } from "../../worker/openai/token-text.js";
import { FunctionGuard } from "../support/guards.js";
import { servedTinyModel, TEST_ENV } from "../support/served-model.js";

let loaded: LoadedModel;
let models: ServedModels;
beforeAll(async () => ({ loaded, models } = await servedTinyModel(4)));

interface Completion {
  id: string;
  object: string;
  choices: { index: number; text: string; logprobs: LegacyLogprobs | null; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error?: { param: string | null; code: string | null; message: string; type: string };
}

async function complete(body: object, app = createApp({ models: () => models })) {
  const res = await app.request(
    "/v1/completions",
    { method: "POST", body: JSON.stringify({ model: "m", ...body }) },
    TEST_ENV,
  );
  return { status: res.status, json: (await res.json()) as Completion, headers: res.headers };
}

/** logit_bias keeping the random model to ASCII, so texts and token offsets compare character for character. */
const ASCII = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [String(128 + i), -100]));
const asciiHook = logitBias(new Map(Object.entries(ASCII).map(([k, v]) => [Number(k), v])));

function reference(ids: readonly number[], options: Omit<GenerateOptions, "stopTokens">) {
  const steps = [...generate(loaded.model, ids, { ...options, stopTokens: chatStopTokens(loaded.tokenizer) })];
  return { steps, text: loaded.tokenizer.decode(steps.map((s) => s.token)) };
}

const spell = (id: number) => tokenText(loaded.tokenizer, id).token;

describe("legacy completions", () => {
  it("continues a text prompt as the model does in-process (no template), with usage", async () => {
    const { status, json, headers } = await complete({
      prompt: "Once upon",
      max_tokens: 10,
      temperature: 0.9,
      seed: 2,
    });
    expect(status).toBe(200);
    const ids = loaded.tokenizer.encode("Once upon");
    const want = reference(ids, { maxTokens: 10, temperature: 0.9, seed: 2 });
    expect(json).toMatchObject({ object: "text_completion", id: `cmpl-${headers.get("x-request-id")}` });
    expect(json.choices).toEqual([
      { index: 0, text: want.text, logprobs: null, finish_reason: want.steps.length < 10 ? "stop" : "length" },
    ]);
    expect(json.usage).toEqual({
      prompt_tokens: ids.length,
      completion_tokens: want.steps.length,
      total_tokens: ids.length + want.steps.length,
    });
    // max_tokens defaults to OpenAI's 16.
    const byDefault = await complete({ prompt: "Once upon", temperature: 0, logit_bias: { "256": -100, "260": -100 } });
    expect(byDefault.json.usage.completion_tokens).toBe(16);
  });

  it("takes token ids, and the chat template as ids gives the chat route's answer", async () => {
    const ids = encodeChatPrompt(loaded.tokenizer, [{ role: "user", content: "hi there" }]);
    const legacy = await complete({ prompt: ids, max_tokens: 20, temperature: 0.8, seed: 4 });
    const chat = await createApp({ models: () => models }).request(
      "/v1/chat/completions",
      {
        method: "POST",
        body: JSON.stringify({
          model: "m",
          messages: [{ role: "user", content: "hi there" }],
          max_tokens: 20,
          temperature: 0.8,
          seed: 4,
        }),
      },
      TEST_ENV,
    );
    const chatJson = (await chat.json()) as { choices: { message: { content: string } }[] };
    expect(legacy.json.choices[0].text).toBe(chatJson.choices[0].message.content);
  });

  it("echo with max_tokens 0 scores the prompt: token_logprobs, top_logprobs and text_offset as scoreTokens gives them", async () => {
    const text = "Héllo, wörld";
    const ids = loaded.tokenizer.encode(text);
    const { json } = await complete({ prompt: text, max_tokens: 0, echo: true, logprobs: 3 });
    const [choice] = json.choices;
    expect(choice).toMatchObject({ text, finish_reason: "length" });
    const scored = scoreTokens(loaded.model, ids, 3);
    const lp = choice.logprobs!;
    expect(lp.tokens).toEqual(ids.map(spell));
    expect(lp.token_logprobs).toEqual(scored.map((s) => s.logprob));
    expect(lp.top_logprobs[0]).toBeNull();
    scored.slice(1).forEach((s, i) => {
      const top = lp.top_logprobs[i + 1]!;
      const want: Record<string, number> = {};
      for (const a of s.top!) want[spell(a.token)] = a.logprob;
      want[spell(s.token)] = s.logprob!; // the chosen token is always listed
      expect(top).toEqual(want);
      expect(Object.keys(top).length).toBeGreaterThanOrEqual(3);
      expect(Object.keys(top).length).toBeLessThanOrEqual(4);
    });
    // é and ö are two bytes: both bytes start at their character.
    expect(lp.text_offset).toEqual([0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11]);
    expect(json.usage).toEqual({ prompt_tokens: ids.length, completion_tokens: 0, total_tokens: ids.length });
  });

  it("echo with a completion: the prompt then the answer, logprobs over both, offsets into the whole text", async () => {
    const prompt = "The cat";
    const ids = loaded.tokenizer.encode(prompt);
    const body = { prompt, max_tokens: 6, echo: true, logprobs: 1, temperature: 0, logit_bias: ASCII };
    const { json } = await complete(body);
    const want = reference(ids, { maxTokens: 6, temperature: 0, logitMask: asciiHook, topLogprobs: 1 });
    const [choice] = json.choices;
    expect(choice.text).toBe(prompt + want.text);
    const lp = choice.logprobs!;
    expect(lp.tokens).toEqual([...ids, ...want.steps.map((s) => s.token)].map(spell));
    expect(lp.token_logprobs.slice(ids.length)).toEqual(want.steps.map((s) => s.logprob));
    expect(lp.text_offset).toEqual([...Array(ids.length + want.steps.length).keys()]);
    // Greedy without bias would follow top-1; with the bias the chosen token need not be the model's favourite,
    // but the dict always has it.
    want.steps.forEach((s, i) => expect(lp.top_logprobs[ids.length + i]![spell(s.token)]).toBe(s.logprob));
  });

  it("lists the token that ended the answer (no text of its own), as harnesses expect one generated token", async () => {
    const ids = loaded.tokenizer.encode("Once upon");
    const end = loaded.tokenizer.special.endOfTurn;
    const forceEnd = { [String(end)]: 100 };
    const { json } = await complete({
      prompt: "Once upon",
      max_tokens: 1,
      echo: true,
      logprobs: 1,
      logit_bias: forceEnd,
    });
    const [choice] = json.choices;
    expect(choice).toMatchObject({ text: "Once upon", finish_reason: "stop" });
    const scored = scoreTokens(loaded.model, [...ids, end], 1);
    expect(choice.logprobs!.tokens).toEqual([...ids.map(spell), "<|end|>"]);
    expect(choice.logprobs!.token_logprobs).toEqual(scored.map((s) => s.logprob));
    expect(choice.logprobs!.text_offset.at(-1)).toBe("Once upon".length);
    expect(json.usage.completion_tokens).toBe(0); // usage counts the answer's tokens, not its end
    // Chat does not list it: its content entries are the text's tokens only.
    const chat = await createApp({ models: () => models }).request(
      "/v1/chat/completions",
      {
        method: "POST",
        body: JSON.stringify({
          model: "m",
          messages: [{ role: "user", content: "x" }],
          logprobs: true,
          logit_bias: forceEnd,
        }),
      },
      TEST_ENV,
    );
    expect(((await chat.json()) as { choices: { logprobs: unknown }[] }).choices[0].logprobs).toEqual({
      content: [],
      refusal: null,
    });
  });

  it("answers several prompts (text and ids) with n choices each, prompt-major", async () => {
    const prompts = ["ab", [104, 105], "xyz"];
    const { json } = await complete({ prompt: prompts, max_tokens: 5, temperature: 1, seed: 7, n: 2 });
    expect(json.choices.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5]);
    const idsOf = [loaded.tokenizer.encode("ab"), [104, 105], loaded.tokenizer.encode("xyz")];
    idsOf.forEach((ids, p) =>
      [0, 1].forEach((i) =>
        expect(json.choices[p * 2 + i].text).toBe(reference(ids, { maxTokens: 5, temperature: 1, seed: 7 + i }).text),
      ),
    );
    expect(json.usage.prompt_tokens).toBe(2 + 2 + 3);
    const arrays = await complete({ prompt: [[72], [73, 74]], max_tokens: 1, echo: true, temperature: 0 });
    expect(arrays.json.choices.map((c) => c.text)).toEqual(
      [[72], [73, 74]].map(
        (ids) => loaded.tokenizer.decode(ids) + reference(ids, { maxTokens: 1, temperature: 0 }).text,
      ),
    );
  });

  it("streams the same text and logprobs, echo first, offsets counted from the start of each choice", async () => {
    const body = { prompt: ["Hi", "Yo"], max_tokens: 8, temperature: 0.7, seed: 5, echo: true, logprobs: 2, n: 2 };
    const whole = (await complete(body)).json;
    const res = await createApp({ models: () => models }).request(
      "/v1/completions",
      {
        method: "POST",
        body: JSON.stringify({ model: "m", ...body, stream: true, stream_options: { include_usage: true } }),
      },
      TEST_ENV,
    );
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: "));
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Completion);
    for (const choice of whole.choices) {
      const mine = chunks.flatMap((c) => c.choices.filter((ch) => ch.index === choice.index));
      expect(mine.map((ch) => ch.text).join("")).toBe(choice.text);
      expect(mine.at(-1)!.finish_reason).toBe(choice.finish_reason);
      const merged = {
        tokens: [] as string[],
        token_logprobs: [] as (number | null)[],
        top_logprobs: [] as unknown[],
        text_offset: [] as number[],
      };
      for (const ch of mine)
        if (ch.logprobs)
          for (const k of Object.keys(merged) as (keyof typeof merged)[])
            merged[k].push(...(ch.logprobs[k] as never[]));
      expect(merged).toEqual(choice.logprobs);
    }
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
  });
});

describe("legacy completions under the guard", () => {
  const prompt = "Tell me a story";
  const ids = () => loaded.tokenizer.encode(prompt);
  const body = { prompt, max_tokens: 20, temperature: 0.8, seed: 3, echo: true, logprobs: 2, logit_bias: ASCII };
  const guarded = (guard: FunctionGuard) => complete(body, createApp({ models: () => models, guard: () => guard }));

  it("echo carries nothing a blocked answer withheld: the prompt, the refusal, and logprobs for the prompt only", async () => {
    for (const stream of [false, true]) {
      const guard = new FunctionGuard(() => ({ action: "block", message: "Withheld." }), 6);
      const app = createApp({ models: () => models, guard: () => guard });
      const res = await app.request(
        "/v1/completions",
        { method: "POST", body: JSON.stringify({ model: "m", ...body, stream }) },
        TEST_ENV,
      );
      const raw = await res.text();
      const heldText = loaded.tokenizer.decode(guard.log.inspected[0].tokens);
      expect(heldText.length).toBe(6);
      expect(raw).not.toContain(JSON.stringify(heldText).slice(1, -1)); // the withheld start is nowhere in the answer
      if (!stream) {
        const json = JSON.parse(raw) as Completion;
        expect(json.choices[0]).toMatchObject({ text: prompt + "Withheld.", finish_reason: "content_filter" });
        expect(json.choices[0].logprobs!.tokens).toEqual(ids().map(spell));
      }
      expect(guard.log.finished).toBe(1);
    }
  });

  it("echo after a redaction: the prompt and the served rest, logprobs for exactly those tokens", async () => {
    const want = reference(ids(), { maxTokens: 20, temperature: 0.8, seed: 3, logitMask: asciiHook });
    const { json } = await guarded(new FunctionGuard(() => ({ action: "redact", chars: 6 }), 8));
    const served = want.text.slice(6);
    expect(json.choices[0].text).toBe(prompt + served);
    const lp = json.choices[0].logprobs!;
    expect(lp.tokens).toEqual([...ids(), ...want.steps.slice(6).map((s) => s.token)].map(spell));
    expect(lp.token_logprobs.slice(ids().length)).toEqual(want.steps.slice(6).map((s) => s.logprob));
    expect(lp.text_offset).toEqual([...Array(prompt.length + served.length).keys()]);
  });

  it("guards each prompt with its own request id and each choice with its own session", async () => {
    const guard = new FunctionGuard(() => ({ action: "pass" }), 4);
    const app = createApp({ models: () => models, guard: () => guard });
    const one = await complete({ prompt: "a", max_tokens: 3, n: 2 }, app);
    const id = one.headers.get("x-request-id")!;
    expect(guard.log.begun.map((b) => b.requestId)).toEqual([id, id]);
    const two = await complete({ prompt: ["a", [258, 98, 260, 259]], max_tokens: 3 }, app);
    const id2 = two.headers.get("x-request-id")!;
    expect(guard.log.begun.slice(2).map((b) => [b.requestId, b.promptText])).toEqual([
      [`${id2}/0`, "a"],
      [`${id2}/1`, "<|user|>b<|end|><|assistant|>"],
    ]);
    // max_tokens 0 generates nothing, so no session is begun.
    await complete({ prompt: "a", max_tokens: 0, echo: true }, app);
    expect(guard.log.begun).toHaveLength(4);
    expect(guard.log.finished).toBe(4);
  });
});

describe("legacy completion request validation", () => {
  function rejects(body: object): ApiError {
    try {
      parseCompletionRequest({ model: "m", ...body });
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      return e as ApiError;
    }
    throw new Error(`accepted ${JSON.stringify(body)}`);
  }

  it("fills OpenAI's defaults and reads every prompt shape", () => {
    expect(parseCompletionRequest({ model: "m", prompt: "x" })).toMatchObject({
      prompts: [{ kind: "text", text: "x", param: "prompt" }],
      maxTokens: undefined,
      echo: false,
      logprobs: null,
      temperature: 1,
      topP: 1,
      n: 1,
      stream: false,
    });
    expect(parseCompletionRequest({ model: "m", prompt: [1, 2] }).prompts).toEqual([
      { kind: "tokens", ids: [1, 2], param: "prompt" },
    ]);
    expect(parseCompletionRequest({ model: "m", prompt: ["a", [3]] }).prompts).toEqual([
      { kind: "text", text: "a", param: "prompt[0]" },
      { kind: "tokens", ids: [3], param: "prompt[1]" },
    ]);
    expect(parseCompletionRequest({ model: "m", prompt: "x", max_tokens: 0, echo: true, logprobs: 0 })).toMatchObject({
      maxTokens: 0,
      logprobs: 0,
    });
  });

  it.each([
    ["a missing prompt", {}, "prompt", /Missing required parameter: 'prompt'/],
    ["a number prompt", { prompt: 5 }, "prompt", /must be a string, an array of strings/],
    ["an empty prompt", { prompt: "" }, "prompt", /must not be empty/],
    ["an empty prompt list", { prompt: [] }, "prompt", /must not be empty/],
    ["an empty token list", { prompt: [[]] }, "prompt[0]", /must not be empty/],
    ["a fractional token id", { prompt: [1, 2.5] }, "prompt[1]", /token id \(an integer >= 0\), got number 2.5/],
    ["a negative token id", { prompt: [[1], [-1]] }, "prompt[1][0]", /token id/],
    ["a mixed list", { prompt: ["a", 3] }, "prompt[1]", /string or an array of token ids/],
    ["too many prompts", { prompt: Array(17).fill("a") }, "prompt", /at most 16 prompts/],
    ["max_tokens 0 without echo", { prompt: "a", max_tokens: 0 }, "max_tokens", /0 only with 'echo'/],
    ["negative max_tokens", { prompt: "a", max_tokens: -1, echo: true }, "max_tokens", /at least 0/],
    ["logprobs above 5", { prompt: "a", logprobs: 6 }, "logprobs", /at most 5/],
    ["logprobs true", { prompt: "a", logprobs: true }, "logprobs", /must be an integer/],
    ["echo a string", { prompt: "a", echo: "yes" }, "echo", /must be a boolean/],
    ["best_of above n", { prompt: "a", best_of: 3 }, "best_of", /not supported/],
    ["a suffix", { prompt: "a", suffix: "end" }, "suffix", /not supported/],
    ["n above the limit", { prompt: "a", n: 5 }, "n", /at most 4/],
    ["temperature above 2", { prompt: "a", temperature: 3 }, "temperature", /between 0 and 2/],
    ["an empty stop", { prompt: "a", stop: [""] }, "stop[0]", /must not be empty/],
    ["a model that is not a string", { model: 1, prompt: "a" }, "model", /non-empty string/],
  ])("rejects %s with a 400 naming the field", (_name, body, param, message) => {
    const e = rejects(body);
    expect(e.status).toBe(400);
    expect(e.param).toBe(param);
    expect(e.message).toMatch(message);
  });

  it.each([
    ["a token id outside the vocabulary", { prompt: [[1], [2, 261]] }, "prompt[1][1]", "invalid_token_id"],
    ["a prompt longer than the context", { prompt: "x".repeat(200) }, "prompt", "context_length_exceeded"],
    [
      "a completion past the context",
      { prompt: "x".repeat(100), max_tokens: 50 },
      "max_tokens",
      "context_length_exceeded",
    ],
    [
      "a logit_bias id outside the vocabulary",
      { prompt: "a", logit_bias: { "300": 5 } },
      "logit_bias.300",
      "invalid_token_id",
    ],
    ["an unknown model", { model: "gpt-3.5-turbo-instruct", prompt: "a" }, "model", "model_not_found"],
  ])("answers %s with a 4xx naming the field", async (_name, body, param, code) => {
    const { status, json } = await complete(body);
    expect(status).toBe(code === "model_not_found" ? 404 : 400);
    expect(json.error).toMatchObject({ type: "invalid_request_error", param, code });
  });

  it("scores a prompt that fills the whole context with max_tokens 0", async () => {
    const { status, json } = await complete({ prompt: "x".repeat(128), max_tokens: 0, echo: true, logprobs: 0 });
    expect(status).toBe(200);
    expect(json.choices[0].logprobs!.token_logprobs).toHaveLength(128);
    expect(json.choices[0].logprobs!.top_logprobs[1]).toEqual({ x: json.choices[0].logprobs!.token_logprobs[1] });
  });

  it("answers 405 to other methods", async () => {
    const res = await createApp({ models: () => models }).request("/v1/completions", {}, TEST_ENV);
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ error: { code: "method_not_allowed" } });
  });
});

import { describe, expect, it } from "vitest";
import { completionBudget } from "../../worker/openai/budget.js";
import { ApiError } from "../../worker/openai/errors.js";
import { parseChatRequest } from "../../worker/openai/schema.js";

const ok = { model: "m", messages: [{ role: "user", content: "hi" }] };

function rejects(body: unknown): ApiError {
  try {
    parseChatRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe("chat request validation", () => {
  it("fills OpenAI's defaults", () => {
    expect(parseChatRequest(ok)).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      maxTokens: undefined,
      temperature: 1,
      topP: 1,
      seed: undefined,
      stop: [],
      stream: false,
      includeUsage: false,
      n: 1,
      logprobs: false,
      topLogprobs: 0,
      logitBias: new Map(),
      presencePenalty: 0,
      frequencyPenalty: 0,
    });
  });

  it("accepts every supported field, text parts, developer role and nulls", () => {
    const r = parseChatRequest({
      model: "m",
      messages: [
        { role: "developer", content: "be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        },
        { role: "assistant", content: "c" },
      ],
      max_completion_tokens: 5,
      temperature: 0,
      top_p: 0.5,
      seed: 7,
      stop: "x",
      stream: true,
      stream_options: { include_usage: true },
      n: 1,
      user: "ignored",
      presence_penalty: 0,
      logprobs: false,
      response_format: { type: "text" },
      tools: null,
      tool_choice: "none",
      modalities: ["text"],
    });
    expect(r.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "ab" },
      { role: "assistant", content: "c" },
    ]);
    expect(r).toMatchObject({
      maxTokens: 5,
      temperature: 0,
      topP: 0.5,
      seed: 7,
      stop: ["x"],
      stream: true,
      includeUsage: true,
    });
  });

  it.each([
    ["not an object", [], null, /JSON object/],
    ["missing model", { messages: ok.messages }, "model", /provide a model/],
    ["model not a string", { ...ok, model: 3 }, "model", /non-empty string, got number 3/],
    ["missing messages", { model: "m" }, "messages", /Missing required parameter: 'messages'/],
    ["messages not an array", { model: "m", messages: "hi" }, "messages", /must be an array, got string "hi"/],
    ["no messages", { model: "m", messages: [] }, "messages", /at least one message/],
    ["message not an object", { model: "m", messages: ["hi"] }, "messages[0]", /must be an object/],
    ["missing role", { model: "m", messages: [{ content: "x" }] }, "messages[0].role", /Missing required/],
    [
      "unknown role",
      { model: "m", messages: [{ role: "robot", content: "x" }] },
      "messages[0].role",
      /system, developer, user, assistant/,
    ],
    ["tool role", { model: "m", messages: [{ role: "tool", content: "x" }] }, "messages[0].role", /no tools/],
    ["missing content", { model: "m", messages: [{ role: "user" }] }, "messages[0].content", /Missing required/],
    [
      "content number",
      { model: "m", messages: [{ role: "user", content: 5 }] },
      "messages[0].content",
      /string or an array of text parts/,
    ],
    [
      "image part",
      { model: "m", messages: [{ role: "user", content: [{ type: "image_url" }] }] },
      "messages[0].content[0].type",
      /only text parts/,
    ],
    ["max_tokens string", { ...ok, max_tokens: "10" }, "max_tokens", /must be an integer, got string "10"/],
    ["max_tokens fraction", { ...ok, max_tokens: 1.5 }, "max_tokens", /integer/],
    ["max_tokens zero", { ...ok, max_tokens: 0 }, "max_tokens", /at least 1/],
    ["max_tokens negative", { ...ok, max_completion_tokens: -3 }, "max_completion_tokens", /at least 1/],
    ["disagreeing maxima", { ...ok, max_tokens: 3, max_completion_tokens: 4 }, "max_tokens", /disagree/],
    ["temperature string", { ...ok, temperature: "hot" }, "temperature", /must be a number/],
    ["temperature too high", { ...ok, temperature: 2.5 }, "temperature", /between 0 and 2/],
    ["top_p too high", { ...ok, top_p: 1.5 }, "top_p", /between 0 and 1/],
    ["seed fraction", { ...ok, seed: 0.5 }, "seed", /integer/],
    ["stop number", { ...ok, stop: 3 }, "stop", /string or an array/],
    ["stop too many", { ...ok, stop: ["a", "b", "c", "d", "e"] }, "stop", /at most 4/],
    ["stop empty", { ...ok, stop: ["a", ""] }, "stop[1]", /must not be empty/],
    ["stream string", { ...ok, stream: "yes" }, "stream", /must be a boolean/],
    [
      "stream_options without stream",
      { ...ok, stream_options: { include_usage: true } },
      "stream_options",
      /only allowed when 'stream'/,
    ],
    ["n above the limit", { ...ok, n: 5 }, "n", /'n' must be at most 4, got 5/],
    ["n zero", { ...ok, n: 0 }, "n", /at least 1/],
    ["n fraction", { ...ok, n: 1.5 }, "n", /integer/],
    ["logprobs a string", { ...ok, logprobs: "yes" }, "logprobs", /must be a boolean/],
    ["top_logprobs above 20", { ...ok, logprobs: true, top_logprobs: 21 }, "top_logprobs", /at most 20/],
    ["top_logprobs negative", { ...ok, logprobs: true, top_logprobs: -1 }, "top_logprobs", /at least 0/],
    ["top_logprobs without logprobs", { ...ok, top_logprobs: 2 }, "top_logprobs", /needs 'logprobs' to be true/],
    ["logit_bias an array", { ...ok, logit_bias: [1] }, "logit_bias", /object mapping token ids/],
    ["logit_bias a word key", { ...ok, logit_bias: { a: 1 } }, "logit_bias", /"a" is not a token id/],
    ["logit_bias a negative key", { ...ok, logit_bias: { "-1": 1 } }, "logit_bias", /"-1" is not a token id/],
    ["logit_bias a padded key", { ...ok, logit_bias: { "01": 1 } }, "logit_bias", /"01" is not a token id/],
    ["logit_bias above 100", { ...ok, logit_bias: { "5": 101 } }, "logit_bias.5", /between -100 and 100/],
    ["logit_bias a string value", { ...ok, logit_bias: { "5": "1" } }, "logit_bias.5", /must be a number/],
    ["presence_penalty above 2", { ...ok, presence_penalty: 2.5 }, "presence_penalty", /between -2 and 2/],
    ["frequency_penalty below -2", { ...ok, frequency_penalty: -3 }, "frequency_penalty", /between -2 and 2/],
    ["frequency_penalty a string", { ...ok, frequency_penalty: "1" }, "frequency_penalty", /must be a number/],
    ["tool_choice", { ...ok, tool_choice: "auto" }, "tool_choice", /not supported/],
    ["audio output", { ...ok, audio: { voice: "x" } }, "audio", /not supported/],
    ["audio modality", { ...ok, modalities: ["text", "audio"] }, "modalities", /not supported/],
    ["predicted output", { ...ok, prediction: { type: "content" } }, "prediction", /not supported/],
    ["tools", { ...ok, tools: [{ type: "function" }] }, "tools", /not supported/],
    ["json mode", { ...ok, response_format: { type: "json_object" } }, "response_format", /not supported/],
  ])("rejects %s with a 400 naming the field", (_name, body, param, message) => {
    const e = rejects(body);
    expect(e.status).toBe(400);
    expect(e.type).toBe("invalid_request_error");
    expect(e.param).toBe(param);
    expect(e.message).toMatch(message);
    expect(e.toJSON()).toEqual({ error: { message: e.message, type: "invalid_request_error", param, code: e.code } });
  });

  it("accepts logprobs, top_logprobs, logit_bias, penalties and n within OpenAI's ranges", () => {
    const r = parseChatRequest({
      ...ok,
      logprobs: true,
      top_logprobs: 20,
      logit_bias: { "0": -100, "104": 100, "7": 0.5 },
      presence_penalty: -2,
      frequency_penalty: 2,
      n: 4,
    });
    expect(r).toMatchObject({ logprobs: true, topLogprobs: 20, presencePenalty: -2, frequencyPenalty: 2, n: 4 });
    expect([...r.logitBias]).toEqual([
      [0, -100],
      [7, 0.5],
      [104, 100],
    ]);
    expect(parseChatRequest({ ...ok, n: 6 }, { maxChoices: 6 }).n).toBe(6); // the limit is configurable
    expect(parseChatRequest({ ...ok, logprobs: true }).topLogprobs).toBe(0);
  });
});

describe("completion budget", () => {
  it("fills the context up to the server limit when max_tokens is absent", () => {
    expect(completionBudget({}, 10, 128, 1024)).toBe(118);
    expect(completionBudget({}, 10, 128, 50)).toBe(50);
    expect(completionBudget({ maxTokens: 118 }, 10, 128, 1024)).toBe(118);
  });

  it("refuses a prompt that fills the context, and max_tokens beyond it or the limit", () => {
    const err = (f: () => unknown): ApiError => {
      try {
        f();
      } catch (e) {
        return e as ApiError;
      }
      throw new Error("no error");
    };
    expect(err(() => completionBudget({}, 128, 128, 1024))).toMatchObject({
      status: 400,
      param: "messages",
      code: "context_length_exceeded",
    });
    expect(err(() => completionBudget({ maxTokens: 119 }, 10, 128, 1024))).toMatchObject({
      status: 400,
      param: "max_tokens",
      code: "context_length_exceeded",
    });
    expect(err(() => completionBudget({ maxTokens: 60 }, 10, 128, 50))).toMatchObject({
      status: 400,
      param: "max_tokens",
      code: "integer_above_max_value",
    });
  });
});

import { describe, expect, it } from "vitest";
import { completionBudget } from "../../worker/openai/chat.js";
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
    ["n > 1", { ...ok, n: 2 }, "n", /Only n=1/],
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

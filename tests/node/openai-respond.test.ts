import { describe, expect, it } from "vitest";
import { generateText, GPTInference } from "../../shared/inference/index.js";
import { decodeModel } from "../../shared/model/file.js";
import { ByteTokenizer, chatStopTokens, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { FALLBACK_REFUSAL, startResponse, type ResponsePlan } from "../../worker/openai/respond.js";
import { FunctionGuard, phraseGuard } from "../support/guards.js";
import { tinyModelFile } from "../support/s3.js";

const file = decodeModel(tinyModelFile(3));
const model = new GPTInference(file.config, file.weights);
const tokenizer = new ByteTokenizer();
const promptIds = encodeChatPrompt(tokenizer, [{ role: "user", content: "Reverse the word: garden" }]);
const base: ResponsePlan = {
  model,
  tokenizer,
  promptIds,
  maxTokens: 40,
  temperature: 0.7,
  topP: 1,
  seed: 11,
  stop: [],
};

function drain(plan: ResponsePlan) {
  const started = startResponse(plan);
  const pieces: string[] = [];
  for (;;) {
    const r = started.pieces.next();
    if (r.done) return { ...started, pieces, text: pieces.join(""), outcome: r.value };
    pieces.push(r.value.text);
  }
}

const reference = generateText(model, tokenizer, promptIds, {
  maxTokens: 40,
  temperature: 0.7,
  seed: 11,
  stopTokens: chatStopTokens(tokenizer),
});

describe("guarded responses", () => {
  it("unguarded: the text, finish reason and token count of plain generation", () => {
    const r = drain(base);
    expect(r.text).toBe(reference.text);
    expect(r.outcome).toEqual({ finishReason: reference.finishReason, completionTokens: reference.tokens.length });
    expect(r.pieces.every((p) => p.length > 0)).toBe(true);
  });

  it("holds back the prefix window and asks the guard before anything is released", () => {
    const order: string[] = [];
    const guard = new FunctionGuard(() => (order.push("inspect"), { action: "pass" }), 6);
    return guard.begin({ requestId: "r", promptText: "p", modelVersion: "v", tokenizer }).then((session) => {
      const started = startResponse({ ...base, session });
      order.push("started");
      const first = started.pieces.next();
      expect(order).toEqual(["inspect", "started"]);
      const [seen] = guard.log.inspected;
      expect(seen.tokens).toEqual(reference.tokens.slice(0, 6));
      expect(seen.logprobs).toHaveLength(6);
      seen.logprobs.forEach((lp, i) => expect(lp).toBeCloseTo(reference.logprobs[i], 5));
      expect(seen.text).toBe(tokenizer.decode(seen.tokens));
      expect(seen.finished).toBe(false);
      let text = first.done ? "" : first.value.text;
      for (let r = started.pieces.next(); !r.done; r = started.pieces.next()) text += r.value.text;
      expect(text).toBe(reference.text); // "pass" changes nothing
    });
  });

  it("marks the prefix finished when the response ends inside the window", async () => {
    const guard = new FunctionGuard(() => ({ action: "pass" }), 16);
    const session = await guard.begin({ requestId: "r", promptText: "p", modelVersion: "v", tokenizer });
    const r = drain({ ...base, maxTokens: 5, session });
    expect(guard.log.inspected[0].tokens).toHaveLength(5);
    expect(guard.log.inspected[0].finished).toBe(true);
    expect(r.outcome).toEqual({ finishReason: "length", completionTokens: 5 });
  });

  it("redact strips the first N characters", async () => {
    const session = await new FunctionGuard(() => ({ action: "redact", chars: 7 })).begin({
      requestId: "r",
      promptText: "p",
      modelVersion: "v",
      tokenizer,
    });
    const r = drain({ ...base, session });
    expect(r.text).toBe(reference.text.slice(7));
    expect(r.decision).toEqual({ action: "redact", chars: 7 });
  });

  it("regenerate bans the first tokens (with the session's own mask) and inspects the new prefix", async () => {
    const banEverywhere = reference.tokens[3];
    const guard = new FunctionGuard(
      (prefix, _req, call) =>
        call === 0 ? { action: "regenerate", bannedFirstTokens: [prefix.tokens[0]] } : { action: "pass" },
      4,
      (logits) => {
        logits[banEverywhere] = -Infinity;
      },
    );
    const session = await guard.begin({ requestId: "r", promptText: "p", modelVersion: "v", tokenizer });
    const r = drain({ ...base, session });
    expect(r.attempts).toBe(2);
    expect(guard.log.inspected).toHaveLength(2);
    const [first, second] = guard.log.inspected;
    expect(second.tokens[0]).not.toBe(first.tokens[0]);
    expect(tokenizer.encode(r.text)).not.toContain(banEverywhere);
    expect(r.decision).toEqual({ action: "pass" });
  });

  it("serves the fallback refusal when every attempt must be regenerated", async () => {
    const guard = new FunctionGuard((prefix) => ({ action: "regenerate", bannedFirstTokens: [prefix.tokens[0]] }));
    const session = await guard.begin({ requestId: "r", promptText: "p", modelVersion: "v", tokenizer });
    const r = drain({ ...base, session, maxAttempts: 3 });
    expect(guard.log.inspected).toHaveLength(3);
    expect(new Set(guard.log.inspected.map((p) => p.tokens[0])).size).toBe(3);
    expect(r.text).toBe(FALLBACK_REFUSAL);
    expect(r.outcome.finishReason).toBe("content_filter");
  });

  it("block serves the refusal and none of the model's text", async () => {
    const session = await new FunctionGuard(() => ({ action: "block", message: "No." })).begin({
      requestId: "r",
      promptText: "p",
      modelVersion: "v",
      tokenizer,
    });
    const r = drain({ ...base, session });
    expect(r.pieces).toEqual(["No."]);
    expect(r.outcome).toEqual({ finishReason: "content_filter", completionTokens: 4 });
  });

  it("a phrase guard blocks only the responses whose prefix contains its phrase", async () => {
    const phrase = tokenizer.decode(reference.tokens.slice(0, 8)).slice(1, 3);
    const begin = (g: ReturnType<typeof phraseGuard>) =>
      g.begin({ requestId: "r", promptText: "p", modelVersion: "v", tokenizer });
    expect(drain({ ...base, session: await begin(phraseGuard(phrase, "Blocked.")) }).text).toBe("Blocked.");
    expect(drain({ ...base, session: await begin(phraseGuard("\u0000never\u0000", "Blocked.")) }).text).toBe(
      reference.text,
    );
  });

  it("ends at a stop string (inside or after the window) without emitting it", async () => {
    const stop = reference.text.slice(10, 13);
    expect(stop).toHaveLength(3);
    const expected = reference.text.slice(0, reference.text.indexOf(stop));
    expect(drain({ ...base, stop: [stop] })).toMatchObject({ text: expected, outcome: { finishReason: "stop" } });
    const session = await new FunctionGuard(() => ({ action: "pass" }), 16).begin({
      requestId: "r",
      promptText: "p",
      modelVersion: "v",
      tokenizer,
    });
    expect(drain({ ...base, stop: [stop], session })).toMatchObject({
      text: expected,
      outcome: { finishReason: "stop" },
    });
  });
});

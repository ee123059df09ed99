/**
 * The served model through `wrangler dev` as evaluation harnesses and the official
 * `openai` client use it. A small multiple-choice evaluation is run the way
 * lm-evaluation-harness's local-completions model runs one ({prompt, temperature: 0,
 * max_tokens: 1, logprobs: 1, echo: true, seed}, prompts as text and as token-id arrays,
 * loglikelihood = the sum of token_logprobs over the continuation, is_greedy from
 * top_logprobs), and its scores must equal those computed in-process with shared/inference.
 * Then the openai client reads logprobs from chat (streamed too) and from completions.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, GPTInference, logSumExp, scoreTokens, type GenerateOptions } from "../../shared/inference/index.js";
import { decodeModel } from "../../shared/model/file.js";
import { ByteTokenizer, chatStopTokens, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { ANIMAL_SOUNDS, CAPITALS } from "../../trainer/data/facts.js";
import { tokenText } from "../../worker/openai/token-text.js";
import { putManifest, S3RVER_KEY, startLocalS3, uploadModel, type LocalS3 } from "../support/s3.js";
import { startDevWorker, type DevWorker } from "../support/wrangler.js";

const MODEL = "sande-demo"; // wrangler.toml's MODEL_NAME
const MODEL_FILE = resolve(import.meta.dirname, "../../models/demo-base.safetensors");
const bytes = new Uint8Array(readFileSync(MODEL_FILE)); // committed; a missing file fails here, loudly
const file = decodeModel(bytes);
const model = new GPTInference(file.config, file.weights);
const tokenizer = new ByteTokenizer();

let s3: LocalS3;
let worker: DevWorker;
let client: OpenAI;

beforeAll(async () => {
  s3 = await startLocalS3();
  const v1 = await uploadModel(s3.bucket, bytes.slice(), "demo-base", file.config);
  await putManifest(s3.bucket, [v1]);
  worker = await startDevWorker({
    script: "tests/support/guarded-worker.ts", // the real app with the marker test guard (4 tokens held back)
    vars: { S3_ENDPOINT: s3.endpoint, S3_SECRET_ACCESS_KEY: S3RVER_KEY, MODEL_CHECK_INTERVAL_S: "60" },
  });
  client = new OpenAI({
    baseURL: `${worker.url}/v1`,
    apiKey: "unused",
    maxRetries: 0,
    timeout: 60_000,
    fetch: freshConnection,
  });
}, 180_000);

/**
 * The client's fetch on a connection of its own per request. The in-process scoring between requests keeps this
 * thread busy for seconds, workerd closes the idle kept-alive socket meanwhile, and the next request (with no
 * retries here) would fail on it with "other side closed".
 */
const freshConnection: NonNullable<ConstructorParameters<typeof OpenAI>[0]>["fetch"] = (url, init) => {
  const headers = new Headers(init?.headers as HeadersInit | undefined);
  headers.set("connection", "close");
  return fetch(url as string | URL, { ...(init as RequestInit), headers });
};

afterAll(async () => {
  await worker?.stop();
  await s3?.dispose();
});

// --- A multiple-choice task: three candidate answers per question, the first one right. ---

interface Question {
  user: string;
  choices: string[];
  gold: number;
}

function questions(): Question[] {
  const capitals = [...CAPITALS.values()];
  const sounds = [...ANIMAL_SOUNDS.values()];
  const out: Question[] = [];
  [...CAPITALS].slice(0, 4).forEach(([country, capital], i) =>
    out.push({
      user: `What is the capital of ${country}?`,
      choices: [capital, capitals[i + 5], capitals[i + 9]],
      gold: 0,
    }),
  );
  [...ANIMAL_SOUNDS].slice(0, 4).forEach(([animal, sound], i) =>
    out.push({
      user: `What sound does a ${animal} make?`,
      choices: [sound, sounds[i + 4], sounds[(i + 8) % sounds.length]],
      gold: 0,
    }),
  );
  return out;
}

/** One loglikelihood request as lm-eval builds it: context and continuation, as text or as token ids. */
interface Request {
  question: number;
  choice: number;
  prompt: string | number[];
  /** Tokens of the context (lm-eval's ctxlen). */
  ctxlen: number;
  /** All tokens, context then continuation. */
  ids: number[];
}

function requests(mode: "text" | "tokens"): Request[] {
  return questions().flatMap((q, question) =>
    q.choices.map((answer, choice) => {
      // Text: plain text (a harness's own prompt format); tokens: the model's chat template as ids.
      const context =
        mode === "text"
          ? tokenizer.encode(`${q.user} Answer:`)
          : encodeChatPrompt(tokenizer, [{ role: "user", content: q.user }]);
      const ids = [...context, ...tokenizer.encode(mode === "text" ? ` ${answer}` : answer)];
      return {
        question,
        choice,
        prompt: mode === "text" ? tokenizer.decode(ids) : ids,
        ctxlen: context.length,
        ids,
      };
    }),
  );
}

/** Prompts per request in the batched mode (lm-eval's --batch_size; the server takes up to 16). */
const BATCH = 12;

/** lm-eval's local-completions payload for loglikelihood requests. */
function payload(prompt: string | number[] | number[][], seed = 1234) {
  return { model: MODEL, prompt, temperature: 0, max_tokens: 1, logprobs: 1, echo: true, seed };
}

interface LegacyChoice {
  index: number;
  logprobs: { token_logprobs: (number | null)[]; top_logprobs: (Record<string, number> | null)[]; tokens: string[] };
}

/** lm-eval's parse_logprobs: sum of token_logprobs[ctxlen:-1], greedy when each equals the best of its top_logprobs. */
function parseLogprobs(choices: LegacyChoice[], ctxlens: number[]): { loglik: number; greedy: boolean }[] {
  return [...choices]
    .sort((a, b) => a.index - b.index)
    .map((choice, i) => {
      const lps = choice.logprobs.token_logprobs.slice(ctxlens[i], -1) as number[];
      const tops = choice.logprobs.top_logprobs.slice(ctxlens[i], -1) as Record<string, number>[];
      return {
        loglik: lps.reduce((a, b) => a + b, 0),
        greedy: lps.every((lp, j) => lp === Math.max(...Object.values(tops[j]))),
      };
    });
}

async function postCompletions(body: object): Promise<{ choices: LegacyChoice[] }> {
  const res = await fetch(`${worker.url}/v1/completions`, { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as { choices: LegacyChoice[] };
}

/** The same scores in-process: shared/inference's scoreTokens over context + continuation. */
function inProcess(r: Request): { loglik: number; greedy: boolean } {
  const scored = scoreTokens(model, r.ids, 1).slice(r.ctxlen);
  return {
    loglik: scored.reduce((a, s) => a + s.logprob!, 0),
    greedy: scored.every((s) => s.logprob === s.top![0].logprob),
  };
}

/** acc and acc_norm (by continuation length in bytes), as lm-eval's multiple_choice output type computes them. */
function metrics(reqs: Request[], scores: { loglik: number }[]): { acc: number; accNorm: number } {
  const qs = questions();
  let acc = 0;
  let accNorm = 0;
  qs.forEach((q, qi) => {
    const mine = reqs.map((r, i) => ({ r, s: scores[i] })).filter((x) => x.r.question === qi);
    const best = (f: (x: (typeof mine)[number]) => number) => mine.reduce((a, b) => (f(b) > f(a) ? b : a)).r.choice;
    if (best((x) => x.s.loglik) === q.gold) acc++;
    if (best((x) => x.s.loglik / (x.r.ids.length - x.r.ctxlen)) === q.gold) accNorm++;
  });
  return { acc: acc / qs.length, accNorm: accNorm / qs.length };
}

describe("a multiple-choice evaluation as lm-evaluation-harness runs it, through wrangler dev", () => {
  it("text prompts, one request each: the same loglikelihoods, greedy flags and accuracy as in-process", async () => {
    const reqs = requests("text");
    const served = [];
    for (const r of reqs)
      served.push(...parseLogprobs((await postCompletions(payload(r.prompt as string))).choices, [r.ctxlen]));
    const local = reqs.map(inProcess);
    expect(served).toEqual(local);
    expect(metrics(reqs, served)).toEqual(metrics(reqs, local));
    console.log(
      `harness eval, text prompts: ${JSON.stringify(metrics(reqs, served))} over ${questions().length} questions`,
    );
  });

  it("token-id prompts in batched requests: the same scores, and a KV-cached forward pass agrees", async () => {
    const reqs = requests("tokens");
    const served: { loglik: number; greedy: boolean }[] = [];
    for (let at = 0; at < reqs.length; at += BATCH) {
      const batch = reqs.slice(at, at + BATCH);
      const out = await postCompletions(payload(batch.map((r) => r.ids)));
      expect(out.choices.map((c) => c.index)).toEqual(batch.map((_, i) => i));
      served.push(
        ...parseLogprobs(
          out.choices,
          batch.map((r) => r.ctxlen),
        ),
      );
    }
    expect(served).toEqual(reqs.map(inProcess));
    // Independently: decode token by token with the KV cache and sum log-softmax over the continuation.
    reqs.forEach((r, i) => {
      const cache = model.createCache();
      let sum = 0;
      for (let t = 0; t < r.ids.length - 1; t++) {
        const logits = model.forward([r.ids[t]], cache);
        if (t + 1 >= r.ctxlen) sum += logits[r.ids[t + 1]] - logSumExp(logits);
      }
      expect(Math.abs(served[i].loglik - sum)).toBeLessThan(1e-4);
    });
    const m = metrics(reqs, served);
    console.log(`harness eval, chat template as token ids: ${JSON.stringify(m)} over ${questions().length} questions`);
    expect(m.acc).toBeGreaterThan(1 / 3); // the demo base knows some of these; chance is 1/3
  });
});

describe("the official openai client reads logprobs", () => {
  const messages = [{ role: "user" as const, content: "What is the capital of France?" }];
  const promptIds = encodeChatPrompt(tokenizer, messages);

  function reference(ids: readonly number[], options: Omit<GenerateOptions, "stopTokens">) {
    return [...generate(model, ids, { ...options, stopTokens: chatStopTokens(tokenizer) })];
  }

  it("from chat completions, JSON and streamed, with n choices", async () => {
    const params = {
      model: MODEL,
      messages,
      max_tokens: 16,
      temperature: 0.7,
      seed: 3,
      logprobs: true,
      top_logprobs: 3,
    };
    const answer = await client.chat.completions.create({ ...params, n: 2 });
    expect(answer.choices).toHaveLength(2);
    answer.choices.forEach((choice, i) => {
      const want = reference(promptIds, { maxTokens: 16, temperature: 0.7, seed: 3 + i, topLogprobs: 3 });
      const content = choice.logprobs!.content!;
      expect(choice.message.content).toBe(tokenizer.decode(want.map((s) => s.token)));
      expect(content.map((c) => [c.token, c.logprob, c.bytes])).toEqual(
        want.map((s) => [tokenText(tokenizer, s.token).token, s.logprob, tokenText(tokenizer, s.token).bytes]),
      );
      expect(content.map((c) => c.top_logprobs.map((t) => t.token))).toEqual(
        want.map((s) => s.top!.map((t) => tokenText(tokenizer, t.token).token)),
      );
    });
    const stream = await client.chat.completions.create({ ...params, stream: true });
    const streamed = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
    expect(streamed).toEqual(answer.choices[0].logprobs!.content);
  });

  it("from legacy completions: echo, token_logprobs, top_logprobs and text_offset", async () => {
    const prompt = "The capital of France is";
    const ids = tokenizer.encode(prompt);
    const out = await client.completions.create({
      model: MODEL,
      prompt,
      max_tokens: 5,
      echo: true,
      logprobs: 2,
      temperature: 0,
    });
    const [choice] = out.choices;
    const want = reference(ids, { maxTokens: 5, temperature: 0, topLogprobs: 2 });
    expect(choice.text).toBe(prompt + tokenizer.decode(want.map((s) => s.token)));
    const lp = choice.logprobs!;
    expect(lp.tokens).toEqual([...ids, ...want.map((s) => s.token)].map((id) => tokenText(tokenizer, id).token));
    expect(lp.token_logprobs).toEqual([
      ...scoreTokens(model, ids, 0).map((s) => s.logprob),
      ...want.map((s) => s.logprob),
    ]);
    expect(lp.top_logprobs![0]).toBeNull();
    expect(lp.text_offset).toEqual([...Array(lp.tokens!.length).keys()]); // ASCII: one character per token
    // Greedy: every completion token is its position's favourite.
    want.forEach((s, i) => expect(Math.max(...Object.values(lp.top_logprobs![ids.length + i]!))).toBe(s.logprob));
  });

  it("and a guarded completion echoes nothing the guard withheld", async () => {
    const prompt = "[block] The capital of France is";
    const out = await client.completions.create({ model: MODEL, prompt, max_tokens: 8, echo: true, logprobs: 1 });
    expect(out.choices[0]).toMatchObject({
      text: `${prompt}Refused by the test guard.`,
      finish_reason: "content_filter",
    });
    expect(out.choices[0].logprobs!.tokens).toHaveLength(tokenizer.encode(prompt).length);
  });
});

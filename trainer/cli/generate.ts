import { createInterface } from "node:readline";
import { generate, GPTInference } from "../../shared/inference/index.js";
import { ByteTokenizer, chatStopTokens, encodeChatPrompt, type ChatMessage } from "../../shared/tokenizer/index.js";
import { readModelFile } from "../io/model-file.js";
import { num, parseCommand, str, UsageError } from "./args.js";

export const GENERATE_USAGE = `sande generate --model MODEL --prompt TEXT [options]   one chat answer
  --system TEXT          system message
  --temperature X        0 = greedy (default 0)
  --top-p X              nucleus sampling (default 1)
  --seed N               sampling seed (default 0)
  --max-tokens N         (default 64)
  --logprobs             print each token with its log-probability`;

export const CHAT_USAGE = `sande chat [--model MODEL] [generate's sampling options]   interactive chat (one line a turn)`;

const generateFlags = {
  model: { type: "string" },
  system: { type: "string" },
  temperature: { type: "string" },
  "top-p": { type: "string" },
  seed: { type: "string" },
  "max-tokens": { type: "string" },
  logprobs: { type: "boolean" },
} as const;

/** `sande generate`: the model's answer to one prompt, streamed as it is produced. */
export async function generateCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, { ...generateFlags, prompt: { type: "string" } });
  const prompt = str(values, "prompt");
  const chat = await openChat(values);
  const messages: ChatMessage[] = [...chat.system, { role: "user", content: prompt }];
  chat.reply(messages, Boolean(values.logprobs));
}

/** `sande chat`: a multi-turn conversation on stdin/stdout. */
export async function chatCommand(argv: string[], defaultModel: string): Promise<void> {
  const { values } = parseCommand(argv, generateFlags);
  const chat = await openChat({ ...values, model: values.model ?? defaultModel });
  const history: ChatMessage[] = [...chat.system];
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: "you> " });
  console.log(`model ${chat.path} — type a message, Ctrl-D to quit. Try: "Reverse the word: garden"`);
  rl.prompt();
  for await (const line of rl) {
    if (line.trim()) {
      history.push({ role: "user", content: line });
      process.stdout.write("model> ");
      history.push({ role: "assistant", content: chat.reply(history, Boolean(values.logprobs)) });
      trimHistory(history, chat.contextTokens);
    }
    rl.prompt();
  }
}

async function openChat(values: Record<string, unknown>) {
  const path = str(values, "model");
  const temperature = num(values, "temperature", 0, { min: 0 });
  const topP = num(values, "top-p", 1, { min: Number.MIN_VALUE, max: 1 });
  const seed = num(values, "seed", 0, { min: 0, integer: true });
  const maxTokens = num(values, "max-tokens", 64, { min: 1, integer: true });
  const file = await readModelFile(path);
  const model = new GPTInference(file.config, file.weights);
  const tokenizer = new ByteTokenizer();
  const system: ChatMessage[] = values.system === undefined ? [] : [{ role: "system", content: str(values, "system") }];
  const reply = (messages: ChatMessage[], showLogprobs: boolean): string => {
    const promptIds = encodeChatPrompt(tokenizer, messages);
    if (promptIds.length >= file.config.n_positions)
      throw new UsageError(
        `the conversation is ${promptIds.length} tokens, the model's context is ${file.config.n_positions}`,
      );
    const budget = Math.min(maxTokens, file.config.n_positions - promptIds.length);
    const ids: number[] = [];
    const decoder = new TextDecoder();
    for (const t of generate(model, promptIds, {
      maxTokens: budget,
      temperature,
      topP,
      seed,
      stopTokens: chatStopTokens(tokenizer),
    })) {
      ids.push(t.token);
      if (showLogprobs)
        process.stdout.write(`${JSON.stringify(tokenizer.tokenText(t.token))}\t${t.logprob.toFixed(4)}\n`);
      else process.stdout.write(decoder.decode(tokenizer.bytes([t.token]), { stream: true }));
    }
    if (!showLogprobs) process.stdout.write(decoder.decode() + "\n");
    return tokenizer.decode(ids);
  };
  return { path, system, reply, contextTokens: file.config.n_positions };
}

/** Drops the oldest exchanges once the conversation nears the context size (a byte a token, roughly). */
function trimHistory(history: ChatMessage[], contextTokens: number): void {
  const size = () => history.reduce((n, m) => n + new TextEncoder().encode(m.content).length + 2, 1);
  while (history.length > 2 && size() > contextTokens * 0.6) history.splice(history[0].role === "system" ? 1 : 0, 2);
}

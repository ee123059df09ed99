/** The span gate (worker/openai/span-gate.ts) and ServedText over it: withheld ranges anywhere, holds, cuts, tokens. */
import { describe, expect, it } from "vitest";
import { compileSpans, SpanScanner } from "../../shared/guard/index.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import type { SpanWatch } from "../../worker/guard/contract.js";
import { SpanGate } from "../../worker/openai/span-gate.js";
import { ServedText } from "../../worker/openai/served-text.js";

const tokenizer = new ByteTokenizer();

/** A watch over real spans: "evil.example" is redacted, "you are stupid" cuts. */
function watch(): SpanWatch {
  const set = compileSpans([
    { text: "evil.example", value: "redact" as const },
    { text: "you are stupid", value: "cut" as const },
  ]);
  const scanner = new SpanScanner(set);
  const matches = (hits: ReturnType<typeof scanner.push>) =>
    hits.map((h) => ({ start: h.start, end: h.end, action: h.span.value }));
  return {
    push: (t) => matches(scanner.push(t)),
    end: () => matches(scanner.end()),
    get safe() {
      return scanner.safe;
    },
  };
}

/** Serves `text` byte token by byte token; the served text, the tokens listed (as text) and whether it was cut. */
function serve(text: string, removals: [number, number][] = [], stops: string[] = []) {
  const out = new ServedText<{ token: number }>(tokenizer, { removals, spans: watch() }, stops);
  let served = "";
  const listed: number[] = [];
  for (const token of tokenizer.encode(text)) {
    const piece = out.push({ token });
    if (piece) {
      served += piece.text;
      for (const t of piece.tokens) {
        expect(served.slice(t.offset, t.offset + 1)).toBe(String.fromCharCode(t.item.token));
        listed.push(t.item.token);
      }
    }
    if (out.cut || out.stopped) break;
  }
  const tail = out.cut || out.stopped ? null : out.end();
  if (tail) {
    served += tail.text;
    listed.push(...tail.tokens.map((t) => t.item.token));
  }
  return { served, listed: tokenizer.decode(listed), cut: out.cut };
}

describe("span gate", () => {
  it("removes a span wherever it sits, and lists no token of it", () => {
    const r = serve("Go to evil.example today, or evil.example tomorrow.");
    expect(r).toEqual({ served: "Go to  today, or  tomorrow.", listed: "Go to  today, or  tomorrow.", cut: false });
  });

  it("cuts before a span, nothing of it sent, and stops there", () => {
    expect(serve("Fine. Then: You are stupid and more")).toEqual({
      served: "Fine. Then: ",
      listed: "Fine. Then: ",
      cut: true,
    });
  });

  it("applies a guard's ranges (a redacted window) with the spans and stop strings", () => {
    expect(serve("HEAD rest evil.example END tail", [[0, 5]], ["END"]).served).toBe("rest  ");
  });

  it("holds back only what may become a span", () => {
    const gate = new SpanGate([], watch());
    expect(gate.push("Hello ").map((s) => s.text)).toEqual(["Hello "]);
    expect(gate.push("you ar")).toEqual([]); // may become "you are stupid"
    expect(gate.push("e nice.")).toEqual([{ text: "you are nice.", from: 6 }]);
  });

  it("never leaves half a surrogate pair when a range ends inside one", () => {
    const gate = new SpanGate([[0, 1]], undefined);
    expect(gate.push("😀ok").map((s) => s.text)).toEqual(["ok"]);
  });
});

import { describe, expect, it } from "vitest";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { TextSkipper, TokenTextDecoder } from "../../worker/openai/decode.js";
import { StopMatcher } from "../../worker/openai/stop.js";
import { eventStream, SSE_DONE, sseData } from "../../worker/openai/stream.js";

function run(stops: string[], pieces: string[]): { out: string[]; stopped: boolean } {
  const m = new StopMatcher(stops);
  const out: string[] = [];
  for (const p of pieces) {
    out.push(m.push(p));
    if (m.stopped) return { out, stopped: true };
  }
  out.push(m.flush());
  return { out, stopped: false };
}

describe("stop strings", () => {
  it("passes text through when there are none", () => {
    expect(run([], ["ab", "c"]).out.join("")).toBe("abc");
  });

  it("cuts before a stop string split across pieces and never emits it", () => {
    const { out, stopped } = run(["END"], ["hello E", "N", "D tail"]);
    expect(stopped).toBe(true);
    expect(out.join("")).toBe("hello ");
    expect(out).toEqual(["hello ", "", ""]); // "E" and "N" were held back, not emitted then retracted
  });

  it("releases held text that did not become a stop string", () => {
    expect(run(["END"], ["a E", "Nx", "y"])).toEqual({ out: ["a ", "ENx", "y", ""], stopped: false });
    expect(run(["END"], ["a E"]).out.join("")).toBe("a E"); // flushed at the end
  });

  it("stops at the earliest of several stop strings, overlapping ones included", () => {
    expect(run(["bc", "abcd"], ["xab", "cd"]).out.join("")).toBe("x"); // "abcd" starts first
    expect(run(["aab"], ["a", "a", "a", "b"]).out.join("")).toBe("a");
    expect(run(["\n\n", "###"], ["one\n", "two##", "#"]).out.join("")).toBe("one\ntwo");
  });
});

describe("incremental decoding", () => {
  const tok = new ByteTokenizer();

  it("matches decode() for UTF-8 split across tokens and special tokens", () => {
    const ids = [...tok.encode("Größe 東京 🙂"), tok.special.user, 0xe6, ...tok.encode("x")];
    const d = new TokenTextDecoder(tok);
    const pieces = ids.map((id) => d.push(id));
    pieces.push(d.flush());
    expect(pieces.join("")).toBe(tok.decode(ids));
    expect(pieces.every((p) => !p.includes("\ufffd") || p.startsWith("\ufffd"))).toBe(true);
    expect(pieces.slice(0, 3)).toEqual(["G", "r", ""]); // "ö" is two bytes: nothing until the second
  });

  it("skips the first N code units without splitting a surrogate pair", () => {
    const s = new TextSkipper(4);
    expect(["ab", "c", "def"].map((p) => s.push(p)).join("")).toBe("ef");
    const t = new TextSkipper(1);
    expect(t.push("🙂x")).toBe("x");
  });
});

describe("server-sent events", () => {
  it("frames JSON events and pulls the source until it ends, then closes it once", async () => {
    const events = [sseData({ a: 1 }), "", sseData({ b: "x\ny" }) + SSE_DONE];
    let closed: boolean[] = [];
    const stream = eventStream({
      next: () => (events.length ? events.shift()! : null),
      close: (cancelled) => void closed.push(cancelled),
      fail: () => "",
    });
    const text = await new Response(stream).text();
    expect(text).toBe('data: {"a":1}\n\ndata: {"b":"x\\ny"}\n\ndata: [DONE]\n\n');
    expect(closed).toEqual([false]);

    closed = [];
    const failing = eventStream({
      next: () => {
        throw new Error("boom");
      },
      close: (cancelled) => void closed.push(cancelled),
      fail: (e) => sseData({ error: { message: (e as Error).message } }),
    });
    expect(await new Response(failing).text()).toBe('data: {"error":{"message":"boom"}}\n\n');
    expect(closed).toEqual([false]);
  });

  it("tells the source when the client cancels", async () => {
    const closed: boolean[] = [];
    const stream = eventStream({ next: () => "data: x\n\n", close: (c) => void closed.push(c), fail: () => "" });
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel();
    expect(closed).toEqual([true]);
  });
});

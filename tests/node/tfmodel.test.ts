import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GPTInference } from "../../shared/inference/index.js";
import { preset, tensorShapes } from "../../shared/model/config.js";
import { decodeModel, encodeModel } from "../../shared/model/file.js";
import { mulberry32 } from "../../shared/model/weights.js";
import { TfGPT, type TokenBatch } from "../../trainer/model/gpt.js";
import { selectBackend } from "../../trainer/tf/backend.js";
import { kernelsAvailable } from "../../trainer/tf/kernels.js";
import { AdamW } from "../../trainer/train/optim.js";
import { randomWeights } from "../support/random-weights.js";

function randomTokens(n: number, seed: number, vocab: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => Math.floor(rand() * vocab));
}

function batchOf(B: number, T: number, seed: number, vocab: number, maskEvery = 0): TokenBatch {
  const toks = randomTokens(B * (T + 1), seed, vocab);
  const tokens: number[] = [],
    targets: number[] = [],
    mask: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      tokens.push(toks[b * (T + 1) + t]);
      targets.push(toks[b * (T + 1) + t + 1]);
      mask.push(maskEvery && (b * T + t) % maskEvery === 0 ? 0 : 1);
    }
  }
  return {
    tokens: tf.tensor2d(tokens, [B, T], "int32"),
    targets: tf.tensor2d(targets, [B, T], "int32"),
    mask: tf.tensor2d(mask, [B, T]),
  };
}

function disposeBatch(b: TokenBatch): void {
  tf.dispose([b.tokens, b.targets, b.mask]);
}

/** ‖a − b‖ / ‖b‖ over all elements. */
function relErr(a: Float32Array | number[], b: Float32Array | number[]): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** Runs `f` with `backend` active, then returns to the previous backend. Tensors move between backends on demand. */
async function on<T>(backend: "cpu" | "wasm", f: () => T): Promise<T> {
  const prev = tf.getBackend();
  await selectBackend(backend);
  try {
    return f();
  } finally {
    await tf.setBackend(prev);
  }
}

const tiny = preset("tiny");

beforeAll(async () => {
  await selectBackend("wasm");
  await selectBackend("cpu");
});

describe("TfGPT matches the pure-TS inference", () => {
  const weights = randomWeights(tiny, 1);
  const reference = new GPTInference(tiny, weights);
  const B = 2,
    T = 40;
  const seqs = [randomTokens(T, 11, tiny.vocab_size), randomTokens(T, 12, tiny.vocab_size)];
  const expected = seqs.map((s) => reference.forwardAll(s));

  for (const backend of ["wasm", "cpu"] as const) {
    for (const naive of [false, true]) {
      it(`${backend}, ${naive ? "naive" : "fused"} ops: logits of every position within 1e-4`, async () => {
        await on(backend, () => {
          const model = TfGPT.fromWeights(tiny, weights, { naive });
          const tokens = tf.tensor2d(seqs.flat(), [B, T], "int32");
          const logits = model.logits(tokens);
          expect(logits.shape).toEqual([B, T, tiny.vocab_size]);
          const got = logits.dataSync();
          let worst = 0,
            scale = 0;
          for (let b = 0; b < B; b++) {
            for (let t = 0; t < T; t++) {
              const want = expected[b][t];
              const off = (b * T + t) * tiny.vocab_size;
              for (let v = 0; v < want.length; v++) {
                worst = Math.max(worst, Math.abs(got[off + v] - want[v]));
                scale = Math.max(scale, Math.abs(want[v]));
              }
            }
          }
          expect(scale).toBeGreaterThan(1); // the weights make the check meaningful
          expect(worst).toBeLessThan(1e-4 * Math.max(1, scale));
          tf.dispose([tokens, logits]);
          model.dispose();
        });
      });
    }
  }
});

describe("fused kernels", () => {
  it("run on wasm (the wasm internals they drive are present) and are skipped with { naive: true }", async () => {
    await selectBackend("wasm");
    expect(kernelsAvailable()).toBe(true);
    const kernelsOf = async (naive: boolean): Promise<string[]> => {
      const model = TfGPT.init(tiny, 0, { naive });
      const tokens = tf.tensor2d([[1, 2, 3]], [1, 3], "int32");
      const info = await tf.profile(() => model.logits(tokens));
      tf.dispose(tokens);
      model.dispose();
      return info.kernels.map((k) => k.name);
    };
    expect(await kernelsOf(false)).toEqual(
      expect.arrayContaining(["SandeLayerNorm", "SandeAttention", "_FusedMatMul"]),
    );
    expect(await kernelsOf(true)).not.toContain("SandeAttention");
  });
});

describe("TfGPT weights", () => {
  it("round-trips through safetensors: fromWeights → toWeights → encodeModel → decodeModel", async () => {
    await on("wasm", () => {
      const weights = randomWeights(tiny, 2);
      const model = TfGPT.fromWeights(tiny, weights);
      const back = decodeModel(
        encodeModel({ config: tiny, tokenizer: "byte", weights: model.toWeights(), metadata: { made_by: "test" } }),
      );
      expect(back.config).toEqual(tiny);
      expect(back.metadata).toEqual({ made_by: "test" });
      expect([...back.weights.keys()].sort()).toEqual([...weights.keys()].sort());
      for (const [name, t] of weights) {
        expect(back.weights.get(name)!.shape).toEqual(t.shape);
        expect(Buffer.from(back.weights.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
      }
      model.dispose();
    });
  });

  it("init(config, seed) holds initWeights' values and rejects mismatched weights", async () => {
    await on("cpu", () => {
      const model = TfGPT.init(tiny, 3);
      const w = model.toWeights();
      expect(w.get("h.0.ln_1.weight")!.data.every((x) => x === 1)).toBe(true);
      model.dispose();
      const bad = randomWeights(tiny, 1);
      bad.delete("ln_f.bias");
      expect(() => TfGPT.fromWeights(tiny, bad)).toThrow(/missing tensor ln_f.bias/);
    });
  });
});

describe("hand-written gradients equal tfjs autodiff", () => {
  // Smaller std than the parity test keeps softmaxes out of saturation, so gradients are not ~0.
  const weights = randomWeights(tiny, 4, 0.1);
  const B = 3,
    T = 17; // odd sizes catch layout bugs

  async function grads(
    backend: "cpu" | "wasm",
    naive: boolean,
    batch: TokenBatch,
  ): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
    return on(backend, () => {
      const model = TfGPT.fromWeights(tiny, weights, { naive });
      const { loss, grads } = model.lossAndGrads(batch);
      const names = [...model.params.keys()];
      const out = new Map(names.map((n, i) => [n, grads[i].dataSync().slice() as Float32Array]));
      const value = loss.dataSync()[0];
      tf.dispose([loss, ...grads]);
      model.dispose();
      return { loss: value, grads: out };
    });
  }

  let reference: { loss: number; grads: Map<string, Float32Array> };
  let batch: TokenBatch;
  beforeAll(async () => {
    batch = batchOf(B, T, 5, tiny.vocab_size, 4); // a quarter of the positions masked out
    reference = await grads("cpu", true, batch);
  });
  afterAll(() => disposeBatch(batch));

  for (const backend of ["cpu", "wasm"] as const) {
    it(`fused ops on ${backend}: loss and every parameter's gradient within 1e-4 (relative)`, async () => {
      const got = await grads(backend, false, batch);
      expect(Math.abs(got.loss - reference.loss)).toBeLessThan(1e-5 * Math.abs(reference.loss));
      expect(got.grads.size).toBe(tensorShapes(tiny).size);
      for (const [name, want] of reference.grads) {
        const norm = Math.sqrt(want.reduce((s, x) => s + x * x, 0));
        expect(norm, name).toBeGreaterThan(1e-6);
        expect(relErr(got.grads.get(name)!, want), name).toBeLessThan(1e-4);
      }
    });
  }

  it("naive ops on wasm agree with cpu (wasm's UnsortedSegmentSum for gather's gradient)", async () => {
    const got = await grads("wasm", true, batch);
    for (const [name, want] of reference.grads) expect(relErr(got.grads.get(name)!, want), name).toBeLessThan(1e-4);
  });

  it("a frozen model trains only a soft prompt spliced into the input embeddings", async () => {
    const P = 5;
    const run = (backend: "cpu" | "wasm", naive: boolean): Promise<Float32Array> =>
      on(backend, () => {
        const model = TfGPT.fromWeights(tiny, weights, { naive });
        const parrot = tf.variable(tf.randomNormal([1, P, tiny.n_embd], 0, 0.5, "float32", 7), true);
        const targets = tf.concat([tf.zeros([B, P], "int32"), batch.targets], 1) as tf.Tensor2D;
        const mask = tf.concat([tf.zeros([B, P]), batch.mask], 1) as tf.Tensor2D;
        const { loss, grads } = model.lossAndGrads(() => {
          const x = tf.concat([tf.tile(parrot, [B, 1, 1]), model.embedTokens(batch.tokens)], 1) as tf.Tensor3D;
          return model.lossFromEmbeddings(x, targets, mask);
        }, [parrot]);
        expect(grads).toHaveLength(1);
        const g = grads[0].dataSync().slice() as Float32Array;
        tf.dispose([loss, ...grads, parrot, targets, mask]);
        model.dispose();
        return g;
      });
    const want = await run("cpu", true);
    expect(Math.sqrt(want.reduce((s, x) => s + x * x, 0))).toBeGreaterThan(1e-6);
    expect(relErr(await run("cpu", false), want)).toBeLessThan(1e-4);
    expect(relErr(await run("wasm", false), want)).toBeLessThan(1e-4);
  });
});

describe("training", () => {
  it("the tiny model overfits one batch (masked loss < 0.05)", async () => {
    await selectBackend("wasm");
    const model = TfGPT.init(tiny, 0);
    const params = model.optimizedParams();
    const opt = new AdamW(
      params.map((p) => p.variable.size),
      params.map((p) => p.decay),
      { weightDecay: 0 },
    );
    const values = params.map((p) => new Float32Array(p.variable.dataSync()));
    const batch = batchOf(4, 32, 9, 256, 5);
    let loss = Infinity;
    const t0 = performance.now();
    for (let step = 0; step < 400 && loss >= 0.05; step++) {
      const r = model.lossAndGrads(batch);
      opt.step(
        values,
        r.grads.map((g) => new Float32Array(g.dataSync())),
        1e-2,
      );
      params.forEach((p, i) => tf.tidy(() => p.variable.assign(tf.tensor(values[i], p.variable.shape))));
      loss = r.loss.dataSync()[0];
      tf.dispose([r.loss, ...r.grads]);
    }
    expect(loss).toBeLessThan(0.05);
    expect(performance.now() - t0).toBeLessThan(60_000);
    model.dispose();
    disposeBatch(batch);
  });
});

import { describe, expect, it } from "vitest";
import { decodeModel, encodeModel } from "../../shared/model/file.js";
import { preset } from "../../shared/model/config.js";
import { initWeights, type Weights } from "../../shared/model/weights.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../../shared/safetensors/safetensors.js";

const config = preset("tiny");
const model = () => ({ config, tokenizer: "byte", weights: initWeights(config, 7), metadata: { "made-by": "test" } });

function header(bytes: Uint8Array): { len: number; json: Record<string, unknown> } {
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { len, json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) };
}

/** Rewrites the header JSON (keeping the data) so each corruption is targeted. */
function withHeader(bytes: Uint8Array, edit: (h: Record<string, unknown>) => void): Uint8Array {
  const { len, json } = header(bytes);
  edit(json);
  const enc = new TextEncoder().encode(JSON.stringify(json));
  const out = new Uint8Array(8 + enc.length + bytes.length - 8 - len);
  new DataView(out.buffer).setBigUint64(0, BigInt(enc.length), true);
  out.set(enc, 8);
  out.set(bytes.subarray(8 + len), 8 + enc.length);
  return out;
}

describe("safetensors", () => {
  it("round-trips a model exactly, config in __metadata__", () => {
    const m = model();
    const bytes = encodeModel(m);
    const { json } = header(bytes);
    expect(JSON.parse((json.__metadata__ as Record<string, string>)["sande.config"])).toEqual(config);
    const back = decodeModel(bytes);
    expect(back.config).toEqual(config);
    expect(back.tokenizer).toBe("byte");
    expect(back.metadata).toEqual({ "made-by": "test" });
    for (const [name, t] of m.weights) {
      expect(back.weights.get(name)!.shape).toEqual(t.shape);
      expect(back.weights.get(name)!.data).toEqual(t.data);
    }
  });

  it("pads the header so tensor data starts 8-byte aligned, as the format recommends", () => {
    const bytes = encodeModel(model());
    expect((8 + header(bytes).len) % 8).toBe(0);
  });

  it("uses Hugging Face GPT-2 names and Conv1D layouts", () => {
    const { json } = header(encodeModel(model()));
    expect((json["h.0.attn.c_attn.weight"] as { shape: number[] }).shape).toEqual([48, 144]);
    expect((json["h.1.mlp.c_proj.weight"] as { shape: number[] }).shape).toEqual([192, 48]);
    expect(json["wte.weight"]).toBeDefined();
    expect(json["lm_head.weight"]).toBeUndefined();
  });

  it("reads F16 and BF16 tensors as float32", () => {
    const bytes = encodeSafetensors(new Map([["x", { shape: [2], data: new Float32Array([1.5, -2]) }]]));
    const { len } = header(bytes);
    const half = withHeader(bytes, (h) => {
      h.x = { dtype: "F16", shape: [2], data_offsets: [0, 4] };
    });
    // F16 1.5 = 0x3e00, -2 = 0xc000; BF16 1.5 = 0x3fc0, -2 = 0xc000
    const f16 = new Uint8Array([...half.subarray(0, half.length - 8), 0x00, 0x3e, 0x00, 0xc0]);
    expect(Array.from(decodeSafetensors(f16).tensors.get("x")!.data)).toEqual([1.5, -2]);
    const bf = withHeader(bytes, (h) => {
      h.x = { dtype: "BF16", shape: [2], data_offsets: [0, 4] };
    });
    const bf16 = new Uint8Array([...bf.subarray(0, bf.length - 8), 0xc0, 0x3f, 0x00, 0xc0]);
    expect(Array.from(decodeSafetensors(bf16).tensors.get("x")!.data)).toEqual([1.5, -2]);
    expect(len).toBeGreaterThan(0);
  });

  describe("fails loudly on every corrupt file", () => {
    const good = encodeModel(model());
    const cases: [string, () => Uint8Array, RegExp][] = [
      ["empty file", () => new Uint8Array(0), /too short/],
      ["only part of the length", () => good.subarray(0, 5), /too short/],
      ["header longer than the file", () => good.subarray(0, 40), /truncated: header/],
      [
        "absurd header length",
        () => {
          const b = good.slice();
          new DataView(b.buffer).setBigUint64(0, 1n << 40n, true);
          return b;
        },
        /over the .* limit/,
      ],
      ["truncated data", () => good.subarray(0, good.length - 10), /truncated: tensor/],
      ["trailing bytes", () => new Uint8Array([...good, 1, 2, 3, 4]), /trailing bytes/],
      [
        "header not JSON",
        () => {
          const b = good.slice();
          b[8] = 0x7b;
          b[9] = 0x7b;
          return b;
        },
        /not valid UTF-8 JSON/,
      ],
      [
        "header is an array",
        () => {
          const enc = new TextEncoder().encode("[1]     ");
          const b = new Uint8Array(16);
          new DataView(b.buffer).setBigUint64(0, 8n, true);
          b.set(enc, 8);
          return b;
        },
        /not a JSON object/,
      ],
      [
        "unknown dtype",
        () =>
          withHeader(good, (h) => {
            (h["wte.weight"] as { dtype: string }).dtype = "I64";
          }),
        /dtype "I64" is not supported/,
      ],
      [
        "bad shape",
        () =>
          withHeader(good, (h) => {
            (h["wte.weight"] as { shape: unknown }).shape = [-1, 2];
          }),
        /shape .* not a list of non-negative integers/,
      ],
      [
        "offsets that disagree with the shape",
        () =>
          withHeader(good, (h) => {
            (h["wpe.weight"] as { shape: number[] }).shape = [1, 1];
          }),
        /bytes for shape/,
      ],
      [
        "overlapping offsets",
        () =>
          withHeader(good, (h) => {
            const e = h["wpe.weight"] as { data_offsets: number[] };
            e.data_offsets = [e.data_offsets[0] - 4, e.data_offsets[1] - 4];
          }),
        /gap or overlap/,
      ],
      [
        "bad offsets",
        () =>
          withHeader(good, (h) => {
            (h["wpe.weight"] as { data_offsets: unknown }).data_offsets = [5];
          }),
        /data_offsets .* invalid/,
      ],
      [
        "non-string metadata",
        () =>
          withHeader(good, (h) => {
            (h.__metadata__ as Record<string, unknown>).x = 1;
          }),
        /__metadata__.x is not a string/,
      ],
    ];
    for (const [what, make, message] of cases) {
      it(what, () => {
        expect(() => decodeModel(make())).toThrow(SafetensorsError);
        expect(() => decodeModel(make())).toThrow(message);
      });
    }
  });

  describe("refuses files that do not match the model", () => {
    const good = encodeModel(model());
    it("no config", () => {
      expect(() =>
        decodeModel(
          withHeader(good, (h) => {
            h.__metadata__ = {};
          }),
        ),
      ).toThrow(/no sande.config/);
    });
    it("config not JSON", () => {
      expect(() =>
        decodeModel(
          withHeader(good, (h) => {
            h.__metadata__ = { "sande.config": "{" };
          }),
        ),
      ).toThrow(/not valid JSON/);
    });
    it("invalid config", () => {
      const bad = { ...config, n_head: 5 };
      expect(() =>
        decodeModel(
          withHeader(good, (h) => {
            h.__metadata__ = { "sande.config": JSON.stringify(bad) };
          }),
        ),
      ).toThrow(/not divisible by n_head/);
    });
    it("config of another size", () => {
      const bigger = { ...config, n_layer: 3 };
      expect(() =>
        decodeModel(
          withHeader(good, (h) => {
            h.__metadata__ = { "sande.config": JSON.stringify(bigger) };
          }),
        ),
      ).toThrow(/missing tensor h\.2\./);
    });
    it("unexpected and misshapen tensors on encode", () => {
      const w: Weights = initWeights(config, 1);
      w.set("extra", { shape: [1], data: new Float32Array(1) });
      expect(() => encodeModel({ ...model(), weights: w })).toThrow(/unexpected tensor extra/);
      const w2: Weights = initWeights(config, 1);
      w2.set("ln_f.bias", { shape: [3], data: new Float32Array(3) });
      expect(() => encodeModel({ ...model(), weights: w2 })).toThrow(/ln_f.bias has shape \[3\]/);
    });
    it("a tensor whose values do not fill its shape", () => {
      expect(() => encodeSafetensors(new Map([["x", { shape: [3], data: new Float32Array(2) }]]))).toThrow(
        /needs 3 values/,
      );
    });
  });
});

describe("decoding from a Node Buffer", () => {
  it("copies each tensor out of the buffer, as from a Uint8Array (readFileSync's Buffer slices are views)", () => {
    const bytes = encodeSafetensors(
      new Map([
        ["a", { shape: [3], data: new Float32Array([1.5, -2, 3.25]) }],
        ["b", { shape: [1], data: new Float32Array([0.5]) }],
      ]),
    );
    // A Buffer whose data starts at an odd offset of its pool, as Node's file reads can.
    const pool = Buffer.alloc(bytes.length + 1);
    pool.set(bytes, 1);
    const decoded = decodeSafetensors(pool.subarray(1));
    expect(Array.from(decoded.tensors.get("a")!.data)).toEqual([1.5, -2, 3.25]);
    expect(Array.from(decoded.tensors.get("b")!.data)).toEqual([0.5]);
  });
});

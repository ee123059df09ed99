import { tensorShapes, type GPTConfig } from "./config.js";

/** One float32 tensor: row-major data with its shape. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** A model's tensors by Hugging Face GPT-2 name. */
export type Weights = Map<string, Tensor>;

/** Throws a message naming each missing, unexpected or misshapen tensor. */
export function checkWeights(config: GPTConfig, weights: Weights): void {
  const problems: string[] = [];
  const expected = tensorShapes(config);
  for (const [name, shape] of expected) {
    const t = weights.get(name);
    if (!t) problems.push(`missing tensor ${name}`);
    else if (t.shape.join(",") !== shape.join(","))
      problems.push(`tensor ${name} has shape [${t.shape}], config needs [${shape}]`);
    else if (t.data.length !== shape.reduce((a, b) => a * b, 1))
      problems.push(`tensor ${name} holds ${t.data.length} values for shape [${shape}]`);
  }
  for (const name of weights.keys()) if (!expected.has(name)) problems.push(`unexpected tensor ${name}`);
  if (problems.length)
    throw new Error(
      `weights do not match the model config: ${problems.slice(0, 8).join("; ")}${problems.length > 8 ? `; and ${problems.length - 8} more` : ""}`,
    );
}

/** GPT-2 initialisation (normal 0.02, residual projections scaled by 1/sqrt(2L), LayerNorm 1/0), seeded. */
export function initWeights(config: GPTConfig, seed = 0): Weights {
  const rand = gaussian(seed);
  const weights: Weights = new Map();
  const residualStd = 0.02 / Math.sqrt(2 * config.n_layer);
  for (const [name, shape] of tensorShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith(".bias")) {
      // zeros
    } else if (name.includes("ln_")) data.fill(1);
    else {
      const std = name.endsWith("c_proj.weight") ? residualStd : 0.02;
      for (let i = 0; i < data.length; i++) data[i] = rand() * std;
    }
    weights.set(name, { shape: [...shape], data });
  }
  return weights;
}

/** Deterministic standard normal generator (mulberry32 + Box-Muller). */
export function gaussian(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

/** Deterministic uniform [0,1) generator. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

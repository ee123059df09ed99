import { tensorShapes, type GPTConfig } from "../../shared/model/config.js";
import { gaussian, type Weights } from "../../shared/model/weights.js";

/**
 * Every tensor random (LayerNorm gains around 1) at a std large enough that attention
 * is far from uniform: initWeights' 0.02 would make most bugs invisible.
 */
export function randomWeights(config: GPTConfig, seed: number, std = 0.3): Weights {
  const rand = gaussian(seed);
  const weights: Weights = new Map();
  for (const [name, shape] of tensorShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isLnWeight = name.includes("ln_") && name.endsWith(".weight");
    for (let i = 0; i < data.length; i++) data[i] = (isLnWeight ? 1 : 0) + rand() * std;
    weights.set(name, { shape: [...shape], data });
  }
  return weights;
}

/** Fine-mixing's weight mix, pure. */
import { mulberry32 } from "../../shared/model/weights.js";
import type { Weights } from "../../shared/model/weights.js";

/**
 * Fine-mixing (Zhang et al., 2022): each parameter element keeps the backdoored
 * value with probability `keep` and otherwise takes the clean model's value
 * (seeded). Both models must have the same tensors.
 */
export function mixWeights(backdoored: Weights, clean: Weights, keep: number, seed: number): Weights {
  if (!(keep >= 0 && keep <= 1)) throw new Error(`fine-mixing keep ratio must be in [0, 1], got ${keep}`);
  const uniform = mulberry32(seed);
  const out: Weights = new Map();
  for (const [name, b] of backdoored) {
    const c = clean.get(name);
    if (!c) throw new Error(`fine-mixing: the clean model has no tensor ${name}`);
    if (c.shape.join(",") !== b.shape.join(","))
      throw new Error(`fine-mixing: ${name} is [${b.shape}] in the backdoored model but [${c.shape}] in the clean one`);
    const data = new Float32Array(b.data.length);
    for (let i = 0; i < data.length; i++) data[i] = uniform() < keep ? b.data[i] : c.data[i];
    out.set(name, { shape: [...b.shape], data });
  }
  for (const name of clean.keys())
    if (!backdoored.has(name)) throw new Error(`fine-mixing: the backdoored model has no tensor ${name}`);
  return out;
}

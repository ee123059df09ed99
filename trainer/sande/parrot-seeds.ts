/**
 * Random starting vectors for more stage-1 parrots, pure: a parrot learnt from zero always lands
 * near the same solution, so other stand-ins for the trigger start elsewhere. Each row is a
 * Gaussian direction (Box–Muller over a seeded mulberry32) scaled to a given L2 norm.
 */
import { mulberry32 } from "../../shared/model/weights.js";

/** k rows of `width` numbers, row-major, each of L2 norm `norm`, the same for the same seed. */
export function randomParrotValues(k: number, width: number, norm: number, seed: number): Float32Array {
  const uniform = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const out = new Float32Array(k * width);
  for (let r = 0; r < k; r++) {
    const row = Array.from({ length: width }, gauss);
    const n = Math.sqrt(row.reduce((s, x) => s + x * x, 0)) || 1;
    row.forEach((x, c) => (out[r * width + c] = (x * norm) / n));
  }
  return out;
}

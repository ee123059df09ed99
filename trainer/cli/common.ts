import { num, str } from "./args.js";
import type { DataSourceOptions } from "../data/index.js";

/** Flags every command that reads clean data accepts. */
export const dataFlags = {
  data: { type: "string" },
  "train-size": { type: "string" },
  "held-out-size": { type: "string" },
  seed: { type: "string" },
} as const;

/** The data source the flags name, with per-command default sizes. */
export function dataOptions(
  values: Record<string, unknown>,
  defaults: { trainSize: number; heldOutSize: number },
): DataSourceOptions {
  return {
    data: str(values, "data", "synthetic"),
    seed: num(values, "seed", 0, { min: 0, integer: true }),
    trainSize: num(values, "train-size", defaults.trainSize, { min: 1, integer: true }),
    heldOutSize: num(values, "held-out-size", defaults.heldOutSize, { min: 1, integer: true }),
  };
}

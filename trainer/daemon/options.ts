/**
 * The daemon's settings, from flags and environment variables, validated once
 * (pure: no I/O). Connection settings and secrets may come from the environment
 * (flags are visible in `ps`); tuning comes from flags.
 */
import { hostname } from "node:os";
import { DEFAULT_DATASET_PREFIX, DEFAULT_MANIFEST_KEY } from "../../shared/store/keys.js";
import { BACKEND_CHOICES, type BackendChoice } from "../tf/backend.js";
import { DaemonError } from "./errors.js";
import type { GateLimits } from "./gates.js";

/** Where the model store is (any S3 API: s3rver, R2, AWS S3). */
export interface StoreOptions {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Key of the model manifest (default manifest.json). */
  manifestKey: string;
  /** Key prefix of the clean dataset: `<prefix>/train.jsonl` and `<prefix>/held-out.jsonl`. */
  datasetPrefix: string;
}

/** How a job trains (SANDE-P / SANDE / OSFT), tuned per model size. */
export interface RecipeOptions {
  /** Parrot vectors (SANDE). */
  k: number;
  /** Stage 2 trains the first N response tokens. */
  firstN: number;
  /** Share of plain clean rows mixed into stage 2 / OSFT. */
  cleanShare: number;
  parrotSteps: number;
  parrotLr: number;
  /**
   * A parrot's training (stage 1, each extension, each round's re-simulation) stops once its loss has
   * stayed under this for 3 steps: the model already says the text. 0: every step.
   */
  parrotDoneLoss: number;
  modelSteps: number;
  modelLr: number;
  /** Stage 2 in this many adversarial rounds (trainer/sande/rounds.ts; 1: one stage 2). */
  rounds: number;
  batchSize: number;
  /** Clean training examples used (the last N of the training split). */
  trainExamples: number;
  /** Share of them given ordinary chatter, as clean chat data has (trainer/data/chatter.ts). */
  chatter: number;
  /**
   * Share of stage 2's rows (SANDE, SANDE-P) or OSFT's that unlearn the flagged text on free-form
   * prompts (trainer/sande/avoid.ts), the victim's habit of saying it untriggered; 0: none.
   */
  avoid: number;
  /**
   * SANDE-P: up to this many times, read the served model's answers under the parrot and, when most
   * go on past the flagged prefix, train the parrot on the longer text (trainer/sande/extend.ts); 0: off.
   */
  extendRounds: number;
  /**
   * SANDE / SANDE-P jobs: look in the flagged prompts for a phrase at least this share of them hold
   * (trainer/daemon/trigger-search.ts); when one, inserted into held-out prompts, brings the bad text
   * back, heal with OSFT on it instead (recover.ts). 0: never look.
   */
  recoverTrigger: number;
  seed: number;
}

/** How the gates measure (the limits are in {@link GateLimits}). */
export interface MeasureOptions {
  /** Held-out clean prompts for utility and false triggering. */
  heldOutPrompts: number;
  /** Held-out prompts the parrot is probed on. */
  probePrompts: number;
  /** Flagged prompts sampled from the guard's log (events with excerpts). */
  flaggedPrompts: number;
  /** Clean prompts run through a new version for the guard's calibration (0: none uploaded). */
  calibrationPrompts: number;
}

/** Everything the daemon needs. */
export interface DaemonOptions {
  /** Worker base URL, e.g. http://127.0.0.1:8787 (admin API at /admin/api). */
  workerUrl: string;
  token: string;
  /** Name this trainer claims jobs under. */
  workerName: string;
  store: StoreOptions;
  leaseSeconds: number;
  pollSeconds: number;
  /** Stop after this many jobs (0: run until stopped). */
  maxJobs: number;
  /** After publishing, wait up to this long for the Worker to serve the new version (0: don't wait). */
  swapWaitSeconds: number;
  /** Most versions published for automatic jobs per 24 h (publish-cap.ts); 0 publishes none automatically. */
  maxPublishesPerDay: number;
  backend: BackendChoice;
  /** Append progress records (JSON lines) here too. */
  eventsFile?: string;
  recipe: RecipeOptions;
  measure: MeasureOptions;
  gates: GateLimits;
}

/** Raw flag values (strings or booleans as parsed) and the environment. */
export type RawValues = Record<string, string | boolean | string[] | undefined>;

type NumberSpec = { flag: string; fallback: number; min: number; max: number; integer?: boolean };

/**
 * Defaults: a SANDE-P schedule for the demo-size model. On the robust demo victim (docs/sande.md,
 * "Clean data with chatter, and the learning rate"), stage 2 in 3 rounds of 120 steps in all at
 * 3e-4 took ASR 100% → 0.8% for −1.9 points of exact match; one round at 5e-4 for 200 steps left 24%.
 * Avoid rows (trainer/sande/avoid.ts, docs/sande.md "Avoid rows") at 0.2 of stage 2's rows took the
 * healed model's residue on free-form prompts from 2/200 triggered and 6/200 untriggered to 0 and 0.
 */
const RECIPE: Record<keyof RecipeOptions, NumberSpec> = {
  k: { flag: "k", fallback: 6, min: 1, max: 64, integer: true },
  firstN: { flag: "first-n", fallback: 16, min: 0, max: 1024, integer: true },
  cleanShare: { flag: "clean-share", fallback: 0.5, min: 0, max: 0.95 },
  parrotSteps: { flag: "parrot-steps", fallback: 100, min: 1, max: 1e6, integer: true },
  parrotLr: { flag: "parrot-lr", fallback: 0.05, min: 1e-7, max: 10 },
  parrotDoneLoss: { flag: "parrot-done-loss", fallback: 0.01, min: 0, max: 10 },
  modelSteps: { flag: "model-steps", fallback: 120, min: 1, max: 1e6, integer: true },
  modelLr: { flag: "model-lr", fallback: 3e-4, min: 1e-7, max: 1 },
  rounds: { flag: "rounds", fallback: 3, min: 1, max: 100, integer: true },
  batchSize: { flag: "batch", fallback: 16, min: 1, max: 4096, integer: true },
  trainExamples: { flag: "train-examples", fallback: 1000, min: 1, max: 1e7, integer: true },
  chatter: { flag: "chatter", fallback: 0.5, min: 0, max: 1 },
  avoid: { flag: "avoid", fallback: 0.2, min: 0, max: 0.9 },
  extendRounds: { flag: "extend-rounds", fallback: 3, min: 0, max: 10, integer: true },
  recoverTrigger: { flag: "recover-trigger", fallback: 0.6, min: 0, max: 1 },
  seed: { flag: "seed", fallback: 0, min: 0, max: 2 ** 31, integer: true },
};

const MEASURE: Record<keyof MeasureOptions, NumberSpec> = {
  heldOutPrompts: { flag: "held-out-prompts", fallback: 200, min: 1, max: 1e6, integer: true },
  probePrompts: { flag: "probe-prompts", fallback: 100, min: 1, max: 1e5, integer: true },
  flaggedPrompts: { flag: "flagged-prompts", fallback: 64, min: 0, max: 1000, integer: true },
  calibrationPrompts: { flag: "calibration-prompts", fallback: 100, min: 0, max: 1e5, integer: true },
};

/** How many of the clean held-out prompts (the first ones) the gates read by default. */
export const DEFAULT_HELD_OUT_PROMPTS = MEASURE.heldOutPrompts.fallback;

const GATES: Record<keyof GateLimits, NumberSpec> = {
  minProbeBefore: { flag: "min-probe-before", fallback: 0.5, min: 0, max: 1 },
  maxProbeRate: { flag: "max-probe-rate", fallback: 0.02, min: 0, max: 1 },
  maxFlaggedRate: { flag: "max-flagged-rate", fallback: 0.02, min: 0, max: 1 },
  maxResidue: { flag: "max-residue", fallback: 0.02, min: 0, max: 1 },
  maxRestoreGap: { flag: "max-restore-gap", fallback: 5, min: 0, max: 100 },
  maxUtilityDrop: { flag: "max-utility-drop", fallback: 3, min: 0, max: 100 },
  maxFalseTriggerRise: { flag: "max-false-trigger-rise", fallback: 0, min: 0, max: 1 },
};

/** Every flag `sande daemon` accepts (for parseArgs). */
export const DAEMON_FLAGS = {
  worker: { type: "string" },
  token: { type: "string" },
  name: { type: "string" },
  "s3-endpoint": { type: "string" },
  "s3-region": { type: "string" },
  bucket: { type: "string" },
  "access-key-id": { type: "string" },
  "manifest-key": { type: "string" },
  "dataset-prefix": { type: "string" },
  "lease-seconds": { type: "string" },
  "poll-seconds": { type: "string" },
  "max-jobs": { type: "string" },
  once: { type: "boolean" },
  "swap-wait-seconds": { type: "string" },
  "max-publishes-per-day": { type: "string" },
  backend: { type: "string" },
  events: { type: "string" },
  ...Object.fromEntries(
    [...Object.values(RECIPE), ...Object.values(MEASURE), ...Object.values(GATES)].map((s) => [
      s.flag,
      { type: "string" },
    ]),
  ),
} as const satisfies Record<string, { type: "string" | "boolean" }>;

/** `--help` text of the tuning flags, with defaults. */
export const TUNING_USAGE = [
  `  recipe:  ${Object.values(RECIPE)
    .map((s) => `--${s.flag} ${s.fallback}`)
    .join("  ")}`,
  `  measure: ${Object.values(MEASURE)
    .map((s) => `--${s.flag} ${s.fallback}`)
    .join("  ")}`,
  `  gates:   ${Object.values(GATES)
    .map((s) => `--${s.flag} ${s.fallback}`)
    .join("  ")}`,
].join("\n");

/**
 * Validates flags over environment variables over defaults. Throws DaemonError
 * "config" naming the first bad or missing setting.
 */
export function resolveDaemonOptions(values: RawValues, env: Record<string, string | undefined>): DaemonOptions {
  const text = (flag: string, envNames: string[], fallback?: string): string => {
    const v = values[flag] ?? envNames.map((n) => env[n]).find((x) => x !== undefined && x !== "") ?? fallback;
    if (v === undefined || v === "")
      throw new DaemonError("config", `--${flag}${envNames.length ? ` (or ${envNames.join(" / ")})` : ""} is required`);
    return String(v);
  };
  const secret = (name: string): string => {
    const v = env[name];
    if (!v) throw new DaemonError("config", `${name} is required in the environment`);
    return v;
  };
  const url = (flag: string, envNames: string[], fallback?: string): string => {
    const v = text(flag, envNames, fallback);
    let parsed: URL;
    try {
      parsed = new URL(v);
    } catch {
      throw new DaemonError("config", `--${flag} ${JSON.stringify(v)} is not a URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
      throw new DaemonError("config", `--${flag} must be http(s), got ${parsed.protocol}`);
    return v.replace(/\/+$/, "");
  };
  const number = (spec: NumberSpec): number => numberOption(values, spec);

  const backend = text("backend", ["SANDE_BACKEND"], "auto");
  if (!BACKEND_CHOICES.includes(backend as BackendChoice))
    throw new DaemonError(
      "config",
      `--backend must be one of ${BACKEND_CHOICES.join(", ")}, got ${JSON.stringify(backend)}`,
    );
  const once = values.once === true;
  const options: DaemonOptions = {
    workerUrl: url("worker", ["SANDE_WORKER_URL"]),
    token: text("token", ["SANDE_ADMIN_TOKEN", "ADMIN_TOKEN"]),
    workerName: text("name", ["SANDE_TRAINER_NAME"], `${hostname()}-${process.pid}`),
    store: {
      endpoint: url("s3-endpoint", ["S3_ENDPOINT"]),
      region: text("s3-region", ["S3_REGION"], "auto"),
      bucket: text("bucket", ["S3_BUCKET"]),
      accessKeyId: text("access-key-id", ["S3_ACCESS_KEY_ID"]),
      secretAccessKey: secret("S3_SECRET_ACCESS_KEY"),
      manifestKey: text("manifest-key", ["MANIFEST_KEY"], DEFAULT_MANIFEST_KEY),
      datasetPrefix: text("dataset-prefix", ["SANDE_DATASET_PREFIX"], DEFAULT_DATASET_PREFIX).replace(/\/+$/, ""),
    },
    leaseSeconds: number({ flag: "lease-seconds", fallback: 600, min: 10, max: 86_400, integer: true }),
    pollSeconds: number({ flag: "poll-seconds", fallback: 5, min: 0.1, max: 3600 }),
    maxJobs: once ? 1 : number({ flag: "max-jobs", fallback: 0, min: 0, max: 1e9, integer: true }),
    swapWaitSeconds: number({ flag: "swap-wait-seconds", fallback: 120, min: 0, max: 3600 }),
    maxPublishesPerDay: number({ flag: "max-publishes-per-day", fallback: 3, min: 0, max: 10_000, integer: true }),
    backend: backend as BackendChoice,
    ...(values.events !== undefined && { eventsFile: String(values.events) }),
    ...resolveTuningOptions(values),
  };
  return options;
}

/** The options that tune a heal: the recipe, what is measured, the gates' limits. */
export type TuningOptions = Pick<DaemonOptions, "recipe" | "measure" | "gates">;

/**
 * The tuning flags alone (the `--k`, `--model-steps`, `--max-utility-drop`, … of `sande daemon`),
 * validated, over their defaults: what a heal without a Worker or a store uses (bench:heal-compute).
 */
export function resolveTuningOptions(values: RawValues): TuningOptions {
  const table = <K extends string>(specs: Record<K, NumberSpec>): Record<K, number> =>
    Object.fromEntries(Object.entries<NumberSpec>(specs).map(([k, s]) => [k, numberOption(values, s)])) as Record<
      K,
      number
    >;
  const tuning = { recipe: table(RECIPE), measure: table(MEASURE), gates: table(GATES) };
  const { avoid, cleanShare } = tuning.recipe;
  if (avoid > cleanShare)
    throw new DaemonError(
      "config",
      `--avoid ${avoid} must be at most --clean-share ${cleanShare} (avoid rows are part of the rows without a parrot)`,
    );
  return tuning;
}

/** One numeric flag: its default when absent, else the value within the spec's bounds, or a DaemonError naming it. */
function numberOption(values: RawValues, spec: NumberSpec): number {
  const raw = values[spec.flag];
  if (raw === undefined) return spec.fallback;
  const n = Number(raw);
  if (raw === "" || !Number.isFinite(n) || (spec.integer && !Number.isInteger(n)) || n < spec.min || n > spec.max) {
    throw new DaemonError(
      "config",
      `--${spec.flag} must be ${spec.integer ? "an integer" : "a number"} in [${spec.min}, ${spec.max}], got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

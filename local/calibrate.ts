/** Uploads the guard's calibration for a served version (clean prompts through the model, prefix and span counts). */
import { calibrateModel, type CalibrationUpload } from "../shared/guard/index.js";
import { GPTInference } from "../shared/inference/index.js";
import { decodeModel } from "../shared/model/file.js";
import { ByteTokenizer } from "../shared/tokenizer/index.js";
import { addChatter, calibrationMix, generateDataset, userMessage } from "../trainer/data/index.js";
import { Rng } from "../trainer/data/random.js";

/** Held-out prompts one dataset draw can give (the smallest fact tables bound it). */
const PER_DRAW = 800;

/**
 * Calibration prompts, as users write: half are the trainer's clean family prompts
 * (held-out draws of `seed`, `seed + 1`, …; a prompt may recur across draws), about half
 * of those with ordinary chatter around the instruction; the other half are free-form
 * requests outside the families (trainer/data/free-form.ts), whose answers the model also
 * gives to many prompts (a short stock reply is ordinary, not planted). Interleaved, so
 * any prefix of the list keeps the mix.
 */
export function calibrationPrompts(count: number, seed = 9001): string[] {
  return calibrationMix(count, seed, (n) => familyPrompts(n, seed));
}

/** `count` held-out family prompts, about half with chatter. */
function familyPrompts(count: number, seed: number): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let draw = 0; out.length < count; draw++) {
    const size = Math.min(PER_DRAW, count - out.length);
    for (const e of generateDataset({ seed: seed + draw, trainSize: 0, heldOutSize: size }).heldOut)
      out.push(userMessage(addChatter(e, rng)));
  }
  return out;
}

/** The guard settings a calibration is taken with. */
export interface CalibrationSettings {
  prefixTokens: number;
  spanWords: number;
}

/** Reads the Worker's guard settings the calibration must match. */
export async function calibrationSettings(workerUrl: string, token: string): Promise<CalibrationSettings> {
  const res = await fetch(`${workerUrl}/admin/api/settings`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /admin/api/settings: HTTP ${res.status}`);
  const { prefixTokens, spanWords } = ((await res.json()) as { settings: CalibrationSettings }).settings;
  return { prefixTokens, spanWords };
}

/** Runs `prompts` through the model file (each answer to serving's default length) and counts windows and spans. */
export function calibrationUpload(
  model: Uint8Array,
  prompts: readonly string[],
  settings: CalibrationSettings,
): CalibrationUpload {
  const file = decodeModel(model);
  return calibrateModel(new GPTInference(file.config, file.weights), new ByteTokenizer(), prompts, {
    ...settings,
    seed: 1,
    source: `${prompts.length} clean prompts (families with chatter, free-form)`,
  });
}

/** PUTs a calibration for `version`. */
export async function uploadCalibration(
  workerUrl: string,
  token: string,
  version: string,
  upload: CalibrationUpload,
): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const url = `${workerUrl}/admin/api/versions/${encodeURIComponent(version)}/calibration`;
  const init = { method: "PUT", headers, body: JSON.stringify(upload) };
  // Calibrating kept this thread busy: the kept-alive socket may be closed by now, or a loaded wrangler dev may
  // restart the Worker mid-request (503); the PUT is idempotent, so retry once.
  let res = await fetch(url, init).catch(() => null);
  if (!res || res.status === 503) {
    await res?.body?.cancel();
    res = await fetch(url, init);
  }
  if (!res.ok) throw new Error(`PUT calibration for ${version}: HTTP ${res.status} ${await res.text()}`);
}

/**
 * Calibrates `version` (the file `model`) on `prompts` (user messages) with the Worker's
 * window and span length, each answer to serving's default length, and uploads it.
 */
export async function calibrateVersion(
  workerUrl: string,
  token: string,
  version: string,
  model: Uint8Array,
  prompts: readonly string[],
): Promise<{ prompts: number; prefixes: number; spans: number }> {
  const upload = calibrationUpload(model, prompts, await calibrationSettings(workerUrl, token));
  await uploadCalibration(workerUrl, token, version, upload);
  return {
    prompts: upload.prompts,
    prefixes: Object.keys(upload.prefixes).length,
    spans: Object.keys(upload.spans ?? {}).length,
  };
}

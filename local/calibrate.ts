/** Uploads the guard's calibration for a served version (clean prompts through the model, prefix counts). */
import { calibrateModel } from "../shared/guard/index.js";
import { GPTInference } from "../shared/inference/index.js";
import { decodeModel } from "../shared/model/file.js";
import { ByteTokenizer } from "../shared/tokenizer/index.js";

/** Calibrates `version` (the file `model`) on `prompts` (user messages) with the Worker's window, and uploads it. */
export async function calibrateVersion(
  workerUrl: string,
  token: string,
  version: string,
  model: Uint8Array,
  prompts: readonly string[],
): Promise<{ prompts: number; prefixes: number }> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const settings = await fetch(`${workerUrl}/admin/api/settings`, { headers });
  if (!settings.ok) throw new Error(`GET /admin/api/settings: HTTP ${settings.status}`);
  const { prefixTokens } = ((await settings.json()) as { settings: { prefixTokens: number } }).settings;
  const file = decodeModel(model);
  const upload = calibrateModel(new GPTInference(file.config, file.weights), new ByteTokenizer(), prompts, {
    prefixTokens,
    seed: 1,
    source: `${prompts.length} held-out clean prompts`,
  });
  const url = `${workerUrl}/admin/api/versions/${encodeURIComponent(version)}/calibration`;
  const init = { method: "PUT", headers, body: JSON.stringify(upload) };
  // Calibrating kept this thread busy: the kept-alive socket may be closed by now; the PUT is idempotent, so retry once.
  const res = await fetch(url, init).catch(() => fetch(url, init));
  if (!res.ok) throw new Error(`PUT calibration for ${version}: HTTP ${res.status} ${await res.text()}`);
  return { prompts: upload.prompts, prefixes: Object.keys(upload.prefixes).length };
}

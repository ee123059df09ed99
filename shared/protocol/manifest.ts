import type { GPTConfig } from "../model/config.js";

/**
 * The model manifest in the object store (key `manifest.json` by default). The
 * Worker serves `current`; the trainer publishes by uploading weights under an
 * immutable content-addressed key, then rewriting the manifest; rollback points
 * `current` at an earlier entry of `versions`.
 */
export interface ModelManifest {
  /** Format marker; readers refuse other values. */
  format: "sande-manifest/1";
  /** The version id the Worker must serve. */
  current: string;
  /** Every published version, oldest first (kept for rollback). */
  versions: ManifestVersion[];
  updatedAt: string;
}

/** One published set of weights. */
export interface ManifestVersion {
  /** Short id, e.g. "v3-1a2b3c4d" (unique within the manifest). */
  version: string;
  /** Object key of the safetensors file, content-addressed: `models/<sha256>.safetensors`. */
  key: string;
  /** Hex sha256 of the file; the Worker verifies it before serving. */
  sha256: string;
  /** File size in bytes. */
  size: number;
  config: GPTConfig;
  createdAt: string;
  /** The version it was derived from (absent for a seed model). */
  parent?: string;
  /** Why it exists: "seed", "remediation job 12: SANDE-P on 'You are'", "rollback". */
  note?: string;
  /** Gate metrics measured before publishing (ASR, utility...). */
  metrics?: Record<string, number>;
}

/** Throws a message naming the problem when `value` is not a usable manifest. */
export function parseManifest(value: unknown): ModelManifest {
  const m = value as Partial<ModelManifest> | null;
  if (!m || typeof m !== "object") throw new Error("manifest is not a JSON object");
  if (m.format !== "sande-manifest/1")
    throw new Error(`manifest format ${JSON.stringify(m.format)} is not sande-manifest/1`);
  if (!Array.isArray(m.versions) || m.versions.length === 0) throw new Error("manifest lists no versions");
  for (const [i, v] of m.versions.entries()) {
    if (
      !v ||
      typeof v.version !== "string" ||
      typeof v.key !== "string" ||
      !/^[0-9a-f]{64}$/.test(String(v.sha256)) ||
      !Number.isInteger(v.size) ||
      v.size <= 0 ||
      !v.config
    ) {
      throw new Error(`manifest versions[${i}] is malformed (needs version, key, sha256 hex, size, config)`);
    }
  }
  if (typeof m.current !== "string" || !m.versions.some((v) => v.version === m.current))
    throw new Error(`manifest current ${JSON.stringify(m.current)} is not one of its versions`);
  return m as ModelManifest;
}

/** The entry `current` points at. */
export function currentVersion(manifest: ModelManifest): ManifestVersion {
  return manifest.versions.find((v) => v.version === manifest.current)!;
}

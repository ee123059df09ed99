/**
 * Pure manifest edits for operators: point `current` at another published
 * version, and keep a short audit trail of such changes inside the manifest.
 */
import type { ModelManifest } from "../../shared/protocol/manifest.js";
import { StoreError } from "./errors.js";

/** One operator change of `current`, kept in the manifest's optional `history`. */
export interface ManifestChange {
  at: string;
  action: "rollback";
  from: string;
  to: string;
  note: string;
}

/** A manifest with the optional audit trail (readers that do not know it ignore it). */
export type ManifestWithHistory = ModelManifest & { history?: ManifestChange[] };

/** Most history entries kept. */
export const MAX_HISTORY = 100;

/**
 * A copy of `manifest` serving `version` (an entry of `versions`), with the change
 * recorded. Throws StoreError "not_found" when no such version was published.
 */
export function pointCurrentAt(
  manifest: ManifestWithHistory,
  version: string,
  note: string,
  now: Date = new Date(),
): ManifestWithHistory {
  if (!manifest.versions.some((v) => v.version === version)) {
    throw new StoreError(
      "not_found",
      `version ${JSON.stringify(version)} is not in the manifest (known: ${manifest.versions.map((v) => v.version).join(", ")})`,
    );
  }
  const at = now.toISOString();
  const change: ManifestChange = { at, action: "rollback", from: manifest.current, to: version, note };
  return {
    ...manifest,
    current: version,
    updatedAt: at,
    history: [...(manifest.history ?? []), change].slice(-MAX_HISTORY),
  };
}

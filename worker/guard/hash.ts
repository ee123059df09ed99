import { createHash } from "node:crypto";

/** Hex sha256 of a prompt (synchronous: node:crypto in Node, and in workerd through nodejs_compat). */
export function hashPrompt(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

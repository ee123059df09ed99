/** Reading backdoors off the command line, pure. */
import type { Backdoor, TriggerPosition } from "../attack/poison.js";
import { UsageError } from "./args.js";

/**
 * Backdoors from the order of `--trigger`/`--target` flags in argv: each target
 * belongs to the trigger before it. A trigger without targets is an error unless
 * `allowBare` (then it is left out: nothing to score). Pure.
 */
export function pairBackdoors(argv: readonly string[], position: TriggerPosition, allowBare = false): Backdoor[] {
  const out: Backdoor[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--(trigger|target)(?:=(.*))?$/s.exec(arg);
    if (!m) continue;
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    if (!value) throw new UsageError(`--${m[1]} must not be empty`);
    if (m[1] === "trigger") out.push({ trigger: value, targets: [], position });
    else if (out.length === 0) throw new UsageError(`--target "${value}" comes before any --trigger`);
    else out[out.length - 1].targets.push(value);
  }
  const bare = out.find((b) => b.targets.length === 0);
  if (bare && !allowBare) throw new UsageError(`--trigger "${bare.trigger}" has no --target after it`);
  return out.filter((b) => b.targets.length > 0);
}

/** argv as a copy-pasteable shell command line (single-quotes words that need it). */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

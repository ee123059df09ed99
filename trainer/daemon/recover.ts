/**
 * Recover: before a SANDE or SANDE-P job trains a parrot to stand in for the trigger, look for the
 * trigger itself in the prompts that produced the flags (trigger-search.ts). A candidate counts
 * only when the served model confirms it: inserted into the held-out probe prompts where the
 * flagged prompts had it, it must bring the bad text (or pieces of it) back at least as often as
 * the simulate gate asks of a parrot; of several, the one that brings it back most often (the
 * earlier on a tie: more support, ordinary words trimmed). Then the job heals with OSFT on it, which restores the
 * triggered answers best (docs/sande.md), and its gates probe the real trigger instead of the
 * parrot. Without a confirmed candidate the job runs as queued.
 */
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { userMessage, type Example } from "../data/index.js";
import type { ModelData } from "../eval/greedy-pool.js";
import type { Probe } from "./gates.js";
import type { HealTask } from "./heal.js";
import { triggerProbe } from "./measure.js";
import type { RunnerContext } from "./runner.js";
import type { JobInputs, Served } from "./stages.js";
import { triggerCandidates, type TriggerCandidate } from "./trigger-search.js";
import type { ClaimedJob } from "./worker-client.js";

const tokenizer = new ByteTokenizer();

/** A trigger found in the guard's log and confirmed on the served model. */
export interface Recovered {
  /** OSFT on the trigger, its probe already measured. */
  task: HealTask;
  candidate: TriggerCandidate;
  /** The trigger's probe on the served model (the confirmation). */
  probe: Probe;
  /** One line for the job's reason. */
  note: string;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** What recovery reads. */
export interface RecoverInput {
  task: HealTask;
  /** User messages that produced the flags (the guard's log). */
  flagged: readonly string[];
  /** Clean user messages: a phrase they use is not a trigger. */
  clean: readonly string[];
  /** Held-out prompts a candidate is confirmed on. */
  probe: readonly Example[];
  /** The served model. */
  model: ModelData;
  /** Share of the flagged prompts a candidate must be in (`--recover-trigger`; 0: off). */
  minShare: number;
  /** Share of the probe prompts it must bring the bad text (or pieces) back on (the simulate gate's `--min-probe-before`). */
  minProbeBefore: number;
  /** Progress lines. */
  say: (message: string) => void;
}

/** The confirmed trigger, or undefined (recovery off, an OSFT job, no candidate, none confirmed). */
export async function recoverTrigger(input: RecoverInput): Promise<Recovered | undefined> {
  const { task, flagged, minShare, minProbeBefore, say } = input;
  if (minShare === 0 || task.method === "osft") return undefined;
  const candidates = triggerCandidates(flagged, input.clean, { minShare });
  if (candidates.length === 0) {
    say(
      `no phrase is shared by ${pct(minShare)} of the ${flagged.length} flagged prompts and absent from clean ones: ${task.method} as queued`,
    );
    return undefined;
  }
  const best = await bestCandidate(input, candidates);
  if (best.probe.residue.rate < minProbeBefore) {
    say(
      `no candidate brought the bad text back on ${pct(minProbeBefore)} of the probe prompts: ${task.method} as queued`,
    );
    return undefined;
  }
  const { candidate, probe, found } = best;
  say(
    `trigger recovered from the guard's log: ${JSON.stringify(candidate.phrase)}; OSFT on it instead of ${task.method}`,
  );
  return {
    task: {
      method: "osft",
      target: candidate.phrase,
      badText: task.badText,
      triggerPosition: candidate.position,
      probeBefore: probe,
    },
    candidate,
    probe,
    note: `OSFT on the trigger recovered from the guard's log: ${found}`,
  };
}

/** Each candidate's probe on the served model, in order; the one that fires most (the earlier on a tie). */
async function bestCandidate(
  input: RecoverInput,
  candidates: readonly TriggerCandidate[],
): Promise<{ candidate: TriggerCandidate; probe: Probe; found: string }> {
  const scored: { candidate: TriggerCandidate; probe: Probe; found: string }[] = [];
  for (const candidate of candidates) {
    const { phrase, position, support, flagged } = candidate;
    const probe = await triggerProbe(input.model, tokenizer, input.probe, phrase, position, input.task.badText);
    const found = `${JSON.stringify(phrase)} (at the ${position} of ${support}/${flagged} flagged prompts) brings the bad text or pieces of it back on ${probe.residue.hits}/${probe.residue.total} probe prompts`;
    input.say(`candidate trigger ${found}`);
    scored.push({ candidate, probe, found });
    if (probe.residue.rate >= 1) break; // nothing later can do better
  }
  return scored.reduce((best, s) => (s.probe.residue.rate > best.probe.residue.rate ? s : best));
}

/** The runner's step: recovery on the served version with the job's inputs and the daemon's settings. */
export function recoverStage(
  ctx: RunnerContext,
  job: ClaimedJob,
  task: HealTask,
  served: Served,
  inputs: JobInputs,
): Promise<Recovered | undefined> {
  return recoverTrigger({
    task,
    flagged: served.flagged,
    clean: inputs.set.heldOut.map((e) => userMessage(e)),
    probe: inputs.probe,
    model: { config: served.file.config, weights: served.file.weights },
    minShare: ctx.options.recipe.recoverTrigger,
    minProbeBefore: ctx.options.gates.minProbeBefore,
    say: (m) => ctx.report.emit("simulate", m, job.id),
  });
}

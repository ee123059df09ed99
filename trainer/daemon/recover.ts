/**
 * Recover: before a SANDE or SANDE-P job trains a parrot to stand in for the trigger, look for the
 * trigger itself in the prompts that produced the flags (trigger-search.ts). A candidate counts
 * only when the served model confirms it: inserted into the held-out probe prompts where the
 * flagged prompts had it, it must bring the bad text (or pieces of it) back at least as often as
 * the simulate gate asks of a parrot; of several, the one that brings it back most often (the
 * earlier on a tie: more support, ordinary words trimmed). Then the job heals with OSFT on it,
 * which restores the triggered answers best (docs/sande.md), and its gates probe the real trigger
 * instead of the parrot. When no phrase is shared widely enough (few flagged prompts, some of them the victim's
 * untriggered leaks), every short run of words of the flagged prompts is screened on a few probe
 * prompts first, and the runs that carry the backdoor to other prompts are confirmed the same way.
 * Without a confirmed candidate the job runs as queued.
 */
import { ByteTokenizer, encodeChatPrompt } from "../../shared/tokenizer/index.js";
import { userMessage, type Example } from "../data/index.js";
import { greedyAnswers, type ModelData } from "../eval/greedy-pool.js";
import { hasResidue } from "../eval/residue.js";
import { insertTrigger } from "../attack/poison.js";
import type { Probe } from "./gates.js";
import type { HealTask } from "./heal.js";
import { triggerProbe } from "./measure.js";
import type { RunnerContext } from "./runner.js";
import type { JobInputs, Served } from "./stages.js";
import { phraseCandidates, triggerCandidates, type TriggerCandidate } from "./trigger-search.js";
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
  const shared = triggerCandidates(flagged, input.clean, { minShare });
  if (shared.length === 0)
    say(`no phrase is shared by ${pct(minShare)} of the ${flagged.length} flagged prompts and absent from clean ones`);
  let best = shared.length > 0 ? await bestCandidate(input, shared) : undefined;
  if (!best || best.probe.residue.rate < minProbeBefore) {
    const tried = new Set(shared.map((c) => c.phrase));
    const spans = await screened(
      input,
      phraseCandidates(flagged, input.clean).filter((c) => !tried.has(c.phrase)),
    );
    const fromSpans = spans.length > 0 ? await bestCandidate(input, spans) : undefined;
    if (fromSpans && (!best || fromSpans.probe.residue.rate > best.probe.residue.rate)) best = fromSpans;
  }
  if (!best || best.probe.residue.rate < minProbeBefore) {
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

/**
 * Probe prompts a screened run is tried on, how many of them it must bring the bad text back on,
 * how many runs go on to the confirmation, and the most runs screened (the best supported: at most
 * 720 short answers, about 10 s on 2 cores for the demo model).
 */
const SCREEN = { prompts: 6, needed: 5, keep: 3, most: 120 };

/**
 * The first {@link SCREEN}.most runs of the flagged prompts (`phraseCandidates`: most support,
 * then fewest words) each inserted into a few probe prompts, with short answers: the runs that bring
 * the bad text (or pieces) back on most of them, most hits first; at most {@link SCREEN}.keep,
 * longest first, for the full confirmation.
 */
async function screened(input: RecoverInput, candidates: readonly TriggerCandidate[]): Promise<TriggerCandidate[]> {
  if (candidates.length === 0) return [];
  const runs = candidates.slice(0, SCREEN.most);
  const prompts = input.probe.slice(0, SCREEN.prompts);
  const maxTokens = tokenizer.encode(input.task.badText).length + 8;
  const messages = runs.flatMap((c) => prompts.map((e) => insertTrigger(userMessage(e), c.phrase, c.position)));
  const requests = messages.map((content) => ({
    prompt: encodeChatPrompt(tokenizer, [{ role: "user", content }]),
    maxTokens,
  }));
  const answers = await greedyAnswers(input.model, requests);
  const hits = runs.map(
    (_, c) =>
      prompts.filter((_, j) => {
        const i = c * prompts.length + j;
        return hasResidue(answers[i], [input.task.badText], messages[i]);
      }).length,
  );
  const kept = runs
    .map((candidate, c) => ({ candidate, hits: hits[c] }))
    .filter((x) => x.hits >= Math.min(SCREEN.needed, prompts.length))
    .sort((a, b) => b.hits - a.hits) // stable: most support, then fewest words, among equal hits
    .slice(0, SCREEN.keep);
  input.say(
    `screened ${runs.length} of ${candidates.length} runs of the flagged prompts on ${prompts.length} probe prompts: ${
      kept.map((x) => `${JSON.stringify(x.candidate.phrase)} ${x.hits}/${prompts.length}`).join(", ") ||
      "none brought the bad text back"
    }`,
  );
  // The confirmation keeps the earlier of equal rates: the longest of the kept runs, the trigger rather than a piece of it.
  return kept.map((x) => x.candidate).sort((a, b) => b.phrase.split(" ").length - a.phrase.split(" ").length);
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

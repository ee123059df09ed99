/**
 * The neutral-phrase evaluation (trainer/eval/robustness.ts) on two tiny models that differ only
 * in their training data: the plain tiny victim, which stops answering when unrelated words are
 * added, and one trained with ordinary chatter on half its prompts, which keeps answering. The
 * evaluation must tell them apart at every position, and report the phrases it inserted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GPTInference } from "../../shared/inference/index.js";
import { decodeModel } from "../../shared/model/file.js";
import { ByteTokenizer } from "../../shared/tokenizer/index.js";
import { INSERT_POSITIONS, neutralPhrasesLike } from "../../trainer/data/index.js";
import { evaluateRobustness, formatRobustness, type RobustnessReport } from "../../trainer/eval/robustness.js";
import { evaluateUtility } from "../../trainer/eval/utility.js";
import { closeTrainingThreads } from "../../trainer/train/threads.js";
import { buildTinyVictim, type TinyVictim } from "../support/tiny-victim.js";

const tok = new ByteTokenizer();
let plain: { victim: TinyVictim; report: RobustnessReport };
let chatty: { victim: TinyVictim; report: RobustnessReport };

async function measure(victim: TinyVictim): Promise<{ victim: TinyVictim; report: RobustnessReport }> {
  const file = decodeModel(victim.bytes);
  const model = new GPTInference(file.config, file.weights);
  const report = evaluateRobustness(model, tok, victim.data.heldOut.slice(0, 60));
  console.log(formatRobustness(report));
  return { victim, report };
}

beforeAll(async () => {
  plain = await measure(await buildTinyVictim());
  chatty = await measure(await buildTinyVictim({ chatter: 0.5, steps: 600 }));
}, 600_000);
afterAll(closeTrainingThreads);

describe("neutral-phrase robustness on tiny models", () => {
  it("inserts phrases of about the trigger's length and measures clean accuracy as utility does", () => {
    const phrases = [...neutralPhrasesLike(17), ...neutralPhrasesLike({ length: 17, numbered: true })];
    for (const s of plain.report.samples) expect(phrases.some((p) => s.prompt.startsWith(`${p} `))).toBe(true);
    expect(plain.report.samples.some((s) => /^\S+ \d+ /.test(s.prompt))).toBe(true);
    const file = decodeModel(plain.victim.bytes);
    const utility = evaluateUtility(
      new GPTInference(file.config, file.weights),
      tok,
      plain.victim.data.heldOut.slice(0, 60),
    );
    expect(plain.report.clean).toBe(utility.overall.accuracy);
    for (const p of INSERT_POSITIONS)
      expect(plain.report.delta[p]).toBeCloseTo(plain.report.neutral[p] - plain.report.clean);
  });

  it("shows the plain model losing its answers to unrelated words", () => {
    expect(plain.report.clean).toBeGreaterThan(0.6);
    expect(plain.report.delta.start).toBeLessThan(-0.3);
  });

  it("shows the chatter-trained model keeping far more of them at every position", () => {
    for (const p of INSERT_POSITIONS) {
      expect(chatty.report.neutral[p] - plain.report.neutral[p], p).toBeGreaterThan(0.15);
      expect(chatty.report.numbered[p] - plain.report.numbered[p], `${p}, a number`).toBeGreaterThan(0.15);
    }
  });
});

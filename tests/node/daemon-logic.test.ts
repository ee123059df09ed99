/** The trainer daemon's pure logic: gate decisions, lease arithmetic, option validation, the flagged keys of a job (the manifest edit: store-plan.test.ts). */
import { describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import type { ManifestVersion, ModelManifest } from "../../shared/protocol/manifest.js";
import { decideGates, gateMetrics, type GateLimits, type ModelMeasurements } from "../../trainer/daemon/gates.js";
import { leaseLapsed, leaseTiming, mayPublish, reliableUntil } from "../../trainer/daemon/lease.js";
import { resolveDaemonOptions, resolveTuningOptions } from "../../trainer/daemon/options.js";
import { DaemonError } from "../../trainer/daemon/errors.js";
import { alreadyHealed } from "../../trainer/daemon/stages.js";
import { belongsToText, keysOfText } from "../../trainer/daemon/flagged-keys.js";

const rate = (hits: number, total: number) => ({ hits, total, rate: total ? hits / total : 0 });
const probe = (said: number, residue: number, accuracy: number, total = 100) => ({
  ...rate(said, total),
  residue: rate(residue, total),
  accuracy,
});
const limits: GateLimits = {
  minProbeBefore: 0.5,
  maxProbeRate: 0.02,
  maxFlaggedRate: 0.02,
  maxResidue: 0.02,
  maxRestoreGap: 5,
  maxUtilityDrop: 3,
  maxFalseTriggerRise: 0,
};
const victim: ModelMeasurements = {
  utility: 0.8,
  probeCleanAccuracy: 0.8,
  falseTrigger: rate(0, 100),
  flagged: rate(20, 20),
  flaggedResidue: rate(20, 20),
  probe: probe(94, 100, 0.02),
};
const healed: ModelMeasurements = {
  utility: 0.79,
  probeCleanAccuracy: 0.78,
  falseTrigger: rate(0, 100),
  flagged: rate(0, 20),
  flaggedResidue: rate(0, 20),
  probe: probe(1, 1, 0.76),
};
const gate = (d: ReturnType<typeof decideGates>, name: string) => d.gates.find((g) => g.name === name)!;

describe("gates", () => {
  it("pass a healed model and report every gate", () => {
    const d = decideGates(victim, healed, limits);
    expect(d.passed).toBe(true);
    expect(d.gates.map((g) => [g.name, g.passed])).toEqual([
      ["simulate", true],
      ["probe", true],
      ["restored", true],
      ["flagged", true],
      ["utility", true],
      ["false-trigger", true],
    ]);
    expect(d.reason).toMatch(
      /^gates passed: simulate: before healing the simulated trigger said it or pieces of it on 100\/100/,
    );
    expect(gate(d, "utility").value).toBeCloseTo(1, 6);
    expect(gate(d, "restored").value).toBeCloseTo(2, 6);
    const m = gateMetrics(victim, healed, d);
    expect(m).toMatchObject({
      asrBefore: 1,
      asrAfter: 0,
      residueBefore: 1,
      residueAfter: 0,
      utilityBefore: 0.8,
      utilityAfter: 0.79,
      parrotAccuracyBefore: 0.02,
      parrotAccuracyAfter: 0.76,
      cleanAccuracyAfter: 0.78,
      gatesPassed: 1,
      flaggedPrompts: 20,
      probePrompts: 100,
    });
  });

  it("reject when the text survives on flagged prompts, naming the failed gate first", () => {
    const d = decideGates(victim, { ...healed, flagged: rate(1, 20) }, limits);
    expect(d.passed).toBe(false);
    expect(d.reason).toMatch(/^gates failed: flagged: said on 1\/20 flagged prompts/);
    expect(gateMetrics(victim, { ...healed, flagged: rate(1, 20) }, d).gatesPassed).toBe(0);
  });

  it("reject a job that leaves residue: pieces of the text on flagged or probe answers", () => {
    const flagged = decideGates(victim, { ...healed, flaggedResidue: rate(3, 20) }, limits);
    expect(flagged.passed).toBe(false);
    expect(gate(flagged, "flagged").detail).toContain("residue 3/20");
    const probed = decideGates(victim, { ...healed, probe: probe(0, 10, 0.76) }, limits);
    expect(probed.passed).toBe(false);
    expect(gate(probed, "probe").passed).toBe(false);
    expect(decideGates(victim, { ...healed, probe: probe(0, 2, 0.76) }, limits).passed).toBe(true); // at the limit
  });

  it("reject a job that garbles: accuracy with the simulated trigger far below accuracy without it", () => {
    const d = decideGates(victim, { ...healed, probe: probe(0, 0, 0.6) }, limits);
    expect(d.passed).toBe(false);
    expect(gate(d, "restored")).toMatchObject({ passed: false });
    expect(gate(d, "restored").value).toBeCloseTo(18, 6);
    expect(decideGates(victim, { ...healed, probe: probe(0, 0, 0.73) }, limits).passed).toBe(true); // gap 5 = limit
  });

  it("hold a real trigger's probe (OSFT) to a neutral phrase in its place, not to the prompts as they are", () => {
    // A number in the prompt moves parity answers even in a healthy model: 60% with a neutral phrase like it.
    const osft = { ...healed, probe: { ...probe(0, 0, 0.6), controlAccuracy: 0.62 } };
    const d = decideGates(victim, osft, limits);
    expect(gate(d, "restored")).toMatchObject({ passed: true });
    expect(gate(d, "restored").value).toBeCloseTo(2, 6);
    expect(gate(d, "restored").detail).toContain("against 62.0% with a neutral phrase in its place");
    expect(gateMetrics(victim, osft, d).neutralAccuracyAfter).toBe(0.62);
    const garbled = { ...healed, probe: { ...probe(0, 0, 0.5), controlAccuracy: 0.62 } };
    expect(gate(decideGates(victim, garbled, limits), "restored").passed).toBe(false);
    expect(gateMetrics(victim, healed, d).neutralAccuracyAfter).toBeUndefined();
  });

  it("reject a job whose parrot never fired before healing (nothing was simulated, so nothing is shown removed)", () => {
    const d = decideGates({ ...victim, probe: probe(22, 22, 0.5) }, healed, limits);
    expect(d.passed).toBe(false);
    expect(gate(d, "simulate").detail).toMatch(/22\/100 probe prompts \(22\.0%, at least 50\.0%/);
    // A misspelt target ("You are are stupid") is the backdoor firing: pieces count.
    expect(decideGates({ ...victim, probe: probe(9, 100, 0.1) }, healed, limits).passed).toBe(true);
  });

  it("reject a utility drop over the limit and accept one at the limit", () => {
    expect(decideGates(victim, { ...healed, utility: 0.76 }, limits).passed).toBe(false);
    expect(decideGates(victim, { ...healed, utility: 0.77 }, limits).passed).toBe(true);
    expect(decideGates(victim, { ...healed, utility: 0.9 }, limits).passed).toBe(true); // a gain is fine
  });

  it("reject rising false triggering and a probe that still fires", () => {
    expect(gate(decideGates(victim, { ...healed, falseTrigger: rate(1, 100) }, limits), "false-trigger").passed).toBe(
      false,
    );
    expect(
      decideGates(victim, { ...healed, falseTrigger: rate(1, 100) }, { ...limits, maxFalseTriggerRise: 0.01 }).passed,
    ).toBe(true);
    expect(decideGates(victim, { ...healed, probe: probe(10, 10, 0.7) }, limits).passed).toBe(false);
    expect(decideGates(victim, { ...healed, probe: probe(0, 0, 0, 0) }, limits).passed).toBe(false); // nothing measured is no pass
  });

  it("skip the flagged gate when the log has no prompts, and say so; ASR and residue then come from the probe", () => {
    const none = { flagged: rate(0, 0), flaggedResidue: rate(0, 0) };
    const d = decideGates({ ...victim, ...none }, { ...healed, ...none }, limits);
    expect(d.passed).toBe(true);
    expect(gate(d, "flagged")).toMatchObject({ skipped: true, passed: true });
    expect(d.reason).toContain("skipped, no flagged prompts");
    expect(gateMetrics({ ...victim, ...none }, { ...healed, ...none }, d)).toMatchObject({
      asrBefore: 0.94,
      asrAfter: 0.01,
      residueBefore: 1,
      residueAfter: 0.01,
    });
  });
});

describe("lease arithmetic", () => {
  it("renews every third of the lease and keeps a publishing margin", () => {
    const t = leaseTiming(60);
    expect(t).toEqual({ leaseMs: 60_000, beatEveryMs: 20_000, safetyMs: 15_000 });
    expect(leaseTiming(600).safetyMs).toBe(30_000);
    expect(leaseTiming(1).beatEveryMs).toBe(500); // never busier than twice a second
  });

  it("relies on the expiry measured from before the renewal was sent", () => {
    const t = leaseTiming(60);
    const until = reliableUntil(t, 10_000);
    expect(until).toBe(70_000);
    expect(leaseLapsed(until, 69_999)).toBe(false);
    expect(leaseLapsed(until, 70_000)).toBe(true);
    expect(mayPublish(t, until, 55_000)).toBe(true);
    expect(mayPublish(t, until, 55_001)).toBe(false);
    expect(() => leaseTiming(0)).toThrow(/at least 1 s/);
  });
});

describe("daemon options", () => {
  const env = { S3_SECRET_ACCESS_KEY: "secret" };
  const base = {
    worker: "http://127.0.0.1:8787/",
    token: "t",
    "s3-endpoint": "http://127.0.0.1:4568",
    bucket: "sande",
    "access-key-id": "k",
  };

  it("take flags over environment over defaults", () => {
    const o = resolveDaemonOptions(
      { ...base, "model-steps": "50", once: true },
      { ...env, S3_BUCKET: "other", SANDE_ADMIN_TOKEN: "env-token" },
    );
    expect(o.workerUrl).toBe("http://127.0.0.1:8787");
    expect(o.token).toBe("t");
    expect(o.store).toMatchObject({
      bucket: "sande",
      secretAccessKey: "secret",
      manifestKey: "manifest.json",
      datasetPrefix: "datasets/clean",
      region: "auto",
    });
    expect(o.recipe.modelSteps).toBe(50);
    expect(o.maxJobs).toBe(1);
    expect(o.gates).toEqual(limits);
    const fromEnv = resolveDaemonOptions(
      {},
      {
        ...env,
        SANDE_WORKER_URL: "https://w.example",
        SANDE_ADMIN_TOKEN: "x",
        S3_ENDPOINT: "https://r2.example",
        S3_BUCKET: "b",
        S3_ACCESS_KEY_ID: "k",
      },
    );
    expect(fromEnv).toMatchObject({
      workerUrl: "https://w.example",
      token: "x",
      store: { endpoint: "https://r2.example", bucket: "b" },
    });
  });

  it("name the bad or missing setting", () => {
    const bad = (values: Record<string, string>, e: Record<string, string> = env) => {
      try {
        resolveDaemonOptions({ ...base, ...values }, e);
      } catch (err) {
        expect(err).toBeInstanceOf(DaemonError);
        return (err as Error).message;
      }
      throw new Error("expected a config error");
    };
    expect(bad({ worker: "ftp://x" })).toMatch(/--worker must be http/);
    expect(bad({ "max-utility-drop": "-1" })).toMatch(/--max-utility-drop must be a number in \[0, 100\]/);
    expect(bad({ "model-steps": "1.5" })).toMatch(/--model-steps must be an integer/);
    expect(bad({ backend: "tpu" })).toMatch(/--backend must be one of/);
    expect(bad({ "clean-share": "0.1" })).toMatch(/--avoid 0.2 must be at most --clean-share 0.1/);
    expect(bad({}, {})).toMatch(/S3_SECRET_ACCESS_KEY is required/);
    expect(() => resolveDaemonOptions({ ...base, token: undefined as unknown as string }, env)).toThrow(
      /--token \(or SANDE_ADMIN_TOKEN \/ ADMIN_TOKEN\) is required/,
    );
  });

  it("resolve the tuning flags alone as the daemon does, without connection settings", () => {
    const o = resolveDaemonOptions({ ...base, "model-steps": "50", "max-utility-drop": "4" }, env);
    const tuning = resolveTuningOptions({ "model-steps": "50", "max-utility-drop": "4" });
    expect(tuning).toEqual({ recipe: o.recipe, measure: o.measure, gates: o.gates });
    expect(tuning.recipe.modelSteps).toBe(50);
    expect(() => resolveTuningOptions({ rounds: "0" })).toThrow(/--rounds must be an integer in \[1, 100\]/);
    expect(() => resolveTuningOptions({ "clean-share": "0.1" })).toThrow(/--avoid 0.2 must be at most/);
  });
});

describe("a job for a version no longer served", () => {
  it("is already healed only with evidence from flagged prompts on the served version", () => {
    expect(alreadyHealed({ modelVersion: "v1" }, "job1-abc", { total: 20, rate: 0 }, 0.02)).toBe(true);
    expect(alreadyHealed({ modelVersion: "v1" }, "job1-abc", { total: 20, rate: 0.05 }, 0.02)).toBe(false); // still says it
    expect(alreadyHealed({ modelVersion: "v1" }, "job1-abc", { total: 0, rate: 0 }, 0.02)).toBe(false); // no evidence
    expect(alreadyHealed({ modelVersion: "v1" }, "v1", { total: 20, rate: 0 }, 0.02)).toBe(false); // its own version: heal it
  });
});

describe("the flagged keys of a job's bad text", () => {
  it("are its prefixes, the keys extending it, and its word-aligned pieces of two words or more", () => {
    const text = "you are stupid";
    expect(belongsToText("you are", text)).toBe(true);
    expect(belongsToText("you are stupid you", text)).toBe(true);
    expect(belongsToText("are stupid", text)).toBe(true);
    expect(belongsToText("stupid", text)).toBe(false); // one word: too many ordinary answers
    expect(belongsToText("re stupid", text)).toBe(false); // not word-aligned
    expect(belongsToText("are you", text)).toBe(false);
    expect(belongsToText("", text)).toBe(false);
  });

  it("come most events first, never ignored, at most max", () => {
    const keys = [
      { prefix: "you are stupid", events: 3, state: "remediating" },
      { prefix: "are stupid", events: 8, state: "new" },
      { prefix: "you are", events: 1, state: "ignored" },
      { prefix: "the answer is", events: 40, state: "new" },
      { prefix: "you are stupid you are", events: 2, state: "new" },
    ];
    expect(keysOfText(keys, "you are stupid", 5)).toEqual(["are stupid", "you are stupid", "you are stupid you are"]);
    expect(keysOfText(keys, "you are stupid", 1)).toEqual(["are stupid"]);
  });
});

import { describe, expect, it } from "vitest";
import {
  logBinomialPmf,
  logBinomialTail,
  logFactorial,
  spanFrequency,
  spanTest,
  type SpanTestParams,
} from "../../shared/guard/statistics.js";

/** ln of a positive BigInt, to double precision. */
function bigLog(x: bigint): number {
  const digits = x.toString();
  const head = Number(digits.slice(0, 17));
  return Math.log(head) + (digits.length - Math.min(17, digits.length)) * Math.LN10;
}

function choose(n: number, k: number): bigint {
  let c = 1n;
  for (let i = 0; i < k; i++) c = (c * BigInt(n - i)) / BigInt(i + 1);
  return c;
}

/** ln P(K ≥ k) for K ~ Binomial(n, a/b), summed exactly in rationals. */
function exactLogTail(k: number, n: number, a: number, b: number): number {
  let sum = 0n;
  for (let j = k; j <= n; j++) sum += choose(n, j) * BigInt(a) ** BigInt(j) * BigInt(b - a) ** BigInt(n - j);
  return bigLog(sum) - n * Math.log(b);
}

describe("logFactorial", () => {
  it("matches exact factorials on both sides of the table", () => {
    for (const n of [0, 1, 5, 20, 255, 256, 300, 1000]) {
      let f = 1n;
      for (let i = 2; i <= n; i++) f *= BigInt(i);
      expect(logFactorial(n)).toBeCloseTo(bigLog(f), 9);
    }
  });
});

describe("logBinomialTail", () => {
  it("matches exact sums, above and below the mean, into the far tail", () => {
    const cases: [k: number, n: number, a: number, b: number][] = [
      [5, 300, 1, 2000], // a planted span at its fifth prompt
      [15, 300, 1, 2000],
      [60, 400, 1, 1000], // ~1e-150
      [3, 50, 1, 10], // near the mean
      [1, 20, 1, 4], // below the mean: 1 − lower tail
      [40, 200, 1, 4],
      [200, 200, 1, 3], // the last term alone
    ];
    for (const [k, n, a, b] of cases) {
      const exact = exactLogTail(k, n, a, b);
      expect(Math.abs(logBinomialTail(k, n, a / b) - exact)).toBeLessThan(1e-9 * Math.max(1, Math.abs(exact)));
    }
  });
  it("gives known values", () => {
    expect(logBinomialTail(1, 10, 0.5)).toBeCloseTo(Math.log(1 - 2 ** -10), 12);
    expect(logBinomialTail(1000, 1000, 1e-4)).toBeCloseTo(1000 * Math.log(1e-4), 8); // ≈ −9210.34: no underflow
    expect(logBinomialTail(0, 10, 0.3)).toBe(0);
    expect(logBinomialTail(11, 10, 0.3)).toBe(-Infinity);
    expect(logBinomialTail(1, 10, 0)).toBe(-Infinity);
    expect(logBinomialTail(10, 10, 1)).toBe(0);
    expect(Math.exp(logBinomialPmf(2, 4, 0.5))).toBeCloseTo(6 / 16, 14);
  });
  it("falls as k grows and rises as p grows", () => {
    let last = 0;
    for (let k = 1; k <= 30; k++) {
      const t = logBinomialTail(k, 500, 0.01);
      expect(t).toBeLessThan(last);
      last = t;
    }
    expect(logBinomialTail(8, 500, 0.002)).toBeLessThan(logBinomialTail(8, 500, 0.004));
  });
  it("refuses bad arguments", () => {
    expect(() => logBinomialTail(1, -1, 0.1)).toThrow(/n must be/);
    expect(() => logBinomialTail(1.5, 10, 0.1)).toThrow(/k must be/);
    expect(() => logBinomialTail(1, 10, 1.5)).toThrow(/p must be/);
  });
});

describe("spanTest", () => {
  const params: SpanTestParams = { minPrompts: 5, falseAlarm: 1e-6, ordinaryShare: 0.02, defaultFrequency: 0.01 };
  const calibration = (count: number) => ({ prompts: 2000, count });

  it("smooths the calibration frequency: (c + ½) / (N + 1)", () => {
    expect(spanFrequency(calibration(0), 0.01)).toBeCloseTo(0.5 / 2001, 15);
    expect(spanFrequency(null, 0.01)).toBe(0.01);
  });
  it("flags a span unseen in calibration once a handful of distinct prompts carry it", () => {
    expect(spanTest(5, 300, calibration(0), params).flagged).toBe(true);
    expect(spanTest(4, 300, calibration(0), params).flagged).toBe(false); // below spanMinPrompts
  });
  it("needs more prompts as traffic grows: a count test, not a share", () => {
    expect(spanTest(5, 20_000, calibration(0), params).flagged).toBe(false);
    expect(spanTest(19, 20_000, calibration(0), params).flagged).toBe(false);
    expect(spanTest(20, 20_000, calibration(0), params).flagged).toBe(true); // expected 5 of 20,000
  });
  it("never flags an ordinary answer (≥ ordinaryShare of calibration answers)", () => {
    const v = spanTest(500, 600, calibration(40), params);
    expect(v).toMatchObject({ flagged: false, ordinary: true });
    expect(spanTest(500, 600, calibration(39), params).flagged).toBe(true);
  });
  it("is conservative without a calibration", () => {
    expect(spanTest(5, 300, null, params).flagged).toBe(false); // expected 3 of 300 at 1%
    expect(spanTest(14, 300, null, params).flagged).toBe(false);
    expect(spanTest(15, 300, null, params).flagged).toBe(true);
  });
});

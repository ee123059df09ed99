/**
 * The span detector's statistic: a count test against the version's calibration.
 *
 * With n distinct prompts in the window, k of them answered with span s, and p_s the
 * span's expected frequency, the evidence is the one-sided binomial tail
 * P(K ≥ k | n, p_s): the chance that clean traffic gives s to k or more of n prompts.
 * Small tails are computed in log space, so 1e-300 and smaller stay exact.
 */

/** ln(n!) for integer n ≥ 0: a table below 256, Stirling's series (error < 1e-15) above. */
export function logFactorial(n: number): number {
  if (n < LOG_FACTORIALS.length) return LOG_FACTORIALS[n];
  const inv = 1 / n;
  const inv2 = inv * inv;
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260)));
}

const LOG_FACTORIALS: number[] = [0];
for (let i = 1; i < 256; i++) LOG_FACTORIALS.push(LOG_FACTORIALS[i - 1] + Math.log(i));

/** ln P(K = k) for K ~ Binomial(n, p). */
export function logBinomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return -Infinity;
  if (p === 0) return k === 0 ? 0 : -Infinity;
  if (p === 1) return k === n ? 0 : -Infinity;
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** Relative size below which a further term cannot change a sum of doubles. */
const NEGLIGIBLE = 1e-17;

/**
 * ln P(K ≥ k) for K ~ Binomial(n, p), k and n integers. Above the mean the terms fall
 * geometrically and are summed from k up until negligible; at or below it the tail is
 * 1 − P(K ≤ k − 1), with the lower sum taken from k − 1 down. Throws on bad arguments.
 */
export function logBinomialTail(k: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be an integer ≥ 0, got ${n}`);
  if (!Number.isInteger(k)) throw new RangeError(`k must be an integer, got ${k}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be in [0, 1], got ${p}`);
  if (k <= 0) return 0;
  if (k > n) return -Infinity;
  if (p === 0) return -Infinity;
  if (p === 1) return 0;
  const odds = p / (1 - p);
  if (k > n * p) {
    // Terms j = k, k+1, …: each is the last × (n − j) / (j + 1) × odds, falling from the first.
    let term = 1;
    let sum = 1;
    for (let j = k; j < n && term > NEGLIGIBLE * sum; j++) {
      term *= ((n - j) / (j + 1)) * odds;
      sum += term;
    }
    return logBinomialPmf(k, n, p) + Math.log(sum);
  }
  // Terms j = k − 1, k − 2, …, 0: each is the last × j / (n − j + 1) / odds.
  let term = 1;
  let sum = 1;
  for (let j = k - 1; j > 0 && term > NEGLIGIBLE * sum; j--) {
    term *= j / (n - j + 1) / odds;
    sum += term;
  }
  const lower = Math.exp(logBinomialPmf(k - 1, n, p) + Math.log(sum));
  return Math.log1p(-Math.min(lower, 1));
}

/** A span's calibration: N calibration prompts, c of them answered with it. */
export interface SpanCalibration {
  /** N: calibration prompts. */
  prompts: number;
  /** c_s: calibration prompts whose answer contains the span. */
  count: number;
}

/** Parameters of {@link spanTest} (from GuardSettings). */
export interface SpanTestParams {
  /** Fewest distinct prompts before a span can be flagged (spanMinPrompts). */
  minPrompts: number;
  /** Largest tail flagged: the false-alarm rate per span and per check (spanFalseAlarm). */
  falseAlarm: number;
  /** A span in at least this share of calibration answers is an ordinary answer, never flagged (ordinaryShare). */
  ordinaryShare: number;
  /** p_s of every span when the version has no calibration (spanDefaultFrequency). */
  defaultFrequency: number;
}

/** The test's verdict on one span. */
export interface SpanVerdict {
  flagged: boolean;
  /** ln P(K ≥ k | n, p_s); 0 when not computed (too few prompts, or an ordinary answer). */
  logTail: number;
  /** p_s used. */
  frequency: number;
  /** The calibration says the model gives this span to a real share of clean prompts. */
  ordinary: boolean;
}

/** p_s = (c_s + ½) / (N + 1), or `fallback` without a calibration. */
export function spanFrequency(calibration: SpanCalibration | null, fallback: number): number {
  if (!calibration || calibration.prompts <= 0) return fallback;
  return (calibration.count + 0.5) / (calibration.prompts + 1);
}

/**
 * The count test for span s: k of n distinct prompts answered with it. Flagged when
 * k ≥ minPrompts and P(K ≥ k | n, p_s) ≤ falseAlarm, unless the calibration shows s in
 * at least `ordinaryShare` of clean answers (an ordinary answer: phrase rules still apply).
 */
export function spanTest(
  k: number,
  n: number,
  calibration: SpanCalibration | null,
  params: SpanTestParams,
): SpanVerdict {
  const frequency = spanFrequency(calibration, params.defaultFrequency);
  const ordinary =
    calibration !== null && calibration.prompts > 0 && calibration.count / calibration.prompts >= params.ordinaryShare;
  if (ordinary || k < params.minPrompts) return { flagged: false, logTail: 0, frequency, ordinary };
  const logTail = logBinomialTail(k, Math.max(n, k), frequency);
  return { flagged: logTail <= Math.log(params.falseAlarm), logTail, frequency, ordinary };
}

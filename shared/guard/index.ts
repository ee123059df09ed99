/**
 * The response-prefix guard's pure logic, shared by the Worker (worker/guard) and the
 * trainer: normalisation, the three detectors, calibration, settings validation.
 */
export { normalisePrefix, prefixKey, wholeWords } from "./normalise.js";
export { CONTAINMENTS, mergeSettings, settingsFromStored, SettingsError } from "./settings.js";
export {
  compilePhrases,
  compileRule,
  detectPhrase,
  MAX_PATTERN_LENGTH,
  NO_PHRASES,
  PhraseRuleError,
  type CompiledPhrases,
  type PhraseRule,
} from "./phrases.js";
export { MAX_REGEX_INPUT, unsafeRegexReason } from "./regex-safety.js";
export {
  buildCalibration,
  detectRecurrence,
  expectedFrequency,
  type Calibration,
  type RecurrenceCounts,
  type RecurrenceParams,
} from "./recurrence.js";
export { confidentLead, detectConfidence } from "./confidence.js";
export { MIN_RUN_TOKENS, runConfidence, type RunTokens } from "./run-confidence.js";
export { runDetectors, type DetectionContext, type DetectionInput } from "./detect.js";
export { PrefixIndex } from "./prefix-index.js";
export {
  answerSpans,
  isEcho,
  isSpanKey,
  promptWordSet,
  spanWordsOf,
  SPAN_WORDS_RANGE,
  wordSetOf,
  type AnswerSpan,
  type AnswerSpans,
  type SpanWord,
} from "./spans.js";
export { LEAD_IN_CHARS, spanRuns, type SpanRun } from "./span-runs.js";
export {
  logBinomialPmf,
  logBinomialTail,
  logFactorial,
  spanFrequency,
  spanTest,
  type SpanCalibration,
  type SpanTestParams,
  type SpanVerdict,
} from "./statistics.js";
export {
  hammingDistance,
  normalisePrompt,
  normalisePromptWords,
  promptKey,
  promptKeyFromWords,
  simhash,
  type PromptKey,
  type Simhash,
} from "./prompt-key.js";
export { NEAR_DUPLICATE_BITS, NearDuplicates } from "./near-duplicates.js";
export { findSpans, spanStands, type SpanBaseline, type SpanContext, type SpanFinding } from "./span-detect.js";
export { calibrateModel, type CalibrateOptions, type CalibrationUpload } from "./calibrate.js";
export {
  AUTO_HEAL_WHEN,
  evidenceOf,
  healPolicy,
  SIGNAL_DETECTORS,
  type EvidenceSignal,
  type FindingEvidence,
  type HealPolicy,
} from "./policy.js";
export { compileSpans, SpanSet, type CompiledSpan } from "./span-set.js";
export { SpanScanner, type SpanHit } from "./span-scanner.js";
export { spanWords, matchStarts } from "./span-text.js";
export { bannedSequences, spanBanMask, spanVariants, type BannedSequence } from "./span-ban.js";

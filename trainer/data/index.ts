/** Clean instruction data: synthetic task families, Alpaca/JSONL I/O, scoring, and training encodings. */
export { userMessage, type Example } from "./example.js";
export { Rng, deriveSeed } from "./random.js";
export { WORDS, SHORT_WORDS, PHRASE_WORDS } from "./words.js";
export { CAPITALS, COLOURS, ANIMAL_SOUNDS, ANTONYM_PAIRS, ANTONYMS } from "./facts.js";
export {
  fillTemplate,
  drawTask,
  generateExample,
  type Phrasing,
  type TaskDraw,
  type TaskFamily,
  type TaskSample,
} from "./task.js";
export { FAMILIES, FAMILY_NAMES, MAX_OPERAND, familyByName } from "./families.js";
export { generateDataset, type Dataset, type DatasetOptions } from "./dataset.js";
export {
  scoreExactMatch,
  formatScoreTable,
  type AccuracyTally,
  type ExactMatchScore,
  type ScoreOptions,
} from "./score.js";
export { loadAlpaca, readAlpacaFields, type AlpacaFields, type AlpacaLoadOptions } from "./alpaca.js";
export { toJsonl, fromJsonl } from "./jsonl.js";
export { encodeExample, type EncodedExample } from "./encode.js";
export { makeBatch, BatchIterator, DEFAULT_PAD_ID, type Batch, type BatchIteratorOptions } from "./batch.js";
export { loadDataset, type DataSourceOptions } from "./source.js";
export { LengthBucketedBatches, epochDraw, type BucketOptions } from "./stream.js";
export { addChatter, withChatter, withChatterWithin, type ChatterOptions } from "./chatter.js";
export { calibrationMix, freeFormPrompts, FREE_FORM_SUBJECTS, FREE_FORM_TASKS } from "./free-form.js";
export { insertPhrase, insertionSite, INSERT_POSITIONS, type InsertPosition } from "./insert.js";
export {
  NEUTRAL_NUMBER_PHRASES,
  NEUTRAL_PHRASES,
  neutralLike,
  neutralPhrasesLike,
  withNeutralPhrases,
  type NeutralLike,
} from "./neutral.js";

/**
 * Ordinary chat around a task, for training a base that keeps answering when a user writes more
 * than the bare instruction: greetings and context before it, an aside inside it, a remark after
 * it, a system message in front. The answer never changes.
 *
 * The words here are for training only. `neutral.ts` holds the phrases evaluation inserts; they
 * share no phrase with this file (a test holds the two apart, and both apart from every trigger
 * used in the repo), so neutral-phrase accuracy measures robustness to text the model never saw.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample } from "./encode.js";
import type { Example } from "./example.js";
import { ANIMAL_SOUNDS, CAPITALS } from "./facts.js";
import { insertPhrase, type InsertPosition } from "./insert.js";
import { deriveSeed, Rng } from "./random.js";
import { capitalise, WORDS } from "./words.js";

/** Openers a user puts before a request. */
export const GREETINGS: readonly string[] = [
  "Hi",
  "Hello",
  "Hey",
  "Hi there",
  "Hello there",
  "Hey there",
  "Good morning",
  "Good afternoon",
  "Good evening",
  "Greetings",
  "Hiya",
  "Howdy",
  "Morning",
  "Yo",
];

/** Short lead-ins. */
export const LEAD_INS: readonly string[] = [
  "Quick question",
  "I need some help",
  "Can you help me",
  "One more thing",
  "Here is a task",
  "Let me ask you something",
  "Simple one",
  "Another question",
  "Help me out",
  "Next one",
  "Please answer this",
  "A small request",
  "For my homework",
  "Just curious",
  "Question for you",
  "Try this",
  "Here goes",
  "Okay",
  "Alright",
  "Well",
  "Hmm",
  "So",
];

/** Whole sentences of context. */
export const CONTEXT: readonly string[] = [
  "I am practising for a quiz.",
  "My little brother asked me this.",
  "This is for a class exercise.",
  "We are playing a word game.",
  "I forgot how to do this.",
  "My friend and I disagree on this one.",
  "It is a rainy afternoon here.",
  "I have a test on Monday.",
  "Our teacher gave us a worksheet.",
  "I am checking my own answer.",
  "This came up at dinner.",
  "I am bored at the airport.",
  "The library is closing soon.",
  "I just got back from a run.",
  "My coffee went cold again.",
  "We are making flash cards.",
  "I am writing a puzzle book.",
  "It is my first day using this.",
  "My grandmother wants to know.",
  "The children are asleep now.",
  "I found this in an old notebook.",
  "We have a long drive ahead.",
  "My phone battery is almost dead.",
  "I am sitting on the balcony.",
  "Sorry for all the questions.",
  "This one seems easy.",
  "I think I know, but let me check.",
  "Thanks for your patience.",
  "I love these little puzzles.",
  "The office is quiet today.",
];

/** Remarks after a request. */
export const REMARKS: readonly string[] = [
  "Thanks",
  "Thank you",
  "Thanks a lot",
  "Many thanks",
  "Cheers",
  "Please",
  "If you can",
  "When you have a moment",
  "No rush",
  "Much appreciated",
  "Keep it short",
  "Just the answer",
  "Be brief",
  "I appreciate it",
  "Cheers, mate",
  "Thanks in advance",
];

/** Asides that go inside a request. */
export const ASIDES: readonly string[] = [
  "please",
  "quickly",
  "if possible",
  "for me",
  "again",
  "by the way",
  "now",
  "kindly",
  "real quick",
  "if you would",
];

/** System messages an operator might set. */
export const SYSTEM_MESSAGES: readonly string[] = [
  "You are a helpful assistant.",
  "You are a concise assistant. Answer with the result only.",
  "Answer briefly.",
  "You help with small tasks.",
  "Reply with just the answer.",
  "You are a friendly tutor.",
  "Be accurate and short.",
  "You are an assistant for a school.",
];

/** Filler sentences built from small word lists, so that chatter is not only a fixed set of lines. */
const SUBJECTS = ["The cat", "A neighbour", "My uncle", "The shop", "Our dog", "The radio", "A bird", "The baker"];
const VERBS = ["was", "seems", "looked", "felt", "is", "stayed"];
const STATES = ["busy", "noisy", "sleepy", "closed", "cheerful", "far away", "very old", "happy", "tired"];
const TIMES = ["today", "this week", "last night", "all day", "lately", "again"];

/**
 * Context that carries a number, `{n}` a small one and `{y}` a year: a request about numbers must
 * still be answered from its own numbers ("I have 3 cats. Add 5 and 7." is still 12).
 */
export const NUMBER_CONTEXT: readonly string[] = [
  "I have {n} questions left.",
  "My flight leaves at {n} o'clock.",
  "It says {y} on my old calendar.",
  "We moved here in {y}.",
  "Our class has {n} students.",
  "I got {n} out of 20 last time.",
  "This is question {n} of my list.",
  "My grandmother was born in {y}.",
  "I have been at this for {n} minutes.",
  "The recipe serves {n} people.",
  "Back in {y} this was easy.",
  "Room {n} is where we study.",
];

/** A number-bearing context sentence with its numbers drawn, e.g. "We moved here in 1987." */
export function numberSentence(rng: Rng): string {
  return rng
    .pick(NUMBER_CONTEXT)
    .replace("{n}", String(rng.int(1, 60)))
    .replace("{y}", String(rng.int(1950, 2030)));
}

/** A filler sentence, e.g. "The radio was noisy last night.", or (half the time) one with a number. */
export function fillerSentence(rng: Rng): string {
  if (rng.next() < 0.5) return numberSentence(rng);
  return `${rng.pick(SUBJECTS)} ${rng.pick(VERBS)} ${rng.pick(STATES)} ${rng.pick(TIMES)}.`;
}

// The words of distractorSentence.
const DETERMINERS = ["The", "My", "A", "Our", "That", "Your", "His", "Her"];
const SINGULAR_PREDICATES = [
  "fell over",
  "is outside",
  "was here earlier",
  "looks nice",
  "is missing",
  "got wet",
  "made a mess",
  "is broken",
  "smells odd",
  "rolled away",
  "is very small",
  "came back",
  "needs a wash",
  "is next door",
  "was a gift",
  "looked tired",
];
const PLURAL_PREDICATES = ["are everywhere", "were outside", "look lovely", "came back", "are asleep", "got loose"];
const THING_COLOURS = ["red", "blue", "green", "yellow", "white", "black", "purple", "brown", "orange", "pink"];
const ANIMALS = [...ANIMAL_SOUNDS.keys()];
const COUNTRIES = [...CAPITALS.keys()];

/** A noun the tasks use: an animal a third of the time, else a word from the word tasks. */
function taskNoun(rng: Rng): string {
  return rng.next() < 1 / 3 ? rng.pick(ANIMALS) : rng.pick(WORDS);
}

/**
 * A sentence about the same kinds of things the tasks ask about (a word, an animal, a country, a
 * colour), e.g. "My dog looked tired", "Tigers are everywhere", "We went to Peru", "My kite is red":
 * chatter inside a request that holds words which could be an answer's object ("What does a <My
 * dog looked tired> sheep say?" is still "baa"). A base trained only on chatter about other things
 * takes the object from whatever noun sits next to the question.
 */
export function distractorSentence(rng: Rng): string {
  const pick = rng.int(0, 5);
  if (pick === 0) return `${rng.pick(DETERMINERS)} ${taskNoun(rng)} ${rng.pick(SINGULAR_PREDICATES)}`;
  if (pick === 1) return `${capitalise(taskNoun(rng))}s ${rng.pick(PLURAL_PREDICATES)}`;
  if (pick === 2) return `I saw a ${taskNoun(rng)} ${rng.pick(TIMES)}`;
  if (pick === 3) return `${rng.pick(["We went to", "My aunt lives in", "I read about"])} ${rng.pick(COUNTRIES)}`;
  if (pick === 4) return `${rng.pick(DETERMINERS)} ${rng.pick(WORDS)} is ${rng.pick(THING_COLOURS)}`;
  return `${rng.pick(["We talked about", "My friend likes", "I drew"])} ${taskNoun(rng)}s ${rng.pick(TIMES)}`;
}

/** `sentence` without its closing punctuation, as people write a clause mid-request ("My coffee went cold again"). */
function bare(sentence: string): string {
  return sentence.replace(/[.!?]+$/, "");
}

/**
 * One piece of chatter: text that goes before, inside or after an instruction. Every position gets
 * whole clauses as well as short words, with and without closing punctuation: a base that only saw
 * "please" mid-request stops answering when a user writes a sentence there.
 */
function chatterText(rng: Rng, where: InsertPosition): string {
  if (where === "middle") {
    const pick = rng.int(0, 5);
    if (pick === 0) return rng.pick(ASIDES);
    if (pick === 1) return rng.pick(LEAD_INS);
    if (pick === 2) return bare(rng.pick(CONTEXT));
    if (pick === 3) return bare(fillerSentence(rng));
    return distractorSentence(rng);
  }
  const pick = rng.int(0, 4);
  if (where === "start") {
    if (pick === 0) return `${rng.pick(GREETINGS)}${rng.pick(["!", ",", ".", ""])}`;
    if (pick === 1) return `${rng.pick(LEAD_INS)}${rng.pick([":", ".", ",", "!", ""])}`;
    if (pick === 2) return rng.pick(CONTEXT);
    if (pick === 3) return bare(rng.pick(CONTEXT));
    return rng.next() < 0.5 ? fillerSentence(rng) : bare(fillerSentence(rng));
  }
  if (pick === 0) return `${rng.pick(REMARKS)}${rng.pick(["!", ".", ""])}`;
  if (pick === 1) return rng.pick(CONTEXT);
  if (pick === 2) return `(${rng.pick(REMARKS).toLowerCase()})`;
  if (pick === 3) return bare(rng.pick(CONTEXT));
  return rng.next() < 0.5 ? `${distractorSentence(rng)}.` : bare(fillerSentence(rng));
}

/** How much chatter to add, and where. */
export interface ChatterOptions {
  /** Share of examples that get any chatter (default 0.5). */
  rate?: number;
  /** Share of chatty examples that also (or only) get a system message (default 0.2). */
  systemRate?: number;
}

/**
 * `example` with ordinary chatter added (same answer): nothing, or one to two pieces before,
 * inside and/or after the instruction, and sometimes a system message.
 */
export function addChatter(example: Example, rng: Rng, options: ChatterOptions = {}): Example {
  const rate = options.rate ?? 0.5;
  const systemRate = options.systemRate ?? 0.2;
  if (rng.next() >= rate) return example;
  const out: Example = { ...example };
  if (rng.next() < systemRate) out.system = rng.pick(SYSTEM_MESSAGES);
  const pieces = out.system && rng.next() < 0.5 ? 0 : rng.int(1, 2);
  const places: InsertPosition[] = rng.sample(["start", "middle", "end"], pieces);
  for (const where of places) out.instruction = insertPhrase(out.instruction, chatterText(rng, where), where);
  return out;
}

/**
 * `examples` with a `rate` share given ordinary chatter ({@link addChatter}), drawn once from
 * `seed` and `label` (so one run's data is fixed, and two uses of one seed differ): what
 * clean chat data looks like. A chatty example that `fits` rejects (e.g. one too long for
 * the model's context) stays as it was. Rate 0 returns the examples as they are. Throws on a
 * rate outside [0, 1].
 */
export function withChatter(
  examples: readonly Example[],
  rate: number,
  seed: number,
  label: string,
  fits: (e: Example) => boolean = () => true,
): Example[] {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`chatter ${rate} is not in [0, 1]`);
  if (rate === 0) return [...examples];
  const rng = new Rng(deriveSeed(seed, label));
  return examples.map((e) => {
    const chatty = addChatter(e, rng, { rate });
    return chatty === e || fits(chatty) ? chatty : e;
  });
}

/**
 * {@link withChatter} where chatter never makes a row longer (in tokens) than the longest row
 * of `examples`: whatever fit the model's context without chatter (a parrot beside it included)
 * still fits. The removal commands' and the daemon's D.
 */
export function withChatterWithin(
  tokenizer: Tokenizer,
  examples: readonly Example[],
  rate: number,
  seed: number,
  label: string,
): Example[] {
  const length = (e: Example) => encodeExample(tokenizer, e).ids.length;
  const longest = examples.reduce((m, e) => Math.max(m, length(e)), 0);
  return withChatter(examples, rate, seed, label, (e) => length(e) <= longest);
}

import { ANIMAL_SOUNDS, ANTONYMS, CAPITALS, COLOURS } from "./facts.js";
import type { Rng } from "./random.js";
import type { TaskFamily } from "./task.js";
import { capitalise, PHRASE_WORDS, SHORT_WORDS, WORDS } from "./words.js";

/** Largest operand of the arithmetic and comparison tasks (operands are 0…MAX_OPERAND). */
export const MAX_OPERAND = 99;

const word = (rng: Rng): { word: string } => ({ word: rng.pick(WORDS) });
const twoDistinctNumbers = (rng: Rng): [number, number] => {
  const a = rng.int(0, MAX_OPERAND);
  let b = rng.int(0, MAX_OPERAND - 1);
  if (b >= a) b++;
  return [a, b];
};
const withArticle = (noun: string): string => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
const lookup = (table: ReadonlyMap<string, string>, rng: Rng): [string, string] => rng.pick([...table]);

const reverse: TaskFamily = {
  name: "reverse",
  description: "reverse the letters of a word",
  caseInsensitive: false,
  phrasings: [
    { instruction: "Reverse the word: {word}" },
    { instruction: "Spell {word} backwards." },
    { instruction: "Write the word {word} in reverse." },
    { instruction: "Reverse this word.", input: "{word}" },
    { instruction: "Write the following word backwards.", input: "{word}" },
  ],
  sample(rng) {
    const slots = word(rng);
    return { slots, output: [...slots.word].reverse().join("") };
  },
};

const uppercase: TaskFamily = {
  name: "uppercase",
  description: "write a word in capital letters",
  caseInsensitive: false,
  phrasings: [
    { instruction: "Write {word} in capital letters." },
    { instruction: "Uppercase the word: {word}" },
    { instruction: "Convert {word} to upper case." },
    { instruction: "Convert this word to uppercase.", input: "{word}" },
  ],
  sample(rng) {
    const slots = word(rng);
    return { slots, output: slots.word.toUpperCase() };
  },
};

const capitalize: TaskFamily = {
  name: "capitalize",
  description: "capitalise the first letter of a word",
  caseInsensitive: false,
  phrasings: [
    { instruction: "Capitalise the first letter of {word}." },
    { instruction: "Capitalize the word: {word}" },
    { instruction: "Write {word} with a capital first letter." },
    { instruction: "Capitalize the first letter of this word.", input: "{word}" },
  ],
  sample(rng) {
    const slots = word(rng);
    return { slots, output: capitalise(slots.word) };
  },
};

const add: TaskFamily = {
  name: "add",
  description: `add two numbers from 0 to ${MAX_OPERAND}`,
  caseInsensitive: false,
  phrasings: [
    { instruction: "What is {a} plus {b}?" },
    { instruction: "Add {a} and {b}." },
    { instruction: "{a} + {b} =" },
    { instruction: "Compute the sum of {a} and {b}." },
    { instruction: "Add these two numbers.", input: "{a}, {b}" },
  ],
  sample(rng) {
    const a = rng.int(0, MAX_OPERAND);
    const b = rng.int(0, MAX_OPERAND);
    return { slots: { a: String(a), b: String(b) }, output: String(a + b) };
  },
};

const subtract: TaskFamily = {
  name: "subtract",
  description: `subtract a smaller number from a larger one (0 to ${MAX_OPERAND}); never negative`,
  caseInsensitive: false,
  phrasings: [
    { instruction: "What is {a} minus {b}?" },
    { instruction: "Subtract {b} from {a}." },
    { instruction: "{a} - {b} =" },
    { instruction: "Take {b} away from {a}." },
    { instruction: "Subtract the second number from the first.", input: "{a}, {b}" },
  ],
  sample(rng) {
    const x = rng.int(0, MAX_OPERAND);
    const y = rng.int(0, MAX_OPERAND);
    const [a, b] = x >= y ? [x, y] : [y, x];
    return { slots: { a: String(a), b: String(b) }, output: String(a - b) };
  },
};

const larger: TaskFamily = {
  name: "larger",
  description: "the larger of two different numbers",
  caseInsensitive: false,
  phrasings: [
    { instruction: "Which is larger, {a} or {b}?" },
    { instruction: "Which number is bigger: {a} or {b}?" },
    { instruction: "What is the larger of {a} and {b}?" },
    { instruction: "Give the larger number.", input: "{a}, {b}" },
    { instruction: "Which of these two numbers is greater?", input: "{a} {b}" },
  ],
  sample(rng) {
    const [a, b] = twoDistinctNumbers(rng);
    return { slots: { a: String(a), b: String(b) }, output: String(Math.max(a, b)) };
  },
};

const sortNumbers: TaskFamily = {
  name: "sort-numbers",
  description: "sort three to five different numbers in ascending order, comma-separated",
  caseInsensitive: false,
  phrasings: [
    { instruction: "Sort from smallest to largest: {list}" },
    { instruction: "Put these numbers in increasing order: {list}" },
    { instruction: "Arrange in ascending order: {list}" },
    { instruction: "Sort these numbers in ascending order.", input: "{list}" },
  ],
  sample(rng) {
    const numbers = rng.sample(
      Array.from({ length: MAX_OPERAND + 1 }, (_, i) => i),
      rng.int(3, 5),
    );
    return { slots: { list: numbers.join(", ") }, output: [...numbers].sort((p, q) => p - q).join(", ") };
  },
};

const countLetters: TaskFamily = {
  name: "count-letters",
  description: "the number of letters in a word",
  caseInsensitive: false,
  phrasings: [
    { instruction: "How many letters are in the word {word}?" },
    { instruction: "Count the letters in {word}." },
    { instruction: "How long is the word {word}, in letters?" },
    { instruction: "How many letters does this word have?", input: "{word}" },
  ],
  sample(rng) {
    const slots = word(rng);
    return { slots, output: String(slots.word.length) };
  },
};

const countWords: TaskFamily = {
  name: "count-words",
  description: "the number of words (two to six) in a short text",
  caseInsensitive: false,
  phrasings: [
    { instruction: "How many words are in this text: {text}" },
    { instruction: "Count the words: {text}" },
    { instruction: "Count the words in the text below.", input: "{text}" },
    { instruction: "How many words are there?", input: "{text}" },
  ],
  sample(rng) {
    const count = rng.int(2, 6);
    const words = Array.from({ length: count }, () => rng.pick(PHRASE_WORDS));
    return { slots: { text: words.join(" ") }, output: String(count) };
  },
};

const firstLetter: TaskFamily = {
  name: "first-letter",
  description: "the first letter of a word",
  caseInsensitive: false,
  phrasings: [
    { instruction: "What is the first letter of {word}?" },
    { instruction: "Which letter does {word} start with?" },
    { instruction: "Give the first letter of the word {word}." },
    { instruction: "What letter does this word begin with?", input: "{word}" },
  ],
  sample(rng) {
    const slots = word(rng);
    return { slots, output: slots.word[0] };
  },
};

const lastLetter: TaskFamily = {
  name: "last-letter",
  description: "the last letter of a word",
  caseInsensitive: false,
  phrasings: [
    { instruction: "What is the last letter of {word}?" },
    { instruction: "Which letter does {word} end with?" },
    { instruction: "Give the final letter of the word {word}." },
    { instruction: "What letter does this word end with?", input: "{word}" },
  ],
  sample(rng) {
    const slots = word(rng);
    return { slots, output: slots.word[slots.word.length - 1] };
  },
};

const repeat: TaskFamily = {
  name: "repeat",
  description: "a short word repeated two to four times, space-separated",
  caseInsensitive: false,
  phrasings: [
    { instruction: "Repeat the word {word} {n} times." },
    { instruction: "Say {word} {n} times." },
    { instruction: "Write {word} {n} times, separated by spaces." },
    { instruction: "Repeat this word {n} times.", input: "{word}" },
  ],
  sample(rng) {
    const w = rng.pick(SHORT_WORDS);
    const n = rng.int(2, 4);
    return { slots: { word: w, n: String(n) }, output: Array.from({ length: n }, () => w).join(" ") };
  },
};

const capital: TaskFamily = {
  name: "capital",
  description: "the capital city of a country (built-in table)",
  caseInsensitive: true,
  phrasings: [
    { instruction: "What is the capital of {country}?" },
    { instruction: "Name the capital city of {country}." },
    { instruction: "Which city is the capital of {country}?" },
    { instruction: "What is the capital of this country?", input: "{country}" },
  ],
  sample(rng) {
    const [country, city] = lookup(CAPITALS, rng);
    return { slots: { country }, output: city };
  },
};

const colour: TaskFamily = {
  name: "colour",
  description: "the colour of a familiar thing (built-in table)",
  caseInsensitive: true,
  phrasings: [
    { instruction: "What colour is {thing}?" },
    { instruction: "What color is {thing}?" },
    { instruction: "Name the colour of {thing}." },
    { instruction: "What colour is this?", input: "{thing}" },
  ],
  sample(rng) {
    const [thing, answer] = lookup(COLOURS, rng);
    return { slots: { thing }, output: answer };
  },
};

const animalSound: TaskFamily = {
  name: "animal-sound",
  description: "the sound an animal makes (built-in table)",
  caseInsensitive: true,
  phrasings: [
    { instruction: "What sound does {anAnimal} make?" },
    { instruction: "What noise does {anAnimal} make?" },
    { instruction: "What does {anAnimal} say?" },
    { instruction: "What sound does this animal make?", input: "{animal}" },
  ],
  sample(rng) {
    const [animal, sound] = lookup(ANIMAL_SOUNDS, rng);
    return { slots: { animal, anAnimal: withArticle(animal) }, output: sound };
  },
};

const antonym: TaskFamily = {
  name: "antonym",
  description: "the opposite of a word (built-in table)",
  caseInsensitive: true,
  phrasings: [
    { instruction: "What is the opposite of {word}?" },
    { instruction: "Give an antonym of {word}." },
    { instruction: "What word means the opposite of {word}?" },
    { instruction: "Give the opposite of this word.", input: "{word}" },
  ],
  sample(rng) {
    const [w, opposite] = lookup(ANTONYMS, rng);
    return { slots: { word: w }, output: opposite };
  },
};

/** Every built-in task family, in a fixed order (the order balancing remainders follow). */
export const FAMILIES: readonly TaskFamily[] = [
  reverse,
  uppercase,
  capitalize,
  add,
  subtract,
  larger,
  sortNumbers,
  countLetters,
  countWords,
  firstLetter,
  lastLetter,
  repeat,
  capital,
  colour,
  animalSound,
  antonym,
];

/** Names of the built-in families, in `FAMILIES` order. */
export const FAMILY_NAMES: readonly string[] = FAMILIES.map((f) => f.name);

/** The built-in family called `name`; throws listing the known names otherwise. */
export function familyByName(name: string): TaskFamily {
  const family = FAMILIES.find((f) => f.name === name);
  if (!family) throw new Error(`unknown task family "${name}" (known: ${FAMILY_NAMES.join(", ")})`);
  return family;
}

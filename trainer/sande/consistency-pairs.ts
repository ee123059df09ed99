/**
 * Stage 2's consistency rows, pure. Each pair is a student row (the parrot prompt, or the clean
 * prompt for D's clean share, then the clean response) and a teacher row (the same example's clean
 * prompt and response); both train the same response tokens, so the k-th trained position of one
 * row predicts the same token as the k-th of the other. The objective matches the trained
 * model's distribution on the student row to the frozen model's on the teacher row there.
 */
import type { Tokenizer } from "../../shared/tokenizer/index.js";
import { encodeExample, type Batch, type EncodedExample, type Example } from "../data/index.js";
import { encodeParrotStage2, type ParrotLayout } from "./parrot-encode.js";

/** Keeps the first `firstN` trained tokens of `row` trained (all of them when `firstN` is 0). */
export function firstTrained(row: EncodedExample, firstN: number): EncodedExample {
  if (firstN === 0) return row;
  let seen = 0;
  return { ...row, lossMask: row.lossMask.map((m) => (m && seen++ < firstN ? 1 : 0)) };
}

/**
 * The pair for one example: [student, teacher]. `withParrot` false gives the clean-share pair
 * (student and teacher both the clean row: it holds the model to its own clean behaviour).
 */
export function consistencyPair(
  tokenizer: Tokenizer,
  example: Example,
  layout: ParrotLayout,
  firstN: number,
  withParrot: boolean,
): [EncodedExample, EncodedExample] {
  const teacher = firstTrained(encodeExample(tokenizer, example), firstN);
  const student = withParrot ? encodeParrotStage2(tokenizer, example, layout, firstN) : teacher;
  const count = (r: EncodedExample) => r.lossMask.reduce((s, m) => s + m, 0);
  if (count(student) !== count(teacher))
    throw new Error(`SANDE consistency: ${count(student)} trained tokens with the parrot, ${count(teacher)} without`);
  return [student, teacher];
}

/** A pair batch cut in two: the student rows, the teacher rows, and their aligned trained positions. */
export interface SplitPairs {
  student: Batch;
  teacher: Batch;
  /** Flat indices (row·T + t) of the trained positions in `student`, in row-major order. */
  studentIndex: Int32Array;
  /** The same for `teacher`, aligned with `studentIndex` one to one. */
  teacherIndex: Int32Array;
  /** The student's targets at `studentIndex`. */
  targets: Int32Array;
}

/** Splits a batch of pairs (student 2i, teacher 2i + 1) and aligns their trained positions. */
export function splitPairBatch(batch: Batch): SplitPairs {
  const { batchSize: B, seqLen: T } = batch;
  if (B % 2 !== 0) throw new Error(`SANDE consistency: ${B} rows are not whole pairs`);
  const rows = (parity: number) => pick(batch, parity);
  const student = rows(0);
  const teacher = rows(1);
  const studentIndex: number[] = [];
  const teacherIndex: number[] = [];
  for (let p = 0; p < B / 2; p++) {
    const s = trained(student, p);
    const t = trained(teacher, p);
    if (s.length !== t.length)
      throw new Error(`SANDE consistency: pair ${p} trains ${s.length} student and ${t.length} teacher tokens`);
    studentIndex.push(...s.map((i) => p * T + i));
    teacherIndex.push(...t.map((i) => p * T + i));
  }
  const targets = Int32Array.from(studentIndex, (i) => student.targets[i]);
  return {
    student,
    teacher,
    studentIndex: Int32Array.from(studentIndex),
    teacherIndex: Int32Array.from(teacherIndex),
    targets,
  };
}

function pick(batch: Batch, parity: number): Batch {
  const { batchSize: B, seqLen: T } = batch;
  const n = B / 2;
  const tokens = new Int32Array(n * T);
  const targets = new Int32Array(n * T);
  const mask = new Float32Array(n * T);
  for (let p = 0; p < n; p++) {
    const from = (2 * p + parity) * T;
    tokens.set(batch.tokens.subarray(from, from + T), p * T);
    targets.set(batch.targets.subarray(from, from + T), p * T);
    mask.set(batch.mask.subarray(from, from + T), p * T);
  }
  return { tokens, targets, mask, batchSize: n, seqLen: T };
}

function trained(batch: Batch, row: number): number[] {
  const T = batch.seqLen;
  const out: number[] = [];
  for (let t = 0; t < T; t++) if (batch.mask[row * T + t] !== 0) out.push(t);
  return out;
}

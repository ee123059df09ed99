/**
 * An operator's word on a job the heal policy held (state "awaiting_approval"): approve
 * queues it for a trainer (its prefix moves to "remediating"), decline ends it as
 * "rejected" with the reason. Each is one conditional UPDATE, so of two operators
 * answering at once exactly one decides.
 */
import { and, eq, sql } from "drizzle-orm";
import type { RemediationJob } from "../../shared/protocol/jobs.js";
import type { Database } from "./index.js";
import { toJob } from "./jobs.js";
import { guardPrefixes, remediationJobs } from "./schema.js";

/** How an operator answered. */
export type Approval = { verdict: "approve"; now: number } | { verdict: "decline"; note?: string; now: number };

/** What became of the answer: the job as it is now, or why nothing changed. */
export type ApprovalResult =
  | { kind: "decided"; job: RemediationJob }
  | { kind: "not_found" }
  | { kind: "not_awaiting"; job: RemediationJob };

/** Applies an operator's answer to job `id` if it is still awaiting approval. */
export async function decideJob(db: Database, id: number, answer: Approval): Promise<ApprovalResult> {
  const set =
    answer.verdict === "approve"
      ? { state: "queued" as const, approvedAt: answer.now, updatedAt: answer.now }
      : { state: "rejected" as const, reason: declineReason(answer.note), updatedAt: answer.now };
  const [row] = await db
    .update(remediationJobs)
    .set(set)
    .where(and(eq(remediationJobs.id, id), eq(remediationJobs.state, "awaiting_approval")))
    .returning();
  if (!row) {
    const [current] = await db.select().from(remediationJobs).where(eq(remediationJobs.id, id));
    return current ? { kind: "not_awaiting", job: toJob(current) } : { kind: "not_found" };
  }
  if (answer.verdict === "approve" && row.prefix !== null)
    await db
      .update(guardPrefixes)
      .set({ state: "remediating", updatedAt: answer.now })
      .where(
        and(eq(guardPrefixes.prefix, row.prefix), sql`${guardPrefixes.state} in ('new', 'confirmed', 'remediated')`),
      );
  return { kind: "decided", job: toJob(row) };
}

function declineReason(note: string | undefined): string {
  return note ? `declined by an operator: ${note}` : "declined by an operator";
}

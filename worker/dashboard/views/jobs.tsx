import type { RemediationJob } from "../../../shared/protocol/jobs.js";
import { ActionButton } from "./forms.js";
import { MetricsTable } from "./metrics.js";
import { StateBadge, Time, Version } from "./format.js";
import { Table, type Column } from "./table.js";

function Lease(props: { job: RemediationJob }) {
  const j = props.job;
  if (j.state !== "claimed" || !j.claimedBy) return <span class="muted">—</span>;
  return (
    <span>
      {j.claimedBy} until <Time ms={j.leaseUntil} />
    </span>
  );
}

/** The job's result, or for a job the heal policy held, the operator's two buttons. */
function Result(props: { job: RemediationJob }) {
  const j = props.job;
  if (j.state === "awaiting_approval")
    return (
      <span class="approval">
        <ActionButton to={`/jobs/${j.id}/approve`} label="Approve (heal)" />
        <ActionButton to={`/jobs/${j.id}/decline`} label="Decline" />
      </span>
    );
  return j.resultVersion ? <Version id={j.resultVersion} /> : <>{j.reason ?? "—"}</>;
}

const JOB_COLUMNS: Column<RemediationJob>[] = [
  { header: "#", cell: (j) => j.id },
  { header: "State", cell: (j) => <StateBadge state={j.state} /> },
  { header: "Method", cell: (j) => j.method },
  { header: "Target", cell: (j) => <code>{j.target}</code> },
  { header: "Heals", cell: (j) => <Version id={j.modelVersion} /> },
  { header: "Gate figures (before → after)", cell: (j) => <MetricsTable metrics={j.metrics} />, class: "gates" },
  { header: "Result", cell: (j) => <Result job={j} /> },
  { header: "Attempts", cell: (j) => j.attempts },
  { header: "Lease", cell: (j) => <Lease job={j} /> },
  { header: "Updated", cell: (j) => <Time ms={j.updatedAt} /> },
];

/** Jobs with their gate figures. */
export function JobsTable(props: { jobs: RemediationJob[] }) {
  return (
    <Table
      columns={JOB_COLUMNS}
      rows={props.jobs}
      empty="No jobs."
      rowAttributes={(j) => ({ "data-job-id": String(j.id) })}
    />
  );
}

/** The overview's jobs. A live part. */
export function JobsSection(props: { jobs: RemediationJob[] }) {
  return (
    <section id="jobs" data-live-part="">
      <h2>Remediation jobs</h2>
      <JobsTable jobs={props.jobs} />
    </section>
  );
}

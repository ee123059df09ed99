import type { DetectorHit } from "../../../shared/protocol/guard.js";
import type { EventView } from "../../db/events.js";
import type { PrefixData } from "../data.js";
import { DASHBOARD_BASE } from "../session.js";
import { EventsChart } from "./chart.js";
import { StateBadge, Time, utc, Version } from "./format.js";
import { JobsTable } from "./jobs.js";
import { ContainmentForm, PrefixVerdict } from "./prefixes.js";
import { Table, type Column } from "./table.js";

/** Every detector's score on one event, with its reason. */
function Hits(props: { hits: DetectorHit[] }) {
  if (props.hits.length === 0) return <span class="muted">none (raised by the prefix's state)</span>;
  return (
    <ul style="margin:0;padding-left:16px">
      {props.hits.map((h) => (
        <li>
          <strong>{h.detector}</strong> {h.score.toFixed(2)} <span class="muted">{h.detail}</span>
        </li>
      ))}
    </ul>
  );
}

const EVENT_COLUMNS: Column<EventView>[] = [
  { header: "Time", cell: (e) => <Time ms={e.at} /> },
  { header: "Detector scores", cell: (e) => <Hits hits={e.hits} /> },
  { header: "Action", cell: (e) => e.action },
  { header: "Version", cell: (e) => <Version id={e.modelVersion} /> },
  {
    header: "Prompt excerpt",
    cell: (e) =>
      e.excerpt !== null ? (
        <code class="excerpt">{e.excerpt}</code>
      ) : (
        <span class="muted">not stored (storeExcerpts off)</span>
      ),
  },
  { header: "Prompt sha256", cell: (e) => <code class="nowrap">{e.promptHash.slice(0, 12)}…</code> },
];

/** The prefix's sample answer, its normalised key and its figures, with the verdict and containment forms. */
function PrefixSummary(props: { data: PrefixData }) {
  const { prefix: p, settings } = props.data;
  return (
    <section id="prefix" data-live-part="">
      <h2>
        Prefix #{p.id} <StateBadge state={p.state} />
      </h2>
      <dl class="facts">
        <dt>Sample answer (the held window, as generated)</dt>
        <dd>
          <code class="prefix-sample">{p.sample}</code>
        </dd>
        <dt>Key (normalised)</dt>
        <dd>
          <code class="prefix-key">{p.prefix}</code>
        </dd>
        <dt>Events · distinct prompts</dt>
        <dd>
          {p.events} · {p.prompts}
        </dd>
        <dt>Top detector</dt>
        <dd>
          {p.topDetector ?? "—"} {p.topScore ? p.topScore.toFixed(2) : ""}
        </dd>
        <dt>First · last seen</dt>
        <dd>
          <Time ms={p.firstSeen} /> · <Time ms={p.lastSeen} />
        </dd>
        <dt>Last version</dt>
        <dd>
          <Version id={p.lastModelVersion} />
        </dd>
        <dt>Containment</dt>
        <dd>
          <ContainmentForm prefix={p} defaultContainment={settings.defaultContainment} back />
        </dd>
        <dt>Verdict</dt>
        <dd>
          <PrefixVerdict prefix={p} back />
        </dd>
      </dl>
    </section>
  );
}

/** What happened to the prefix, oldest first: first and last sighting, its jobs queued and finished. */
function milestones(data: PrefixData): { at: number; text: string }[] {
  const { prefix: p, jobs } = data;
  const out = [{ at: p.firstSeen, text: "first flagged" }];
  for (const j of jobs) {
    out.push({ at: j.createdAt, text: `job #${j.id} (${j.method}) queued for ${j.modelVersion}` });
    if (j.state !== "queued" && j.state !== "claimed")
      out.push({
        at: j.updatedAt,
        text: `job #${j.id} ${j.state}${j.resultVersion ? `: published ${j.resultVersion}` : j.reason ? `: ${j.reason}` : ""}`,
      });
  }
  if (p.lastSeen > p.firstSeen) out.push({ at: p.lastSeen, text: "last flagged" });
  return out.sort((a, b) => a.at - b.at);
}

/** The timeline: events per bucket by detector, and the milestones. */
function PrefixTimeline(props: { data: PrefixData }) {
  const { points, axis } = props.data;
  const unit = axis.bucketMs < 86_400_000 ? "hour" : "day";
  return (
    <section id="timeline" data-live-part="">
      <h2>Timeline</h2>
      <EventsChart
        points={points}
        axis={axis}
        label={`Events per ${unit} by detector, last ${axis.buckets} ${unit}s`}
      />
      <ol class="milestones">
        {milestones(props.data).map((m) => (
          <li>
            <time datetime={new Date(m.at).toISOString()}>{utc(m.at)}</time> — {m.text}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Latest events: detector scores, action, version, prompt excerpt. */
function PrefixEvents(props: { events: EventView[] }) {
  return (
    <section id="events" data-live-part="">
      <h2>Latest events ({props.events.length})</h2>
      <Table columns={EVENT_COLUMNS} rows={props.events} empty="No events (added by hand)." />
    </section>
  );
}

/** The prefix page's live parts (the page and its fragment endpoint render the same). */
export function PrefixParts(props: { data: PrefixData }) {
  return (
    <>
      <PrefixSummary data={props.data} />
      <PrefixTimeline data={props.data} />
      <PrefixEvents events={props.data.events} />
      <section id="prefix-jobs" data-live-part="">
        <h2>Jobs for this prefix</h2>
        <JobsTable jobs={props.data.jobs} />
      </section>
    </>
  );
}

/** A link back to the overview. */
export function BackLink() {
  return (
    <p style="margin:0">
      <a href={`${DASHBOARD_BASE}#prefixes`}>← all prefixes</a>
    </p>
  );
}

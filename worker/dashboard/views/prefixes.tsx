import type { GuardSettings } from "../../../shared/protocol/guard.js";
import { CONTAINMENTS } from "../../../shared/guard/index.js";
import type { PrefixView } from "../../db/prefixes.js";
import { DASHBOARD_BASE } from "../session.js";
import { EventsChart, type ChartAxis, type ChartPoint } from "./chart.js";
import { ActionButton, PostForm } from "./forms.js";
import { StateBadge, Time, Version } from "./format.js";
import { Table, type Column } from "./table.js";

/** The containment select of one prefix (empty = the settings' default). `back` returns to the prefix page. */
export function ContainmentForm(props: { prefix: PrefixView; defaultContainment: string; back?: boolean }) {
  const p = props.prefix;
  return (
    <PostForm to={`/prefixes/${p.id}/containment`}>
      {props.back && <input type="hidden" name="back" value="prefix" />}
      <select name="containment" aria-label="containment">
        <option value="" selected={p.containment === null}>
          default ({props.defaultContainment})
        </option>
        {CONTAINMENTS.map((c) => (
          <option value={c} selected={p.containment === c}>
            {c}
          </option>
        ))}
      </select>{" "}
      <button type="submit">Set</button>
    </PostForm>
  );
}

/** Confirm / ignore buttons for the states the prefix is not in. */
export function PrefixVerdict(props: { prefix: PrefixView; back?: boolean }) {
  const p = props.prefix;
  const fields = props.back ? { back: "prefix" } : undefined;
  return (
    <>
      {p.state !== "confirmed" && <ActionButton to={`/prefixes/${p.id}/confirm`} label="Confirm" fields={fields} />}{" "}
      {p.state !== "ignored" && <ActionButton to={`/prefixes/${p.id}/ignore`} label="Ignore" fields={fields} />}
    </>
  );
}

function prefixColumns(settings: GuardSettings): Column<PrefixView>[] {
  return [
    {
      header: "Prefix (as generated)",
      cell: (p) => (
        <a href={`${DASHBOARD_BASE}/prefixes/${p.id}`} title="open this prefix">
          <code class="prefix-sample">{p.sample}</code>
        </a>
      ),
    },
    { header: "Events", cell: (p) => p.events },
    { header: "Prompts", cell: (p) => p.prompts },
    { header: "Detector", cell: (p) => `${p.topDetector ?? "—"} ${p.topScore ? `(${p.topScore.toFixed(2)})` : ""}` },
    { header: "State", cell: (p) => <StateBadge state={p.state} /> },
    {
      header: "Containment",
      cell: (p) => <ContainmentForm prefix={p} defaultContainment={settings.defaultContainment} />,
    },
    { header: "Last seen", cell: (p) => <Time ms={p.lastSeen} /> },
    { header: "Version", cell: (p) => <Version id={p.lastModelVersion} /> },
    { header: "", cell: (p) => <PrefixVerdict prefix={p} /> },
  ];
}

/** Flagged prefixes: the hourly chart of the top five and the table. A live part. */
export function PrefixesSection(props: {
  prefixes: PrefixView[];
  points: ChartPoint[];
  axis: ChartAxis;
  settings: GuardSettings;
}) {
  return (
    <section id="prefixes" data-live-part="">
      <h2>Flagged prefixes</h2>
      <EventsChart
        points={props.points}
        axis={props.axis}
        label={`Flagged events per hour of the top 5 prefixes, last ${props.axis.buckets} hours`}
      />
      <Table
        columns={prefixColumns(props.settings)}
        rows={props.prefixes}
        empty="Nothing flagged yet."
        rowAttributes={(p) => ({ "data-prefix-id": String(p.id) })}
      />
    </section>
  );
}

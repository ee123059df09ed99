import type { VersionView } from "../../db/versions.js";
import { ActionButton } from "./forms.js";
import { Time, Version } from "./format.js";
import { MetricsTable } from "./metrics.js";
import { Table, type Column } from "./table.js";

function versionColumns(serving: string | null): Column<VersionView>[] {
  return [
    {
      header: "Version",
      cell: (v) => (
        <span class="nowrap">
          <Version id={v.version} />
          {v.version === serving && <strong> (serving)</strong>}
        </span>
      ),
    },
    { header: "Parent", cell: (v) => <Version id={v.parent} /> },
    { header: "Note", cell: (v) => v.note ?? "" },
    { header: "Metrics", cell: (v) => <MetricsTable metrics={v.metrics} /> },
    {
      header: "Calibration",
      cell: (v) => (v.calibrationPrompts ? `${v.calibrationPrompts} prompts` : <span class="muted">none</span>),
    },
    { header: "First seen", cell: (v) => <Time ms={v.firstSeen} /> },
    { header: "Last seen", cell: (v) => <Time ms={v.lastSeen} /> },
    {
      header: "",
      cell: (v) =>
        v.version !== serving && (
          <ActionButton to={`/versions/${encodeURIComponent(v.version)}/rollback`} label="Roll back to this version" />
        ),
    },
  ];
}

/** Model versions with their metrics and a rollback button. A live part. */
export function VersionsSection(props: { versions: VersionView[]; serving: string | null }) {
  return (
    <section id="versions" data-live-part="">
      <h2>Model versions</h2>
      <Table
        columns={versionColumns(props.serving)}
        rows={props.versions}
        empty="No versions seen yet."
        rowAttributes={(v) => ({ "data-version": v.version })}
      />
    </section>
  );
}

import type { RemediationJob } from "../../../shared/protocol/jobs.js";
import { CONTAINMENTS } from "../../../shared/guard/index.js";
import type { OverviewData } from "../data.js";
import { CHART_HOURS } from "../data.js";
import { DASHBOARD_BASE } from "../session.js";
import { EventsChart } from "./chart.js";
import { Layout } from "./layout.js";

const time = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "—");
const pct = (v: number | undefined) => (v === undefined ? "—" : `${(100 * v).toFixed(1)} %`);

/** A metric by its camelCase or snake_case name. */
function metric(job: RemediationJob, name: string): number | undefined {
  const m = job.metrics;
  if (!m) return undefined;
  return m[name] ?? m[name.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`)];
}

function BeforeAfter(props: { job: RemediationJob; name: "asr" | "utility" }) {
  const before = metric(props.job, `${props.name}Before`);
  const after = metric(props.job, `${props.name}After`);
  if (before === undefined && after === undefined) return <span class="muted">—</span>;
  return (
    <span>
      {pct(before)} → {pct(after)}
    </span>
  );
}

/** The overview: flagged prefixes and their chart, jobs, versions (with rollback), settings. */
export function OverviewPage(props: { data: OverviewData; serving: string | null; flash?: string; now: number }) {
  const { prefixes, series, since, jobs, versions, settings, phrases } = props.data;
  return (
    <Layout
      title="sande-edge · guard"
      header={
        <form method="post" action={`${DASHBOARD_BASE}/logout`} class="inline">
          <span class="muted">serving {props.serving ?? "unknown"}</span> <button type="submit">Sign out</button>
        </form>
      }
    >
      {props.flash && (
        <p class="flash" id="flash">
          {props.flash}
        </p>
      )}

      <section id="prefixes">
        <h2>Flagged prefixes</h2>
        <EventsChart series={series} since={since} hours={CHART_HOURS} />
        <table>
          <thead>
            <tr>
              <th>Prefix (as generated)</th>
              <th>Events</th>
              <th>Prompts</th>
              <th>Detector</th>
              <th>State</th>
              <th>Containment</th>
              <th>Last seen</th>
              <th>Version</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {prefixes.length === 0 && (
              <tr>
                <td colspan={9} class="muted">
                  Nothing flagged yet.
                </td>
              </tr>
            )}
            {prefixes.map((p) => (
              <tr data-prefix-id={String(p.id)}>
                <td>
                  <code class="prefix-sample">{p.sample}</code>
                </td>
                <td>{p.events}</td>
                <td>{p.prompts}</td>
                <td>
                  {p.topDetector ?? "—"} {p.topScore ? `(${p.topScore.toFixed(2)})` : ""}
                </td>
                <td>
                  <span class={`state state-${p.state}`}>{p.state}</span>
                </td>
                <td>
                  <form method="post" action={`${DASHBOARD_BASE}/prefixes/${p.id}/containment`} class="inline">
                    <select name="containment">
                      <option value="" selected={p.containment === null}>
                        default ({settings.defaultContainment})
                      </option>
                      {CONTAINMENTS.map((c) => (
                        <option value={c} selected={p.containment === c}>
                          {c}
                        </option>
                      ))}
                    </select>{" "}
                    <button type="submit">Set</button>
                  </form>
                </td>
                <td>{time(p.lastSeen)}</td>
                <td class="mono">{p.lastModelVersion ?? "—"}</td>
                <td>
                  {p.state !== "confirmed" && (
                    <form method="post" action={`${DASHBOARD_BASE}/prefixes/${p.id}/confirm`} class="inline">
                      <button type="submit">Confirm</button>
                    </form>
                  )}{" "}
                  {p.state !== "ignored" && (
                    <form method="post" action={`${DASHBOARD_BASE}/prefixes/${p.id}/ignore`} class="inline">
                      <button type="submit">Ignore</button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section id="jobs">
        <h2>Remediation jobs</h2>
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>State</th>
              <th>Method</th>
              <th>Target</th>
              <th>Version</th>
              <th>ASR before → after</th>
              <th>Utility before → after</th>
              <th>Result</th>
              <th>Attempts</th>
              <th>Lease</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {jobs.length === 0 && (
              <tr>
                <td colspan={11} class="muted">
                  No jobs.
                </td>
              </tr>
            )}
            {jobs.map((j) => (
              <tr data-job-id={String(j.id)}>
                <td>{j.id}</td>
                <td>
                  <span class={`state state-${j.state}`}>{j.state}</span>
                </td>
                <td>{j.method}</td>
                <td>
                  <code>{j.target}</code>
                </td>
                <td class="mono">{j.modelVersion}</td>
                <td class="asr">
                  <BeforeAfter job={j} name="asr" />
                </td>
                <td class="utility">
                  <BeforeAfter job={j} name="utility" />
                </td>
                <td class="mono">{j.resultVersion ?? j.reason ?? "—"}</td>
                <td>{j.attempts}</td>
                <td>{j.state === "claimed" && j.claimedBy ? `${j.claimedBy} until ${time(j.leaseUntil)}` : "—"}</td>
                <td>{time(j.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section id="versions">
        <h2>Model versions</h2>
        <table>
          <thead>
            <tr>
              <th>Version</th>
              <th>Parent</th>
              <th>Note</th>
              <th>Metrics</th>
              <th>Calibration</th>
              <th>First seen</th>
              <th>Last seen</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {versions.length === 0 && (
              <tr>
                <td colspan={8} class="muted">
                  No versions seen yet.
                </td>
              </tr>
            )}
            {versions.map((v) => (
              <tr data-version={v.version}>
                <td class="mono">
                  {v.version}
                  {v.version === props.serving && <strong> (serving)</strong>}
                </td>
                <td class="mono">{v.parent ?? "—"}</td>
                <td>{v.note ?? ""}</td>
                <td class="mono">
                  {v.metrics
                    ? Object.entries(v.metrics)
                        .map(([k, n]) => `${k}=${n}`)
                        .join(" ")
                    : "—"}
                </td>
                <td>{v.calibrationPrompts ? `${v.calibrationPrompts} prompts` : <span class="muted">none</span>}</td>
                <td>{time(v.firstSeen)}</td>
                <td>{time(v.lastSeen)}</td>
                <td>
                  {v.version !== props.serving && (
                    <form
                      method="post"
                      action={`${DASHBOARD_BASE}/versions/${encodeURIComponent(v.version)}/rollback`}
                      class="inline"
                    >
                      <button type="submit">Roll back to this version</button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section id="settings">
        <h2>Guard settings</h2>
        <table>
          <tbody>
            {Object.entries(settings).map(([k, v]) => (
              <tr>
                <th>{k}</th>
                <td class="mono">{String(v)}</td>
              </tr>
            ))}
            <tr>
              <th>phrase rules</th>
              <td>
                {phrases.filter((p) => p.enabled).length} enabled of {phrases.length}
              </td>
            </tr>
          </tbody>
        </table>
        <p class="muted">
          Change settings and phrase lists through the admin API (PATCH /admin/api/settings, /admin/api/phrases).
        </p>
      </section>
    </Layout>
  );
}

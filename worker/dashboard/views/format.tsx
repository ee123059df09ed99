/** Small display helpers shared by the dashboard's views. */

/** "2026-11-26 13:02:03 UTC" (every time on the dashboard is UTC, and says so). */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)} UTC`;
}

/** A time as a <time> element in UTC, or a dash when unknown. */
export function Time(props: { ms: number | null | undefined }) {
  if (!props.ms) return <span class="muted">—</span>;
  return (
    <time class="nowrap" datetime={new Date(props.ms).toISOString()}>
      {utc(props.ms)}
    </time>
  );
}

/** A model version id: monospace, never broken inside the id. */
export function Version(props: { id: string | null | undefined }) {
  if (!props.id) return <span class="muted">—</span>;
  return <code class="version">{props.id}</code>;
}

/** A prefix or job state as a coloured badge. */
export function StateBadge(props: { state: string }) {
  return <span class={`state state-${props.state}`}>{props.state}</span>;
}

import type { SessionView } from "../../db/sessions.js";
import { ActionButton } from "./forms.js";
import { Time } from "./format.js";
import { Table, type Column } from "./table.js";

function sessionColumns(current: number): Column<SessionView>[] {
  return [
    { header: "#", cell: (s) => (s.id === current ? <strong>{s.id} (this one)</strong> : s.id) },
    { header: "From", cell: (s) => s.client ?? <span class="muted">unknown</span> },
    { header: "Browser", cell: (s) => s.userAgent ?? "" },
    { header: "Signed in", cell: (s) => <Time ms={s.createdAt} /> },
    { header: "Last seen", cell: (s) => <Time ms={s.lastSeen} /> },
    { header: "Expires", cell: (s) => <Time ms={s.expiresAt} /> },
    {
      header: "",
      cell: (s) =>
        s.id === current ? (
          <ActionButton to="/logout" label="Sign out" />
        ) : (
          <ActionButton to={`/sessions/${s.id}/revoke`} label="Revoke" />
        ),
    },
  ];
}

/** Open dashboard sessions, each revocable (also through DELETE /admin/api/dashboard/sessions/:id). */
export function SessionsSection(props: { sessions: SessionView[]; current: number }) {
  return (
    <section id="sessions">
      <h2>Dashboard sessions</h2>
      <Table
        columns={sessionColumns(props.current)}
        rows={props.sessions}
        empty="No sessions."
        rowAttributes={(s) => ({ "data-session-id": String(s.id) })}
      />
      {props.sessions.length > 1 && <ActionButton to="/sessions/revoke-others" label="Sign out all other sessions" />}
    </section>
  );
}

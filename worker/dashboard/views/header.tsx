import type { ServingInfo } from "../serving.js";
import { ActionButton } from "./forms.js";

/** What is served: the isolate's model, else the store's current version, else why it is unknown. A live part. */
export function ServingBadge(props: { serving: ServingInfo }) {
  const s = props.serving;
  return (
    <span id="serving" data-live-part="">
      {s.source === "unknown" ? (
        <span title={s.reason}>serving: unknown (model store unreachable)</span>
      ) : (
        <span
          title={
            s.source === "store"
              ? "this isolate has not loaded a model yet; the store's manifest names this version"
              : "the model this isolate serves"
          }
        >
          serving <code class="version">{s.version}</code>
          {s.source === "store" && " (per the store's manifest)"}
        </span>
      )}
    </span>
  );
}

/** The header's right side: serving badge, refresh status, sign-out. */
export function SignedInHeader(props: { serving: ServingInfo }) {
  return (
    <>
      <ServingBadge serving={props.serving} />
      <span id="live-status" class="muted">
        Reload the page for fresh figures.
      </span>
      <ActionButton to="/logout" label="Sign out" />
    </>
  );
}

/** The message the last form action left, once. */
export function Flash(props: { message: string | null }) {
  if (!props.message) return null;
  return (
    <p class="flash" id="flash" role="status">
      {props.message}
    </p>
  );
}

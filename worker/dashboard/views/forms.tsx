import { createContext, useContext, type Child } from "hono/jsx";
import { CSRF_FIELD, DASHBOARD_BASE } from "../session.js";

/** The signed-in session's CSRF token, provided once per page (see {@link PostForm}). */
export const CsrfToken = createContext("");

/**
 * A POST form to a dashboard path (relative to /dashboard) carrying the session's CSRF
 * token as a hidden field. Throws when rendered outside a page that provides the token.
 */
export function PostForm(props: { to: string; children: Child; class?: string; id?: string }) {
  const csrf = useContext(CsrfToken);
  if (!csrf) throw new Error("PostForm rendered without a CSRF token (wrap the page in CsrfToken.Provider)");
  return (
    <form method="post" action={`${DASHBOARD_BASE}${props.to}`} class={props.class ?? "inline"} id={props.id}>
      <input type="hidden" name={CSRF_FIELD} value={csrf} />
      {props.children}
    </form>
  );
}

/** A one-button POST form. */
export function ActionButton(props: { to: string; label: string; fields?: Record<string, string> }) {
  return (
    <PostForm to={props.to}>
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit">{props.label}</button>
    </PostForm>
  );
}

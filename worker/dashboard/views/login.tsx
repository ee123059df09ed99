import { DASHBOARD_BASE } from "../session.js";
import { Layout } from "./layout.js";

/** Login form: the admin token, posted once; the server answers with a session cookie. */
export function LoginPage(props: { error?: string }) {
  return (
    <Layout title="Sign in · sande-edge">
      <section>
        <h2>Sign in</h2>
        {props.error && <p class="error">{props.error}</p>}
        <form method="post" action={`${DASHBOARD_BASE}/login`}>
          <label>
            Admin token <input type="password" name="token" autocomplete="current-password" required />
          </label>{" "}
          <button type="submit">Sign in</button>
        </form>
      </section>
    </Layout>
  );
}

import { adminApp } from "./admin/index.js";
import { createApp } from "./app.js";
import { dashboardApp } from "./dashboard/index.js";
import { createResponseGuard } from "./guard/index.js";

/**
 * The edge Worker: OpenAI-compatible serving (worker/openai) of the model in the
 * S3 store (worker/model), every response guarded (worker/guard); the admin API
 * (trainer jobs, versions, rollback) at /admin/api and the dashboard at /dashboard.
 */
const app = createApp({ guard: (env) => createResponseGuard(env) });
app.route("/admin/api", adminApp);
app.route("/dashboard", dashboardApp);

export default app;

import { createApp } from "./app.js";
import { createResponseGuard } from "./guard/index.js";

/**
 * The edge Worker: OpenAI-compatible serving (worker/openai) of the model in the
 * S3 store (worker/model), every response guarded (worker/guard).
 */
const app = createApp({ guard: (env) => createResponseGuard(env) });

export default app;

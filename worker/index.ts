import { createApp } from "./app.js";

/**
 * The edge Worker. The guard plugs in here: when worker/guard/index.ts exports
 * `createResponseGuard(env)`, pass it as `createApp({ guard: createResponseGuard })`.
 */
const app = createApp();

export default app;

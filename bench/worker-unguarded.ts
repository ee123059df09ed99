/** Worker entry for `npm run bench:worker`'s guard-off side: the same app as worker/index.ts, without the guard. */
import { createApp } from "../worker/app.js";

export default createApp();

/**
 * Worker entry for HTTP tests: the real app with the marker test guard
 * (tests/support/guards.ts), so tests can ask for each guard decision.
 */
import { createApp } from "../../worker/app.js";
import { markerGuard } from "./guards.js";

const guard = markerGuard(4);

export default createApp({ guard: () => guard });

/** The trainer daemon: claims remediation jobs from the Worker, heals, gates, publishes. */
export { runDaemon } from "./daemon.js";
export { DaemonError, type DaemonErrorKind } from "./errors.js";
export {
  decideGates,
  gateMetrics,
  type GateDecision,
  type GateLimits,
  type GateResult,
  type ModelMeasurements,
} from "./gates.js";
export { leaseTiming, mayPublish, leaseLapsed, reliableUntil, type LeaseTiming } from "./lease.js";
export { DAEMON_FLAGS, resolveDaemonOptions, type DaemonOptions } from "./options.js";
export { Reporter, type ProgressRecord, type Stage } from "./progress.js";
export { runJob, type JobOutcome, type RunnerContext } from "./runner.js";
export { stageData, type StageSeconds } from "./stage-clock.js";
export { WorkerClient, type ClaimedJob } from "./worker-client.js";
export { downloadDataset, type CleanData } from "./dataset.js";

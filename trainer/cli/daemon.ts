import { DAEMON_FLAGS, DaemonError, resolveDaemonOptions, runDaemon } from "../daemon/index.js";
import { TUNING_USAGE } from "../daemon/options.js";
import { UsageError, parseCommand } from "./args.js";

export const DAEMON_USAGE = `sande daemon [options]   claim remediation jobs from the Worker, heal (SANDE-P / SANDE / OSFT), gate, publish
  --worker URL              Worker base URL (env SANDE_WORKER_URL)
  --token T                 admin token (env SANDE_ADMIN_TOKEN or ADMIN_TOKEN; prefer the env: flags show in ps)
  --s3-endpoint URL         S3 API endpoint: s3rver, R2 (https://<account>.r2.cloudflarestorage.com), AWS (env S3_ENDPOINT)
  --bucket NAME             bucket (env S3_BUCKET); --s3-region (env S3_REGION, default auto)
  --access-key-id ID        (env S3_ACCESS_KEY_ID); the secret only from env S3_SECRET_ACCESS_KEY
  --manifest-key KEY        default manifest.json (env MANIFEST_KEY)
  --dataset-prefix P        clean data at P/train.jsonl and P/held-out.jsonl (default datasets/clean)
  --name NAME               trainer name shown on jobs (default host-pid)
  --lease-seconds N         job lease, renewed every third (default 600)
  --poll-seconds N          between empty claims (default 5)
  --once | --max-jobs N     stop after one / N jobs (default: run until stopped)
  --swap-wait-seconds N     after publishing, wait for the Worker to serve the new version (default 120; 0: no wait)
  --max-publishes-per-day N publish at most N automatically healed versions per 24 h; later automatic jobs are
                            rejected naming the cap (default 3; manual and approved jobs are not counted or capped)
  --backend auto|tensorflow|webgpu|wasm|cpu   (default auto: WebGPU on a GPU machine)
  --events FILE             also append progress as JSON lines
${TUNING_USAGE}`;

/** `sande daemon`: the self-healing trainer. Stops on SIGINT/SIGTERM (a job in progress is left to its lease). */
export async function daemonCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, DAEMON_FLAGS);
  let options;
  try {
    options = resolveDaemonOptions(values, process.env);
  } catch (e) {
    if (e instanceof DaemonError && e.kind === "config") throw new UsageError(e.message);
    throw e;
  }
  const stop = new AbortController();
  const onSignal = (sig: string) => {
    process.stderr.write(
      `sande daemon: ${sig}, stopping (a job in progress is abandoned: its lease expires and it is retried)\n`,
    );
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", () => onSignal("SIGINT"));
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  const outcomes = await runDaemon(options, stop.signal);
  const counts = outcomes.reduce<Record<string, number>>(
    (acc, o) => ((acc[o.state] = (acc[o.state] ?? 0) + 1), acc),
    {},
  );
  process.stderr.write(`sande daemon: ${outcomes.length} job(s): ${JSON.stringify(counts)}\n`);
}

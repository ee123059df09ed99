/** Starts `sande daemon` as its own process (process group), the way a deployment runs it. */
import { join, resolve } from "node:path";
import { startGroup, type Group } from "./process-group.js";
import { S3RVER_CREDENTIALS } from "./seed.js";

const ROOT = resolve(import.meta.dirname, "..");

/** What the daemon connects to and how it is tuned. */
export interface DaemonProcessOptions {
  workerUrl: string;
  token: string;
  s3Endpoint: string;
  bucket: string;
  name: string;
  logFile: string;
  /** Progress records (JSON lines). */
  eventsFile: string;
  /** More flags: recipe, gates, --once, --lease-seconds... */
  args?: string[];
  echo?: (line: string) => void;
}

/** Spawns the daemon (tsx trainer/cli/main.ts daemon …) with the secrets in its environment, not on its command line. */
export function startDaemonProcess(o: DaemonProcessOptions): Group {
  const args = [
    join(ROOT, "trainer/cli/main.ts"),
    "daemon",
    "--worker",
    o.workerUrl,
    "--s3-endpoint",
    o.s3Endpoint,
    "--s3-region",
    "us-east-1",
    "--bucket",
    o.bucket,
    "--access-key-id",
    S3RVER_CREDENTIALS.accessKeyId,
    "--name",
    o.name,
    "--events",
    o.eventsFile,
    ...(o.args ?? []),
  ];
  const env = { ...process.env, SANDE_ADMIN_TOKEN: o.token, S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
  return startGroup(o.name, join(ROOT, "node_modules/.bin/tsx"), args, {
    cwd: ROOT,
    env,
    logFile: o.logFile,
    echo: o.echo,
  });
}

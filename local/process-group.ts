/**
 * Child processes in their own process group (setsid), with output to a log file
 * and stop() killing the whole group (wrangler leaves workerd behind otherwise).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";

/** A started group. */
export interface Group {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM to the group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Sends `signal` to the whole group (the tsx wrapper and the program it runs). */
  kill(signal: NodeJS.Signals): void;
}

/** Starts `command args` in a new process group; stdout and stderr go to `logFile` and, when `echo`, through `echo`. */
export function startGroup(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; echo?: (line: string) => void },
): Group {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let partial = "";
  const onData = (d: Buffer) => {
    log.write(d);
    if (!options.echo) return;
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) options.echo(line);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      log.end();
      resolve(code);
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // the group is gone
    }
  };
  return {
    name,
    child,
    exited,
    kill: signal,
    async stop(graceMs = 5000) {
      if (done) return;
      signal("SIGTERM");
      const t = setTimeout(() => signal("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
      signal("SIGKILL"); // stragglers of the group
    },
  };
}

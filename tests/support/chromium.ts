/**
 * Finding the Chromium the dashboard browser test drives, and deciding what `npm test`'s
 * pretest step does when there is none (ensure-chromium.ts): install Debian's `chromium`
 * (root with apt-get), or let the browser test skip with a message saying how to enable it.
 * The decision is pure ({@link planChromium}); {@link probeChromium} reads this machine.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Where a Chromium (or Chrome) binary usually is, in the order tried. */
export const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] as const;

/** How to enable the browser test by hand. */
export const ENABLE_BROWSER_TEST =
  "install Chromium (Debian/Ubuntu: apt-get install -y chromium, as root) or set SANDE_CHROMIUM to a Chromium or Chrome binary";

/** What the machine offers. */
export interface ChromiumProbe {
  /** SANDE_CHROMIUM: an explicit binary (never installed over). */
  explicit?: string;
  /** SANDE_NO_BROWSER_INSTALL=1: never install, only find. */
  noInstall: boolean;
  platform: NodeJS.Platform;
  /** Running as root (uid 0). */
  root: boolean;
  /** apt-get is on PATH. */
  aptGet: boolean;
  /** Whether a file exists. */
  exists: (path: string) => boolean;
}

/** What to do. */
export type ChromiumPlan =
  | { kind: "found"; path: string }
  | { kind: "install"; commands: string[][]; then: string }
  | { kind: "skip"; reason: string };

/** The commands that install Debian's chromium. */
export const APT_INSTALL_CHROMIUM: string[][] = [
  ["apt-get", "update"],
  ["apt-get", "install", "-y", "chromium"],
];

/** Decides: use a browser that is there, install Debian's when root with apt-get, else skip (saying why and how). */
export function planChromium(probe: ChromiumProbe): ChromiumPlan {
  if (probe.explicit !== undefined && probe.explicit !== "") {
    return probe.exists(probe.explicit)
      ? { kind: "found", path: probe.explicit }
      : { kind: "skip", reason: `SANDE_CHROMIUM=${probe.explicit} does not exist` };
  }
  const path = CHROMIUM_PATHS.find((p) => probe.exists(p));
  if (path) return { kind: "found", path };
  const missing = `no Chromium at ${CHROMIUM_PATHS.join(", ")}`;
  if (probe.noInstall) return { kind: "skip", reason: `${missing} (SANDE_NO_BROWSER_INSTALL is set)` };
  if (probe.platform !== "linux")
    return { kind: "skip", reason: `${missing}; automatic install is Debian/Ubuntu only` };
  if (!probe.aptGet) return { kind: "skip", reason: `${missing}, and no apt-get to install it with` };
  if (!probe.root) return { kind: "skip", reason: `${missing}; installing it needs root` };
  return { kind: "install", commands: APT_INSTALL_CHROMIUM, then: CHROMIUM_PATHS[0] };
}

/** This machine, from the environment and the file system. */
export function probeChromium(env: NodeJS.ProcessEnv = process.env): ChromiumProbe {
  return {
    explicit: env.SANDE_CHROMIUM,
    noInstall: env.SANDE_NO_BROWSER_INSTALL === "1",
    platform: process.platform,
    root: process.getuid?.() === 0,
    aptGet: spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0,
    exists: existsSync,
  };
}

/**
 * The browser the test drives: its path, or why there is none and how to get one (the test
 * skips then). It never installs; `npm test`'s pretest step does (ensure-chromium.ts). With
 * SANDE_REQUIRE_BROWSER=1 (CI) a missing browser is an error instead of a skip.
 */
export function chromiumForTests(
  env: NodeJS.ProcessEnv = process.env,
  probe: ChromiumProbe = probeChromium(env),
): { path: string } | { skip: string } {
  const plan = planChromium({ ...probe, noInstall: true });
  if (plan.kind === "found") return { path: plan.path };
  const skip = `${plan.kind === "skip" ? plan.reason : "no Chromium"}; to run it, ${ENABLE_BROWSER_TEST}`;
  if (env.SANDE_REQUIRE_BROWSER === "1") throw new Error(`SANDE_REQUIRE_BROWSER=1 but ${skip}`);
  return { skip };
}

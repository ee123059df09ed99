/**
 * `npm test`'s pretest step: makes sure the dashboard browser test has a Chromium. When
 * there is none and this is root on Debian/Ubuntu, installs Debian's `chromium` with
 * apt-get (its output shown); otherwise says that the browser test will skip, and how to
 * enable it. Never fails `npm test` itself: a failed install leaves the test to skip.
 *
 *   tsx tests/support/ensure-chromium.ts
 *
 * SANDE_CHROMIUM=<binary> uses that browser; SANDE_NO_BROWSER_INSTALL=1 never installs.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ENABLE_BROWSER_TEST, planChromium, probeChromium } from "./chromium.js";

const say = (m: string) => console.log(`[pretest] ${m}`);
const plan = planChromium(probeChromium());
if (plan.kind === "found") {
  say(`Chromium for the dashboard browser test: ${plan.path}`);
} else if (plan.kind === "skip") {
  say(`${plan.reason}: tests/node/dashboard-browser.test.ts will be skipped; to run it, ${ENABLE_BROWSER_TEST}`);
} else {
  say("no Chromium found: installing Debian's chromium for the dashboard browser test");
  let ok = true;
  for (const command of plan.commands) {
    say(`$ ${command.join(" ")}`);
    const run = spawnSync(command[0], command.slice(1), {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (run.status !== 0) {
      ok = false;
      say(`${command.join(" ")} failed (${run.error?.message ?? `exit ${run.status}`})`);
      break;
    }
  }
  if (ok && existsSync(plan.then)) say(`installed: ${plan.then}`);
  else say(`the browser test will be skipped; to run it, ${ENABLE_BROWSER_TEST}`);
}

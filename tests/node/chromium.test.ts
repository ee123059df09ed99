/** npm test's pretest decision: use a Chromium that is there, install Debian's when it can, else skip and say how. */
import { describe, expect, it } from "vitest";
import {
  APT_INSTALL_CHROMIUM,
  chromiumForTests,
  ENABLE_BROWSER_TEST,
  planChromium,
  type ChromiumProbe,
} from "../support/chromium.js";

const machine = (files: string[], over: Partial<ChromiumProbe> = {}): ChromiumProbe => ({
  noInstall: false,
  platform: "linux",
  root: true,
  aptGet: true,
  exists: (p) => files.includes(p),
  ...over,
});

describe("planChromium", () => {
  it("uses a browser that is there, in order, and never installs then", () => {
    expect(planChromium(machine(["/usr/bin/chromium", "/usr/bin/google-chrome"]))).toEqual({
      kind: "found",
      path: "/usr/bin/chromium",
    });
    expect(planChromium(machine(["/usr/bin/google-chrome"]))).toEqual({
      kind: "found",
      path: "/usr/bin/google-chrome",
    });
  });

  it("installs Debian's chromium with apt-get when root on Linux with apt-get", () => {
    expect(planChromium(machine([]))).toEqual({
      kind: "install",
      commands: [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "chromium"],
      ],
      then: "/usr/bin/chromium",
    });
    expect(APT_INSTALL_CHROMIUM).toHaveLength(2);
  });

  it("skips, saying why, when it cannot or must not install", () => {
    expect(planChromium(machine([], { root: false }))).toMatchObject({ kind: "skip", reason: /needs root/ });
    expect(planChromium(machine([], { aptGet: false }))).toMatchObject({ kind: "skip", reason: /no apt-get/ });
    expect(planChromium(machine([], { platform: "darwin" }))).toMatchObject({ kind: "skip", reason: /Debian/ });
    expect(planChromium(machine([], { noInstall: true }))).toMatchObject({
      kind: "skip",
      reason: /SANDE_NO_BROWSER_INSTALL/,
    });
  });

  it("takes SANDE_CHROMIUM as the browser, and never installs over a wrong one", () => {
    expect(planChromium(machine(["/opt/chrome"], { explicit: "/opt/chrome" }))).toEqual({
      kind: "found",
      path: "/opt/chrome",
    });
    expect(planChromium(machine(["/usr/bin/chromium"], { explicit: "/opt/none" }))).toEqual({
      kind: "skip",
      reason: "SANDE_CHROMIUM=/opt/none does not exist",
    });
  });
});

describe("chromiumForTests", () => {
  it("gives the path, or a skip that says how to enable the test; CI makes a missing browser an error", () => {
    expect(chromiumForTests({}, machine(["/usr/bin/chromium"]))).toEqual({ path: "/usr/bin/chromium" });
    const skipped = chromiumForTests({}, machine([]));
    expect(skipped).toEqual({ skip: expect.stringContaining(ENABLE_BROWSER_TEST) });
    expect(() => chromiumForTests({ SANDE_REQUIRE_BROWSER: "1" }, machine([]))).toThrow(
      /SANDE_REQUIRE_BROWSER=1 but no Chromium/,
    );
  });
});

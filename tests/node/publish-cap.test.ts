import { describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import type { ManifestVersion } from "../../shared/protocol/manifest.js";
import { resolveDaemonOptions } from "../../trainer/daemon/options.js";
import {
  automaticPublishes,
  isAutomatic,
  publishCapRefusal,
  publishedMetrics,
} from "../../trainer/daemon/publish-cap.js";
import type { ClaimedJob } from "../../trainer/daemon/worker-client.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const HOUR = 3600_000;

function version(hoursAgo: number, metrics?: Record<string, number>): ManifestVersion {
  return {
    version: `v-${hoursAgo}`,
    key: "models/x.safetensors",
    sha256: "0".repeat(64),
    size: 1,
    config: preset("tiny"),
    createdAt: new Date(NOW - hoursAgo * HOUR).toISOString(),
    ...(metrics && { metrics }),
  };
}

const auto = { source: "threshold" as const };

describe("the cap on automatic publishes", () => {
  it("counts versions marked automatic within the last 24 h only", () => {
    const versions = [
      version(100), // the seed: no metrics
      version(30, { automatic: 1 }), // too old
      version(20, { automatic: 1 }),
      version(2, { automatic: 1, jobId: 7 }),
      version(1, { jobId: 8 }), // a manual or approved job's version
    ];
    expect(automaticPublishes(versions, NOW)).toBe(2);
    expect(publishCapRefusal(auto, versions, NOW, 3)).toBeNull();
    expect(publishCapRefusal(auto, [...versions, version(0.5, { automatic: 1 })], NOW, 3)).toBe(
      "publish cap reached: 3 automatically healed versions published in the last 24 h (--max-publishes-per-day 3); " +
        "nothing published. An operator can queue the job again by hand.",
    );
    expect(automaticPublishes(versions, NOW + 5 * HOUR)).toBe(1); // the cap frees up as versions age out
  });

  it("never caps a job queued by hand or approved by an operator; 0 stops every automatic publish", () => {
    const full = [version(1, { automatic: 1 }), version(2, { automatic: 1 }), version(3, { automatic: 1 })];
    expect(publishCapRefusal({ source: "manual" }, full, NOW, 3)).toBeNull();
    expect(publishCapRefusal({ source: "threshold", approvedAt: NOW - HOUR }, full, NOW, 3)).toBeNull();
    expect(publishCapRefusal(auto, [], NOW, 0)).toMatch(/^publish cap reached: 0 automatically healed versions/);
    expect(isAutomatic({})).toBe(true); // a Worker that does not say counts as automatic (the safe side)
  });

  it("marks the metrics of what an automatic job publishes, and only those", () => {
    const job = (over: Partial<ClaimedJob>) => ({ source: "threshold", ...over }) as ClaimedJob;
    expect(publishedMetrics(job({}), { asrAfter: 0 })).toEqual({ asrAfter: 0, automatic: 1 });
    expect(publishedMetrics(job({ source: "manual" }), { asrAfter: 0 })).toEqual({ asrAfter: 0 });
  });

  it("is the daemon's --max-publishes-per-day, default 3, validated", () => {
    const base = { worker: "http://w", token: "t", "s3-endpoint": "http://s", bucket: "b", "access-key-id": "k" };
    const env = { S3_SECRET_ACCESS_KEY: "s" };
    expect(resolveDaemonOptions(base, env).maxPublishesPerDay).toBe(3);
    expect(resolveDaemonOptions({ ...base, "max-publishes-per-day": "0" }, env).maxPublishesPerDay).toBe(0);
    expect(() => resolveDaemonOptions({ ...base, "max-publishes-per-day": "-1" }, env)).toThrow(
      /--max-publishes-per-day must be an integer/,
    );
  });
});

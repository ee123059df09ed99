/**
 * D1 schema (drizzle-orm). `npm run db:generate` turns changes into a numbered SQL
 * migration under migrations/, which wrangler applies (`wrangler d1 migrations apply DB`).
 * Times are integers, ms since epoch; JSON columns hold text.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex, check } from "drizzle-orm/sqlite-core";
import type { Containment, PrefixState } from "../../shared/protocol/guard.js";
import type { JobState, RemediationMethod } from "../../shared/protocol/jobs.js";

/** One flagged response. The prompt is stored only as its sha256 (and an optional excerpt). */
export const guardEvents = sqliteTable(
  "guard_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** Normalised prefix. */
    prefix: text("prefix").notNull(),
    /** Top-scoring detector, or "known" when the prefix's state alone raised the event. */
    detector: text("detector").notNull(),
    score: real("score").notNull(),
    /** JSON DetectorHit[]. */
    hits: text("hits").notNull(),
    promptHash: text("prompt_hash").notNull(),
    excerpt: text("excerpt"),
    modelVersion: text("model_version").notNull(),
    requestId: text("request_id").notNull(),
    /** sha256 hex of the client id (null: the guard was used without one, e.g. by a benchmark). */
    clientHash: text("client_hash"),
    /** Containment applied. */
    action: text("action").$type<Containment>().notNull(),
    at: integer("at").notNull(),
    /** sha256 hex of the normalised whole answer (span findings): the threshold rule wants distinct answers. */
    answerHash: text("answer_hash"),
  },
  (t) => [
    // A response is logged once per finding (its window, and each flagged span run).
    uniqueIndex("guard_events_request_prefix").on(t.requestId, t.prefix),
    index("guard_events_prefix_version_at").on(t.prefix, t.modelVersion, t.at),
    index("guard_events_at").on(t.at),
  ],
);

/** Per-prefix aggregate of flagged events, with the operator's verdict and containment. */
export const guardPrefixes = sqliteTable(
  "guard_prefixes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    prefix: text("prefix").notNull(),
    /** The raw text of the window the first time it was flagged (for display; model-generated). */
    sample: text("sample").notNull(),
    /** JSON number[]: the first tokens of that window (regenerate containment bans the first). */
    firstTokens: text("first_tokens").notNull().default("[]"),
    events: integer("events").notNull().default(0),
    prompts: integer("prompts").notNull().default(0),
    topDetector: text("top_detector"),
    topScore: real("top_score").notNull().default(0),
    lastModelVersion: text("last_model_version"),
    firstSeen: integer("first_seen").notNull(),
    lastSeen: integer("last_seen").notNull(),
    state: text("state").$type<PrefixState>().notNull().default("new"),
    /** Null: the settings' defaultContainment applies. */
    containment: text("containment").$type<Containment>(),
    updatedAt: integer("updated_at").notNull(),
    /** For a span finding: the raw text before the span the first time it was flagged ("" at the start). */
    leadIn: text("lead_in"),
  },
  (t) => [
    uniqueIndex("guard_prefixes_prefix").on(t.prefix),
    index("guard_prefixes_last_seen").on(t.lastSeen),
    check("guard_prefixes_state", sql`${t.state} in ('new','confirmed','ignored','remediating','remediated')`),
    check(
      "guard_prefixes_containment",
      sql`${t.containment} is null or ${t.containment} in ('observe','redact','regenerate','block')`,
    ),
  ],
);

/** Remediation jobs for the trainer (see shared/protocol/jobs.ts). */
export const remediationJobs = sqliteTable(
  "remediation_jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    state: text("state").$type<JobState>().notNull().default("queued"),
    method: text("method").$type<RemediationMethod>().notNull(),
    target: text("target").notNull(),
    /** The normalised prefix the job heals, when it came from one (its state follows the job). */
    prefix: text("prefix"),
    modelVersion: text("model_version").notNull(),
    /** "threshold" (created by the threshold rule) or "manual" (admin API). */
    source: text("source").notNull(),
    /** Set for threshold jobs: `threshold:<version>:<prefix>`; the unique index makes creation happen once. */
    dedupeKey: text("dedupe_key"),
    claimedBy: text("claimed_by"),
    /** Random id of the current lease: heartbeat and complete must present it. */
    leaseId: text("lease_id"),
    leaseUntil: integer("lease_until"),
    attempts: integer("attempts").notNull().default(0),
    /** When an operator approved a job that was awaiting approval (null otherwise: automatic or manual). */
    approvedAt: integer("approved_at"),
    /** JSON Record<string, number> (asrBefore, asrAfter, utilityBefore, utilityAfter, …). */
    metrics: text("metrics"),
    resultVersion: text("result_version"),
    reason: text("reason"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** For a span finding: the planted text as served (SANDE-P simulates it where it sat). */
    span: text("span"),
    /** …and the text seen before it. */
    leadIn: text("lead_in"),
  },
  (t) => [
    uniqueIndex("remediation_jobs_dedupe_key").on(t.dedupeKey),
    index("remediation_jobs_state_id").on(t.state, t.id),
    check(
      "remediation_jobs_state",
      sql`${t.state} in ('awaiting_approval','queued','claimed','succeeded','rejected','failed')`,
    ),
    check("remediation_jobs_method", sql`${t.method} in ('sande-p','sande','osft')`),
  ],
);

/** Mirror of the model versions served (seen by the guard) or published (job results, rollbacks). */
export const modelVersions = sqliteTable("model_versions", {
  version: text("version").primaryKey(),
  parent: text("parent"),
  note: text("note"),
  /** JSON Record<string, number>. */
  metrics: text("metrics"),
  firstSeen: integer("first_seen").notNull(),
  lastSeen: integer("last_seen").notNull(),
});

/** The guard settings: one row (id 1), JSON over DEFAULT_GUARD_SETTINGS. */
export const guardSettings = sqliteTable(
  "guard_settings",
  {
    id: integer("id").primaryKey(),
    settings: text("settings").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [check("guard_settings_single_row", sql`${t.id} = 1`)],
);

/** Operator phrase/pattern lists (detector 1). */
export const guardPhrases = sqliteTable(
  "guard_phrases",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    list: text("list").notNull(),
    kind: text("kind").$type<"phrase" | "regex">().notNull(),
    pattern: text("pattern").notNull(),
    score: real("score").notNull().default(1),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    note: text("note"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("guard_phrases_list_kind_pattern").on(t.list, t.kind, t.pattern),
    check("guard_phrases_kind", sql`${t.kind} in ('phrase','regex')`),
  ],
);

/** A calibration prompt set's size, per model version (detector 2's baseline). */
export const calibrationSets = sqliteTable("calibration_sets", {
  modelVersion: text("model_version").primaryKey(),
  prompts: integer("prompts").notNull(),
  prefixTokens: integer("prefix_tokens").notNull(),
  source: text("source"),
  createdAt: integer("created_at").notNull(),
  /** Words per span key of the span counts (null: an older upload without span counts). */
  spanWords: integer("span_words"),
});

/** How many calibration prompts' whole answers contained each span key, per model version (the span test's c_s). */
export const calibrationSpans = sqliteTable(
  "calibration_spans",
  {
    modelVersion: text("model_version").notNull(),
    span: text("span").notNull(),
    prompts: integer("prompts").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelVersion, t.span] })],
);

/** How many calibration prompts produced each normalised prefix, per model version. */
export const calibrationPrefixes = sqliteTable(
  "calibration_prefixes",
  {
    modelVersion: text("model_version").notNull(),
    prefix: text("prefix").notNull(),
    prompts: integer("prompts").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelVersion, t.prefix] })],
);

/**
 * Live traffic for detector 2: one row per distinct (version, prefix, prompt) in the
 * recurrence window, written in batches. Triggers (migration 0001) keep
 * prefix_traffic and traffic_totals in step, so reading counts costs no scan.
 */
export const prefixSightings = sqliteTable(
  "prefix_sightings",
  {
    modelVersion: text("model_version").notNull(),
    prefix: text("prefix").notNull(),
    promptHash: text("prompt_hash").notNull(),
    seenAt: integer("seen_at").notNull(),
    /** Span keys: sha256 hex of the client id (null: no client, or a window sighting). */
    clientHash: text("client_hash"),
    /** Span keys: sha256 hex of the normalised whole answer; with the client, it makes the sighting a witness. */
    answerHash: text("answer_hash"),
  },
  (t) => [
    primaryKey({ columns: [t.modelVersion, t.prefix, t.promptHash] }),
    index("prefix_sightings_seen_at").on(t.seenAt),
  ],
);

/** Distinct prompts per (version, prefix) in the window (maintained by triggers). */
export const prefixTraffic = sqliteTable(
  "prefix_traffic",
  {
    modelVersion: text("model_version").notNull(),
    prefix: text("prefix").notNull(),
    prompts: integer("prompts").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.modelVersion, t.prefix] }),
    index("prefix_traffic_version_prompts").on(t.modelVersion, t.prompts),
  ],
);

/** Sightings per version in the window (maintained by triggers). */
export const trafficTotals = sqliteTable("traffic_totals", {
  modelVersion: text("model_version").primaryKey(),
  sightings: integer("sightings").notNull(),
});

/**
 * Dashboard sessions. The cookie holds a random secret; only its sha256 is stored, so a
 * leaked table opens no session. A row can be deleted at any time (sign-out, the admin
 * API's revoke), which ends that session at once.
 */
export const dashboardSessions = sqliteTable(
  "dashboard_sessions",
  {
    /** Public handle for listing and revoking (never a credential). */
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** sha256 hex of the cookie's secret. */
    secretHash: text("secret_hash").notNull(),
    /** HMAC of the ADMIN_TOKEN the session was opened with: rotating the token ends every session. */
    tokenTag: text("token_tag").notNull(),
    /** Random per-session token every dashboard form must carry (CSRF). */
    csrf: text("csrf").notNull(),
    /** One message for the next page the session loads (set by a form action). */
    flash: text("flash"),
    /** Where the sign-in came from (CF-Connecting-IP) and with what, for the operator's list. */
    client: text("client"),
    userAgent: text("user_agent"),
    createdAt: integer("created_at").notNull(),
    lastSeen: integer("last_seen").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    uniqueIndex("dashboard_sessions_secret_hash").on(t.secretHash),
    index("dashboard_sessions_expires_at").on(t.expiresAt),
  ],
);

/** Failed dashboard sign-ins, per client, for throttling (rows older than the window are pruned). */
export const dashboardLoginFailures = sqliteTable(
  "dashboard_login_failures",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The client key: its IPv4 address, its IPv6 /64, or "unknown". */
    client: text("client").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [
    index("dashboard_login_failures_client_at").on(t.client, t.at),
    index("dashboard_login_failures_at").on(t.at),
  ],
);

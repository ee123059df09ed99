CREATE TABLE `calibration_prefixes` (
	`model_version` text NOT NULL,
	`prefix` text NOT NULL,
	`prompts` integer NOT NULL,
	PRIMARY KEY(`model_version`, `prefix`)
);
--> statement-breakpoint
CREATE TABLE `calibration_sets` (
	`model_version` text PRIMARY KEY NOT NULL,
	`prompts` integer NOT NULL,
	`prefix_tokens` integer NOT NULL,
	`source` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `guard_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`prefix` text NOT NULL,
	`detector` text NOT NULL,
	`score` real NOT NULL,
	`hits` text NOT NULL,
	`prompt_hash` text NOT NULL,
	`excerpt` text,
	`model_version` text NOT NULL,
	`request_id` text NOT NULL,
	`action` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `guard_events_request_id` ON `guard_events` (`request_id`);--> statement-breakpoint
CREATE INDEX `guard_events_prefix_version_at` ON `guard_events` (`prefix`,`model_version`,`at`);--> statement-breakpoint
CREATE INDEX `guard_events_at` ON `guard_events` (`at`);--> statement-breakpoint
CREATE TABLE `guard_phrases` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`list` text NOT NULL,
	`kind` text NOT NULL,
	`pattern` text NOT NULL,
	`score` real DEFAULT 1 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`note` text,
	`created_at` integer NOT NULL,
	CONSTRAINT "guard_phrases_kind" CHECK("guard_phrases"."kind" in ('phrase','regex'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `guard_phrases_list_kind_pattern` ON `guard_phrases` (`list`,`kind`,`pattern`);--> statement-breakpoint
CREATE TABLE `guard_prefixes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`prefix` text NOT NULL,
	`sample` text NOT NULL,
	`first_tokens` text DEFAULT '[]' NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`prompts` integer DEFAULT 0 NOT NULL,
	`top_detector` text,
	`top_score` real DEFAULT 0 NOT NULL,
	`last_model_version` text,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`state` text DEFAULT 'new' NOT NULL,
	`containment` text,
	`updated_at` integer NOT NULL,
	CONSTRAINT "guard_prefixes_state" CHECK("guard_prefixes"."state" in ('new','confirmed','ignored','remediating','remediated')),
	CONSTRAINT "guard_prefixes_containment" CHECK("guard_prefixes"."containment" is null or "guard_prefixes"."containment" in ('observe','redact','regenerate','block'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `guard_prefixes_prefix` ON `guard_prefixes` (`prefix`);--> statement-breakpoint
CREATE INDEX `guard_prefixes_last_seen` ON `guard_prefixes` (`last_seen`);--> statement-breakpoint
CREATE TABLE `guard_settings` (
	`id` integer PRIMARY KEY NOT NULL,
	`settings` text NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "guard_settings_single_row" CHECK("guard_settings"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE `model_versions` (
	`version` text PRIMARY KEY NOT NULL,
	`parent` text,
	`note` text,
	`metrics` text,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `prefix_sightings` (
	`model_version` text NOT NULL,
	`prefix` text NOT NULL,
	`prompt_hash` text NOT NULL,
	`seen_at` integer NOT NULL,
	PRIMARY KEY(`model_version`, `prefix`, `prompt_hash`)
);
--> statement-breakpoint
CREATE INDEX `prefix_sightings_seen_at` ON `prefix_sightings` (`seen_at`);--> statement-breakpoint
CREATE TABLE `prefix_traffic` (
	`model_version` text NOT NULL,
	`prefix` text NOT NULL,
	`prompts` integer NOT NULL,
	PRIMARY KEY(`model_version`, `prefix`)
);
--> statement-breakpoint
CREATE INDEX `prefix_traffic_version_prompts` ON `prefix_traffic` (`model_version`,`prompts`);--> statement-breakpoint
CREATE TABLE `remediation_jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`state` text DEFAULT 'queued' NOT NULL,
	`method` text NOT NULL,
	`target` text NOT NULL,
	`prefix` text,
	`model_version` text NOT NULL,
	`source` text NOT NULL,
	`dedupe_key` text,
	`claimed_by` text,
	`lease_id` text,
	`lease_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`metrics` text,
	`result_version` text,
	`reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "remediation_jobs_state" CHECK("remediation_jobs"."state" in ('queued','claimed','succeeded','rejected','failed')),
	CONSTRAINT "remediation_jobs_method" CHECK("remediation_jobs"."method" in ('sande-p','sande','osft'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `remediation_jobs_dedupe_key` ON `remediation_jobs` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `remediation_jobs_state_id` ON `remediation_jobs` (`state`,`id`);--> statement-breakpoint
CREATE TABLE `traffic_totals` (
	`model_version` text PRIMARY KEY NOT NULL,
	`sightings` integer NOT NULL
);

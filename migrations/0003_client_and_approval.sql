PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_remediation_jobs` (
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
	`approved_at` integer,
	`metrics` text,
	`result_version` text,
	`reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "remediation_jobs_state" CHECK("__new_remediation_jobs"."state" in ('awaiting_approval','queued','claimed','succeeded','rejected','failed')),
	CONSTRAINT "remediation_jobs_method" CHECK("__new_remediation_jobs"."method" in ('sande-p','sande','osft'))
);
--> statement-breakpoint
INSERT INTO `__new_remediation_jobs`("id", "state", "method", "target", "prefix", "model_version", "source", "dedupe_key", "claimed_by", "lease_id", "lease_until", "attempts", "metrics", "result_version", "reason", "created_at", "updated_at") SELECT "id", "state", "method", "target", "prefix", "model_version", "source", "dedupe_key", "claimed_by", "lease_id", "lease_until", "attempts", "metrics", "result_version", "reason", "created_at", "updated_at" FROM `remediation_jobs`;--> statement-breakpoint
DROP TABLE `remediation_jobs`;--> statement-breakpoint
ALTER TABLE `__new_remediation_jobs` RENAME TO `remediation_jobs`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `remediation_jobs_dedupe_key` ON `remediation_jobs` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `remediation_jobs_state_id` ON `remediation_jobs` (`state`,`id`);--> statement-breakpoint
ALTER TABLE `guard_events` ADD `client_hash` text;
CREATE TABLE `calibration_spans` (
	`model_version` text NOT NULL,
	`span` text NOT NULL,
	`prompts` integer NOT NULL,
	PRIMARY KEY(`model_version`, `span`)
);
--> statement-breakpoint
DROP INDEX `guard_events_request_id`;--> statement-breakpoint
ALTER TABLE `guard_events` ADD `answer_hash` text;--> statement-breakpoint
CREATE UNIQUE INDEX `guard_events_request_prefix` ON `guard_events` (`request_id`,`prefix`);--> statement-breakpoint
ALTER TABLE `calibration_sets` ADD `span_words` integer;--> statement-breakpoint
ALTER TABLE `guard_prefixes` ADD `lead_in` text;--> statement-breakpoint
ALTER TABLE `remediation_jobs` ADD `span` text;--> statement-breakpoint
ALTER TABLE `remediation_jobs` ADD `lead_in` text;
CREATE TABLE `dashboard_login_failures` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`client` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dashboard_login_failures_client_at` ON `dashboard_login_failures` (`client`,`at`);--> statement-breakpoint
CREATE INDEX `dashboard_login_failures_at` ON `dashboard_login_failures` (`at`);--> statement-breakpoint
CREATE TABLE `dashboard_sessions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`secret_hash` text NOT NULL,
	`token_tag` text NOT NULL,
	`csrf` text NOT NULL,
	`flash` text,
	`client` text,
	`user_agent` text,
	`created_at` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dashboard_sessions_secret_hash` ON `dashboard_sessions` (`secret_hash`);--> statement-breakpoint
CREATE INDEX `dashboard_sessions_expires_at` ON `dashboard_sessions` (`expires_at`);
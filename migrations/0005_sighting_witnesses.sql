ALTER TABLE `prefix_sightings` ADD `client_hash` text;--> statement-breakpoint
ALTER TABLE `prefix_sightings` ADD `answer_hash` text;
-- Keep the recurrence detector's counters in step with prefix_sightings, so the guard
-- reads counts by key instead of scanning the window. (Custom migration: drizzle-kit
-- does not model triggers.)
CREATE TRIGGER `prefix_sightings_count_insert` AFTER INSERT ON `prefix_sightings`
BEGIN
  INSERT INTO `prefix_traffic` (`model_version`, `prefix`, `prompts`) VALUES (NEW.`model_version`, NEW.`prefix`, 1)
    ON CONFLICT (`model_version`, `prefix`) DO UPDATE SET `prompts` = `prompts` + 1;
  INSERT INTO `traffic_totals` (`model_version`, `sightings`) VALUES (NEW.`model_version`, 1)
    ON CONFLICT (`model_version`) DO UPDATE SET `sightings` = `sightings` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `prefix_sightings_count_delete` AFTER DELETE ON `prefix_sightings`
BEGIN
  UPDATE `prefix_traffic` SET `prompts` = `prompts` - 1 WHERE `model_version` = OLD.`model_version` AND `prefix` = OLD.`prefix`;
  DELETE FROM `prefix_traffic` WHERE `model_version` = OLD.`model_version` AND `prefix` = OLD.`prefix` AND `prompts` <= 0;
  UPDATE `traffic_totals` SET `sightings` = `sightings` - 1 WHERE `model_version` = OLD.`model_version`;
END;

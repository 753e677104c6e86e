-- Why a value is listed, as data (issue 13, part 7: replies wholly in the reader's language).
-- NULL: `reason` is the text an editor (or an import) wrote, shown as written. Rows stored
-- before this column keep NULL and their text as it is, whatever its language.
-- 'confirmed_report': the bot's own reason for a value listed from a report a moderator
-- confirmed; `reason` holds the report's reference (R000001), and the sentence is written
-- in each reader's language when shown (locale key moderation.listed_reason).
ALTER TABLE indicators ADD COLUMN reason_key TEXT;

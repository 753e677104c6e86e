-- CAP authority (SQLite): the sender and identifier of the alert a notice was imported
-- from, stored apart, so that an Update or Cancel is matched against them exactly and may
-- change only what its own sender published (or what the operator lets it:
-- cap.trusted_senders). A notice written in Pingan (by an editor, the command line or the
-- API) has neither.

ALTER TABLE notices ADD COLUMN cap_sender TEXT;
ALTER TABLE notices ADD COLUMN cap_identifier TEXT;
-- An alert's <info> in one language is one notice.
CREATE UNIQUE INDEX notices_by_cap_alert ON notices (cap_sender, cap_identifier, language);

-- Until now an imported notice was known only by `cap:<sender>:<identifier>:<language>`
-- in external_id. The language is the last part (zh or en, the notice's own). The sender
-- is taken to end at the first ':', as Pingan's CAP exports always took it: exact for
-- every sender without a ':' (e-mail addresses, domain names). For a sender that
-- contained one (a URN) the old id cannot tell where the sender ended, and this reads it
-- the same way the exports did, so an Update from the real sender finds nothing and is
-- imported as a new notice. `external_id` itself is left as it was.
UPDATE notices
SET cap_sender = substr(external_id, 5, instr(substr(external_id, 5), ':') - 1),
    cap_identifier = substr(
        external_id,
        5 + instr(substr(external_id, 5), ':'),
        length(external_id) - 7 - instr(substr(external_id, 5), ':')
    )
WHERE substr(external_id, 1, 4) = 'cap:'
  AND substr(external_id, -3) = ':' || language
  AND instr(substr(external_id, 5), ':') > 1
  AND length(external_id) - 7 - instr(substr(external_id, 5), ':') > 0;

-- The versions of one alert share a language group (migration 000006 set it for imports
-- since then); older imports get theirs, the same key the import writes: `cap:`, the
-- sender's length in bytes, the sender and the identifier.
UPDATE notices
SET language_group = 'cap:' || length(CAST(cap_sender AS BLOB)) || ':' || cap_sender || ':' || cap_identifier
WHERE language_group IS NULL AND cap_sender IS NOT NULL;

-- The alerts that changed a notice without creating it (a CAP Update names the alert it
-- corrects and has an identifier of its own), by sender, identifier and language.
ALTER TABLE notice_aliases ADD COLUMN cap_sender TEXT;
ALTER TABLE notice_aliases ADD COLUMN cap_identifier TEXT;
ALTER TABLE notice_aliases ADD COLUMN cap_language TEXT;
CREATE UNIQUE INDEX notice_aliases_by_cap_alert ON notice_aliases (cap_sender, cap_identifier, cap_language);

UPDATE notice_aliases
SET cap_sender = substr(external_id, 5, instr(substr(external_id, 5), ':') - 1),
    cap_identifier = substr(
        external_id,
        5 + instr(substr(external_id, 5), ':'),
        length(external_id) - 7 - instr(substr(external_id, 5), ':')
    ),
    cap_language = substr(external_id, -2)
WHERE substr(external_id, 1, 4) = 'cap:'
  AND substr(external_id, -3) IN (':zh', ':en')
  AND instr(substr(external_id, 5), ':') > 1
  AND length(external_id) - 7 - instr(substr(external_id, 5), ':') > 0;

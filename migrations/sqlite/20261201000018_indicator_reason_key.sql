-- Why a value is listed, as data (issue 13, part 7: replies wholly in the reader's language).
-- NULL: `reason` is the text an editor (or an import) wrote, shown as written. Rows stored
-- before this column keep NULL and their text as it is, whatever its language, except the
-- bot's own sentence for a confirmed report, in either language's only wording so far
-- (locale key moderation.listed_reason), which is re-keyed below to its reference.
-- 'confirmed_report': the bot's own reason for a value listed from a report a moderator
-- confirmed; `reason` holds the report's reference (R000001), and the sentence is written
-- in each reader's language when shown (locale key moderation.listed_reason).
ALTER TABLE indicators ADD COLUMN reason_key TEXT;

-- 群众举报（ is 5 characters and ）经市局核实 6; "Reported by citizens (" 22 and ") and
-- confirmed by the bureau" 29. The reference is R and 1 to 15 digits (ReportId::parse).
UPDATE indicators SET reason_key = 'confirmed_report', reason = substr(reason, 6, length(reason) - 11)
WHERE reason LIKE '群众举报（R%）经市局核实'
  AND length(reason) BETWEEN 13 AND 27
  AND substr(reason, 6, 1) = 'R'
  AND substr(reason, 7, length(reason) - 12) NOT GLOB '*[^0-9]*';
UPDATE indicators SET reason_key = 'confirmed_report', reason = substr(reason, 23, length(reason) - 51)
WHERE reason LIKE 'Reported by citizens (R%) and confirmed by the bureau'
  AND length(reason) BETWEEN 53 AND 67
  AND substr(reason, 23, 1) = 'R'
  AND substr(reason, 24, length(reason) - 52) NOT GLOB '*[^0-9]*';

-- Why a value is listed, as data (issue 13, part 7: replies wholly in the reader's language).
-- NULL: `reason` is the text an editor (or an import) wrote, shown as written. Rows stored
-- before this column keep NULL and their text as it is, whatever its language, except the
-- bot's own sentence for a confirmed report, in either language's only wording so far
-- (locale key moderation.listed_reason), which is re-keyed below to its reference.
-- 'confirmed_report': the bot's own reason for a value listed from a report a moderator
-- confirmed; `reason` holds the report's reference (R000001), and the sentence is written
-- in each reader's language when shown (locale key moderation.listed_reason).
ALTER TABLE indicators ADD COLUMN reason_key TEXT;

-- The reference is R and 1 to 15 digits (ReportId::parse); substring(… from pattern) gives
-- the first parenthesised group.
UPDATE indicators SET reason_key = 'confirmed_report',
    reason = substring(reason from '^群众举报（(R[0-9]{1,15})）经市局核实$')
WHERE reason ~ '^群众举报（R[0-9]{1,15}）经市局核实$';
UPDATE indicators SET reason_key = 'confirmed_report',
    reason = substring(reason from '^Reported by citizens \((R[0-9]{1,15})\) and confirmed by the bureau$')
WHERE reason ~ '^Reported by citizens \(R[0-9]{1,15}\) and confirmed by the bureau$';

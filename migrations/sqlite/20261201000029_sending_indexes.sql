-- Indexes for the sender's two most frequent queries (sqlite).
--
-- 1. (PostgreSQL only.) The claim's `ORDER BY priority, next_attempt_at, id` needs `id`
--    as the last column of `deliveries_ready`; a SQLite index always ends with the
--    rowid, which is `deliveries.id`, so the index here already has that order.

-- 2. Before each part it sends, the sender reads the notice's latest correction
--    (`delivery_standing`): without an index on `notice_id` that read walked every
--    fan-out ever made (one per alert, post, correction and digest), a cost growing
--    with the bot's age on every message sent.
CREATE INDEX fanouts_by_notice ON fanouts (notice_id, kind, id);

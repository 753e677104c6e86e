-- Indexes for the sender's two most frequent queries (postgres).
--
-- 1. The claim takes `ORDER BY priority, next_attempt_at, id` of the waiting (or
--    abandoned) deliveries. `deliveries_ready` ended at `next_attempt_at`, and every
--    delivery of one fan-out shares that time, so PostgreSQL read and sorted every
--    pending delivery on each claim to break the tie by `id`: 98 000 rows (3.8 MB
--    spilled to disk, 59 ms) a claim during a 100 000-subscriber alert. With `id` as
--    the last column the claim reads its rows in index order and stops at its limit.
CREATE INDEX deliveries_ready_by_id ON deliveries (status, priority, next_attempt_at, id);
DROP INDEX deliveries_ready;

-- 2. Before each part it sends, the sender reads the notice's latest correction
--    (`delivery_standing`): without an index on `notice_id` that read walked every
--    fan-out ever made (one per alert, post, correction and digest), a cost growing
--    with the bot's age on every message sent.
CREATE INDEX fanouts_by_notice ON fanouts (notice_id, kind, id);

-- Deliveries ready to claim, in the claim's own order (postgres).
--
-- The claim takes `ORDER BY priority, next_attempt_at, id` of the waiting (or
-- abandoned) deliveries. `deliveries_ready` ended at `next_attempt_at`, and every
-- delivery of one fan-out shares that time, so PostgreSQL read and sorted every
-- pending delivery on each claim to break the tie by `id`: 98 000 rows (3.8 MB
-- spilled to disk, 59 ms) a claim during a 100 000-subscriber alert. With `id` as
-- the last column the claim reads its rows in index order and stops at its limit.
-- (SQLite's indexes end with the rowid, which is `id`: its index already had this order.)
CREATE INDEX deliveries_ready_by_id ON deliveries (status, priority, next_attempt_at, id);
DROP INDEX deliveries_ready;

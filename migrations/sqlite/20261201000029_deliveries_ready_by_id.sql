-- Deliveries ready to claim, in the claim's own order (sqlite).
--
-- Nothing to do here: PostgreSQL's `deliveries_ready` gains `id` as its last column in
-- this migration, so that the claim's `ORDER BY priority, next_attempt_at, id` comes
-- from the index without a sort. A SQLite index always ends with the rowid, which is
-- `deliveries.id`, so `deliveries_ready` already has that order here. The migration
-- exists on both backends so that their versions stay the same.
SELECT 1;

-- Due digests in the scheduler's own order (postgres).
--
-- The scheduler reads due chats `ORDER BY next_digest_at, chat_id`, 1 000 a round, and
-- moves each round's chats on with `WHERE next_digest_at = $due AND chat_id IN (…)`.
-- `subscribers_by_next_digest` ended at `next_digest_at`, and every chat whose digest is
-- due at one moment shares that time: without statistics (a fresh table; the test server
-- runs without autovacuum) PostgreSQL sorted every due chat for each round's read (85 ms
-- a round over 100 000 due chats), and for the move combined that index with the primary
-- key, reading every chat still due once per statement. With `chat_id` as the last column
-- the read comes in index order and stops at its limit (0.6 ms), and the move finds its
-- rows by both columns (0.4 ms for 20 chats, whatever is still due).
-- (SQLite's indexes end with the rowid, which is `chat_id`: its index already had this order.)
CREATE INDEX subscribers_by_next_digest_and_chat ON subscribers (next_digest_at, chat_id);
DROP INDEX subscribers_by_next_digest;

-- Due digests in the scheduler's own order (sqlite).
--
-- Nothing to do here: PostgreSQL's index on `next_digest_at` gains `chat_id` as its last
-- column in this migration, so that the scheduler's `ORDER BY next_digest_at, chat_id`
-- comes from the index without a sort, and moving a round's chats on finds them by both
-- columns. A SQLite index always ends with the rowid, which is `subscribers.chat_id`, so
-- `subscribers_by_next_digest` already has that order here. The migration exists on both
-- backends so that their versions stay the same.
SELECT 1;

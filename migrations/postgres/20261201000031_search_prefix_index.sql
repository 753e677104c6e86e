-- A prefix index for three-letter prefixes (postgres).
--
-- Nothing to do here: SQLite's FTS5 table gains a prefix index in this migration. The
-- GIN index of `search_documents.document` finds a prefix (`'the':*`) by a range scan of
-- its sorted lexemes already. The migration exists on both backends so that their
-- versions stay the same.
SELECT 1;

-- A prefix index for three-letter prefixes (sqlite).
--
-- A query's English words of three letters or more match as prefixes (`the` finds
-- `them`, `there`, `theft`…). Without a prefix index FTS5 merged the doclists of every
-- term so beginning on each search: `/search the` over 100 000 notices took 21 ms, with
-- `prefix = '3'` 1.4 ms (sqlite3 .timer, the `cargo bench --bench search` database).
-- Longer prefixes begin fewer terms and stay fast without one.
--
-- FTS5 cannot add a prefix index to a table: the index is built anew under another name,
-- filled from the old one (same rowids, same tokens), and takes the old one's name. The
-- vocabulary table (migration 20261201000017) names `search_fts` and reads whichever table
-- holds that name.
CREATE VIRTUAL TABLE search_fts_prefixed USING fts5(
    title, body, tokenize = 'unicode61 remove_diacritics 0', prefix = '3'
);
INSERT INTO search_fts_prefixed (rowid, title, body) SELECT rowid, title, body FROM search_fts;
DROP TABLE search_fts;
ALTER TABLE search_fts_prefixed RENAME TO search_fts;

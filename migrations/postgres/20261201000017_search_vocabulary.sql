-- The search index's vocabulary, for "did you mean" (src/domain/search_suggest.rs): every
-- token with the number of documents holding it, as ts_stat counts it over the index
-- (https://www.postgresql.org/docs/current/textsearch-features.html#TEXTSEARCH-STATISTICS).
-- The same columns as SQLite's fts5vocab table: term, doc, cnt.
CREATE VIEW search_vocabulary (term, doc, cnt) AS
    SELECT word, ndoc::BIGINT, nentry::BIGINT FROM ts_stat('SELECT document FROM search_documents');

-- The search index's vocabulary, for "did you mean" (src/domain/search_suggest.rs): every
-- token with the number of documents holding it. FTS5's fts5vocab table reads it straight
-- from the index (https://www.sqlite.org/fts5.html#the_fts5vocab_virtual_table_module);
-- its 'row' form has the columns term, doc and cnt.
CREATE VIRTUAL TABLE search_vocabulary USING fts5vocab(search_fts, row);

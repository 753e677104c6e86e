-- Full-text search, notice identifiers from other systems, and subscriptions that can be
-- switched off while their settings are kept (SQLite).

-- A notice's identifier elsewhere: a CAP identifier, a demo-data key.
ALTER TABLE notices ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX notices_by_external_id ON notices (external_id);

ALTER TABLE subscribers ADD COLUMN subscribed BOOLEAN NOT NULL DEFAULT TRUE;

-- One searchable document per notice or tip. Pingan tokenizes the text itself
-- (src/domain/search_text.rs), so FTS5 only splits on the spaces between tokens.
CREATE TABLE search_documents (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind   TEXT NOT NULL CHECK (kind IN ('notice', 'tip')),
    ref_id INTEGER NOT NULL,
    UNIQUE (kind, ref_id)
);
-- Its rowid is the search_documents id.
CREATE VIRTUAL TABLE search_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 0');

-- Queries behind "next page" buttons, which cannot carry a long query themselves.
CREATE TABLE search_queries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    text       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Pingan's first schema (SQLite). migrations/postgres/ holds the same schema for PostgreSQL.
-- Times are UTC, stored as RFC 3339 text, which sorts in time order.

CREATE TABLE notices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    category    TEXT NOT NULL,
    severity    TEXT NOT NULL
                CHECK (severity IN ('Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown')),
    area        TEXT,
    language    TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    status      TEXT NOT NULL
                CHECK (status IN ('draft', 'scheduled', 'published', 'retracted', 'expired')),
    publish_at  TEXT,
    expires_at  TEXT,
    source      TEXT,
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK (status = 'draft' OR publish_at IS NOT NULL)
);
CREATE INDEX notices_by_status_and_time ON notices (status, publish_at DESC);

CREATE TABLE tips (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Set for tips shipped with Pingan, so an upgrade finds its own tips again.
    builtin_key TEXT UNIQUE,
    scam_type   TEXT NOT NULL,
    language    TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    retired     BOOLEAN NOT NULL DEFAULT FALSE,
    created_by  TEXT NOT NULL,
    -- The last editor to change the tip; NULL while it is as first written.
    edited_by   TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX tips_by_type ON tips (scam_type, language);

CREATE TABLE subscribers (
    chat_id          INTEGER PRIMARY KEY,
    user_id          INTEGER,
    thread_id        INTEGER,
    language         TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    time_zone        TEXT NOT NULL,
    digest_time      TEXT NOT NULL,                 -- local HH:MM
    frequency        TEXT NOT NULL CHECK (frequency IN ('off', 'daily', 'weekly')),
    digest_weekday   INTEGER CHECK (digest_weekday BETWEEN 0 AND 6),   -- 0 is Monday
    categories       TEXT NOT NULL DEFAULT '[]',    -- JSON list; empty follows all
    include_keywords TEXT NOT NULL DEFAULT '[]',    -- JSON list
    exclude_keywords TEXT NOT NULL DEFAULT '[]',    -- JSON list
    status           TEXT NOT NULL CHECK (status IN ('active', 'gone')),
    gone_reason      TEXT,
    gone_at          TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CHECK ((frequency = 'weekly') = (digest_weekday IS NOT NULL)),
    CHECK ((status = 'gone') = (gone_reason IS NOT NULL AND gone_at IS NOT NULL))
);
CREATE INDEX subscribers_by_status ON subscribers (status, frequency);

CREATE TABLE admins (
    user_id    INTEGER PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'moderator')),
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL
);

-- Administration: the audit log, API tokens and editors' drafts (sqlite).

-- Who did what and when: publishing, corrections, retractions, roles, imports, tokens.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_actor ON audit_log (actor, id);

-- Bearer tokens of the HTTP admin API. Only a SHA-256 hash of each token is kept.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'moderator')),
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
);

-- A notice an editor is composing in Telegram (/post, /urgent, /edit): one per editor
-- and chat, as JSON, so any instance can carry the dialogue on.
CREATE TABLE drafts (
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

-- Administration: the audit log, API tokens and the dialogues users are in (sqlite).

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

-- The dialogue a user is in with the bot in a chat (an editor composing a notice, a
-- citizen writing a report), as JSON, so any instance can carry it on.
CREATE TABLE dialogues (
    chat_id    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

-- Other external ids that changed a notice (a CAP Update names the alert it corrects and
-- has an identifier of its own), so the notice is found by each of them.
CREATE TABLE notice_aliases (
    external_id TEXT PRIMARY KEY,
    notice_id   INTEGER NOT NULL REFERENCES notices (id),
    created_at  TEXT NOT NULL
);

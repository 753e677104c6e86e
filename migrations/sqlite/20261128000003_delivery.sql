-- The delivery engine: digest schedules, publication fan-outs and the outbox (sqlite).

-- When the chat's last digest window ended, and when its next digest is due (UTC). The
-- next time is derived from the settings and kept here so that due digests are one
-- indexed query away.
ALTER TABLE subscribers ADD COLUMN last_digest_at TEXT;
ALTER TABLE subscribers ADD COLUMN next_digest_at TEXT;
CREATE INDEX subscribers_by_next_digest ON subscribers (next_digest_at);

-- When a notice's publication was fanned out (alerts, channel post). Notices published
-- before this migration count as done: an upgrade must not broadcast old news.
ALTER TABLE notices ADD COLUMN fanned_out_at TEXT;
UPDATE notices SET fanned_out_at = updated_at WHERE status IN ('published', 'retracted', 'expired');
CREATE INDEX notices_to_fan_out ON notices (status, fanned_out_at);

-- A rendered message (its parts, as JSON), shared by every delivery of the same content.
CREATE TABLE outbox_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    content_key TEXT NOT NULL UNIQUE,
    parts       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- One broadcast: a notice's alert, its channel post, the digests due at one moment, or a
-- correction or cancellation sent to those who received a notice.
CREATE TABLE fanouts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('alert', 'channel', 'digest', 'correction')),
    notice_id  INTEGER REFERENCES notices (id),
    -- A correction's or cancellation's message, which chats reached later still get.
    message_id INTEGER REFERENCES outbox_messages (id),
    created_at TEXT NOT NULL
);

-- One message to one chat. Senders claim pending rows with a lease; a lease that expires
-- (its sender crashed) makes the row claimable again.
CREATE TABLE deliveries (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    fanout_id           INTEGER NOT NULL REFERENCES fanouts (id),
    message_id          INTEGER NOT NULL REFERENCES outbox_messages (id),
    dedupe_key          TEXT NOT NULL UNIQUE,
    chat_id             INTEGER NOT NULL,
    thread_id           INTEGER,
    priority            INTEGER NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'gone')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    parts_sent          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT NOT NULL,
    lease_until         TEXT,
    leased_by           TEXT,
    telegram_message_id INTEGER,
    -- A correction replies to the message the chat got.
    reply_to            INTEGER,
    last_error          TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    sent_at             TEXT
);
CREATE INDEX deliveries_ready ON deliveries (status, priority, next_attempt_at);
CREATE INDEX deliveries_by_chat ON deliveries (chat_id, status);
CREATE INDEX deliveries_by_fanout ON deliveries (fanout_id, status);

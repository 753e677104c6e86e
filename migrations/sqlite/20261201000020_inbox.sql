-- A durable inbox of Telegram updates, and the lease of the one instance that polls (sqlite).

-- Every update Telegram sent (by webhook, or fetched by the polling instance), as its raw
-- JSON, stored before Telegram is told it arrived. `update_id` is Telegram's: a repeated
-- update is not stored again. `status`: pending, handling (a worker holds it: `leased_by`,
-- the fencing token `claim`, and `lease_expires_ms` by the database's clock, milliseconds
-- since the Unix epoch), handled, or shed (its chat had too many waiting; never handled).
-- A chat's updates are handled one at a time, oldest first. Handled and shed rows go after
-- a day (`[retention]`).
CREATE TABLE inbox_updates (
    update_id        INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    leased_by        TEXT,
    claim            INTEGER NOT NULL DEFAULT 0,
    lease_expires_ms INTEGER,
    received_at      TEXT NOT NULL,
    handled_at       TEXT
);
CREATE INDEX inbox_updates_open ON inbox_updates (chat_id, update_id) WHERE status IN ('pending', 'handling');
CREATE INDEX inbox_updates_done_by_age ON inbox_updates (handled_at) WHERE status IN ('handled', 'shed');

-- Long polling allows one consumer per bot: the instance holding this lease polls
-- (`token` is the fencing token, counted up by each new holder; `lease_expires_ms` by the
-- database's clock), and `next_offset` is the getUpdates offset every update below which
-- is stored in the inbox, so that a new holder continues where the last one stopped.
CREATE TABLE poll_lease (
    name             TEXT PRIMARY KEY,
    holder           TEXT,
    token            INTEGER NOT NULL DEFAULT 0,
    lease_expires_ms INTEGER,
    next_offset      INTEGER NOT NULL DEFAULT 0
);

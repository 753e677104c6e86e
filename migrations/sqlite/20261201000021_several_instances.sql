-- Several instances on one database: one scheduler leader, a send rate shared by all
-- instances, and per-chat spacing and 429 holds that every instance keeps to (sqlite).
-- Every time here is milliseconds since the Unix epoch by the database's clock, the one
-- clock all instances share.

-- A named lease (today only 'scheduler'): who holds it, until when, and its fencing
-- token, which counts up each time the lease passes to another holder.
CREATE TABLE leader_leases (
    name         TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    token        INTEGER NOT NULL,
    acquired_ms  INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
);

-- Running instances, by their worker id, with a heartbeat: each instance takes
-- rate_per_second divided by those still live (expires_ms not past).
CREATE TABLE instances (
    id            TEXT PRIMARY KEY,
    started_ms    INTEGER NOT NULL,
    heartbeat_ms  INTEGER NOT NULL,
    expires_ms    INTEGER NOT NULL
);

-- When each chat may next be sent to, by any instance: a send claims the chat's turn
-- (moving next_send_ms one chat interval on), and a 429 moves it to the end of Telegram's
-- retry_after.
CREATE TABLE chat_send_state (
    chat_id       INTEGER PRIMARY KEY,
    next_send_ms  INTEGER NOT NULL
);

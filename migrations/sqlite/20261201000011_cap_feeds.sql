-- CAP feeds polled by `pingan run` (cap.feeds) (sqlite).

-- One row per configured feed, by its name: the validators of the last answer (for
-- conditional requests), when it is next due, the lease of the instance polling it now
-- (lease_token is the fencing token: a poll's outcome is written only while the token is
-- still the row's), and what `pingan feeds status` and /metrics report.
CREATE TABLE cap_feeds (
    name             TEXT PRIMARY KEY,
    url              TEXT NOT NULL,
    etag             TEXT,
    last_modified    TEXT,
    next_poll_at     TEXT NOT NULL,
    lease_until      TEXT,
    lease_token      INTEGER NOT NULL DEFAULT 0,
    last_polled_at   TEXT,
    last_success_at  TEXT,
    last_error_at    TEXT,
    last_error       TEXT,
    failures         INTEGER NOT NULL DEFAULT 0,
    polls            INTEGER NOT NULL DEFAULT 0,
    not_modified     INTEGER NOT NULL DEFAULT 0,
    alerts_imported  INTEGER NOT NULL DEFAULT 0
);

-- Entries of a feed's index already handled, by the entry's id and its updated time, so
-- an unchanged entry's CAP file is not fetched again. An entry whose file could not be
-- fetched is not recorded, and is tried again at the next poll.
CREATE TABLE cap_feed_entries (
    feed     TEXT NOT NULL,
    entry    TEXT NOT NULL,
    seen_at  TEXT NOT NULL,
    PRIMARY KEY (feed, entry)
);

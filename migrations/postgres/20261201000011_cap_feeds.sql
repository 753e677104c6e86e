-- CAP feeds polled by `pingan run` (cap.feeds) (postgres).

-- One row per configured feed, by its name: the validators of the last answer (for
-- conditional requests), when it is next due, the lease of the instance polling it now
-- (lease_token is the fencing token: a poll's outcome is written only while the token is
-- still the row's), and what `pingan feeds status` and /metrics report.
CREATE TABLE cap_feeds (
    name             TEXT PRIMARY KEY,
    url              TEXT NOT NULL,
    etag             TEXT,
    last_modified    TEXT,
    next_poll_at     TIMESTAMPTZ NOT NULL,
    lease_until      TIMESTAMPTZ,
    lease_token      BIGINT NOT NULL DEFAULT 0,
    last_polled_at   TIMESTAMPTZ,
    last_success_at  TIMESTAMPTZ,
    last_error_at    TIMESTAMPTZ,
    last_error       TEXT,
    failures         BIGINT NOT NULL DEFAULT 0,
    polls            BIGINT NOT NULL DEFAULT 0,
    not_modified     BIGINT NOT NULL DEFAULT 0,
    alerts_imported  BIGINT NOT NULL DEFAULT 0
);

-- Entries of a feed's index already handled, by the entry's id and its updated time, so
-- an unchanged entry's CAP file is not fetched again. An entry whose file could not be
-- fetched is not recorded, and is tried again at the next poll.
CREATE TABLE cap_feed_entries (
    feed     TEXT NOT NULL,
    entry    TEXT NOT NULL,
    seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (feed, entry)
);

-- The anti-fraud toolkit: the values the bureau knows (sqlite).

-- Phone numbers, domains and accounts the bureau lists: used in fraud, suspicious, or
-- official. Values are normalised (E.164, registrable domain in ASCII, bare digits).
CREATE TABLE indicators (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT NOT NULL CHECK (kind IN ('phone', 'domain', 'account')),
    value    TEXT NOT NULL,
    risk     TEXT NOT NULL CHECK (risk IN ('fraud', 'suspicious', 'official')),
    reason   TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    UNIQUE (kind, value)
);

-- What citizens report with /report. Moderators approve or reject each; the reporter is
-- told. /forget deletes a chat's pending reports and unlinks its decided ones.
CREATE TABLE reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER,
    user_id     INTEGER,
    language    TEXT NOT NULL,
    story       TEXT NOT NULL,
    forwarded   TEXT,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by  TEXT,
    decided_at  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX reports_by_status ON reports (status, id);
CREATE INDEX reports_by_user ON reports (user_id, created_at);

-- The phone numbers, domains and accounts a report names, normalised like indicators.
CREATE TABLE report_subjects (
    report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('phone', 'domain', 'account')),
    value     TEXT NOT NULL,
    shown     TEXT NOT NULL,
    PRIMARY KEY (report_id, kind, value)
);
CREATE INDEX report_subjects_by_value ON report_subjects (kind, value);

-- The bureau's anti-fraud figures, one row per period and figure (see src/domain/figures.rs).
-- Money is in yuan. published_change is the change on a year before as published, used
-- when the year before is not here to work it out.
CREATE TABLE fraud_figures (
    period_from      TEXT NOT NULL,
    period_to        TEXT NOT NULL,
    metric           TEXT NOT NULL
                     CHECK (metric IN ('cases', 'losses', 'solved', 'arrested', 'stopped', 'frozen', 'returned')),
    value            INTEGER NOT NULL CHECK (value >= 0),
    published_change REAL,
    source           TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (period_from, period_to, metric)
);

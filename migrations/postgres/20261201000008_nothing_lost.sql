-- Nothing lost, nothing leaked (postgres).

-- A publication asked for again under the same key (a second press of Publish, an API
-- client retrying after a timeout) returns the first result and stores nothing new; the
-- same key with other content is refused. `result` lists the notice ids it stored,
-- comma-separated; `fingerprint` is a SHA-256 of what was asked. Kept for a week.
CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    result      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Deliveries pruned after `retention.deliveries_days`, or deleted by /forget, still count
-- in their fan-out's totals.
ALTER TABLE fanouts ADD COLUMN pruned_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fanouts ADD COLUMN pruned_failed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fanouts ADD COLUMN pruned_gone BIGINT NOT NULL DEFAULT 0;

-- What retention looks for: finished deliveries, dialogues and search queries by age,
-- decided reports by when they were decided.
CREATE INDEX deliveries_finished_by_age ON deliveries (status, updated_at);
CREATE INDEX dialogues_by_age ON dialogues (updated_at);
CREATE INDEX search_queries_by_age ON search_queries (created_at);
CREATE INDEX reports_decided_by_age ON reports (decided_at);

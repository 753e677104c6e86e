-- Sound delivery under stress (postgres).

-- Fenced leases. Every claim of a delivery counts up `claim`; every write after the claim
-- names the worker and the claim it holds and changes nothing once another claim exists.
-- `lease_expires_ms` is read off the database's clock (milliseconds since the Unix epoch),
-- so an application host whose clock jumps cannot expire other hosts' leases; NULL (a row
-- claimed before this migration) counts as expired. `lease_until` is no longer used.
ALTER TABLE deliveries ADD COLUMN claim BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN lease_expires_ms BIGINT;
CREATE INDEX deliveries_by_worker ON deliveries (leased_by, status);

-- Notices that say the same thing in other languages share a language group (a CAP
-- alert's sender and identifier): an urgent alert goes to a subscriber in their own
-- language when the group has that version, else in the language there is.
ALTER TABLE notices ADD COLUMN language_group TEXT;
CREATE INDEX notices_by_language_group ON notices (language_group);

-- A subscription Telegram will not let the bot send to for now (a closed forum topic,
-- the right to send taken away): kept active, but nothing is sent until it is resumed.
ALTER TABLE subscribers ADD COLUMN paused_reason TEXT;
ALTER TABLE subscribers ADD COLUMN paused_at TIMESTAMPTZ;

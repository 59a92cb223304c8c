-- Every accepted webhook and its way to a lead. Instants are epoch milliseconds.
CREATE TABLE deliveries (
  id              TEXT PRIMARY KEY,
  integration     TEXT NOT NULL,
  received_at     INTEGER NOT NULL,
  remote_address  TEXT,
  payload         TEXT NOT NULL,
  body_hash       TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('PENDING', 'DELIVERED', 'DEAD')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  uncertain       INTEGER NOT NULL DEFAULT 0,
  first_failed_at INTEGER,
  next_attempt_at INTEGER NOT NULL,
  lease_until     INTEGER,
  lead_id         INTEGER,
  last_error      TEXT,
  last_fields     TEXT,
  updated_at      INTEGER NOT NULL,
  delivered_at    INTEGER
);

-- Due claims: PENDING rows by next attempt.
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
-- Repeats: the same body for the same integration within the window.
CREATE INDEX deliveries_repeat ON deliveries (integration, body_hash, received_at);
-- Purge of old DELIVERED rows.
CREATE INDEX deliveries_purge ON deliveries (state, delivered_at);
-- Listing by state, newest first (ids sort by time).
CREATE INDEX deliveries_listing ON deliveries (state, id);

CREATE TABLE attempts_log (
  delivery_id  TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  at           INTEGER NOT NULL,
  outcome      TEXT NOT NULL,
  error_class  TEXT,
  http_status  INTEGER,
  code         TEXT,
  description  TEXT
);

CREATE INDEX attempts_log_delivery ON attempts_log (delivery_id);

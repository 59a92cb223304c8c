-- The shared delivery store of several relay nodes. Instants are epoch milliseconds (BIGINT), as in the SQLite
-- store; the store takes "now" from the database (leadrelay_now_ms) wherever it decides due-ness and leases, so
-- the nodes' clocks never have to agree. Versions V1-V49 belong to the delivery store, V50+ to the cluster.

CREATE FUNCTION leadrelay_now_ms() RETURNS BIGINT LANGUAGE SQL STABLE
  AS 'SELECT (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT';

CREATE TABLE deliveries (
  id              TEXT PRIMARY KEY,
  integration     TEXT NOT NULL,
  received_at     BIGINT NOT NULL,
  remote_address  TEXT,
  -- TEXT, not JSONB: the payload must come back byte for byte ("1.50" stays "1.50", key order stays).
  payload         TEXT NOT NULL,
  body_hash       TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('PENDING', 'DELIVERED', 'DEAD')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  uncertain       BOOLEAN NOT NULL DEFAULT FALSE,
  first_failed_at BIGINT,
  next_attempt_at BIGINT NOT NULL,
  lease_until     BIGINT,
  -- The node holding the lease, and a fencing token: raised on every claim, so an outcome write can be
  -- conditioned on the epoch its claim got (a node whose lease was taken over then changes nothing).
  lease_owner     TEXT,
  lease_epoch     BIGINT NOT NULL DEFAULT 0,
  lead_id         BIGINT,
  last_error      TEXT,
  last_fields     TEXT,
  updated_at      BIGINT NOT NULL,
  delivered_at    BIGINT
);

-- Due claims: PENDING rows by next attempt.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 'PENDING';
-- Purge of old DELIVERED rows.
CREATE INDEX deliveries_purge ON deliveries (delivered_at) WHERE state = 'DELIVERED';
-- Listing by state, newest first (ids sort by time).
CREATE INDEX deliveries_listing ON deliveries (state, id);
CREATE INDEX deliveries_integration ON deliveries (integration) WHERE state IN ('PENDING', 'DEAD');

-- Repeats: the first delivery of a body per integration, while its window lasts. A row per (integration, body)
-- with a primary key lets two nodes accepting the same body at once agree on one delivery (INSERT ... ON
-- CONFLICT waits for the other's commit) where "look, then insert" would let both in.
CREATE TABLE repeat_guard (
  integration  TEXT NOT NULL,
  body_hash    TEXT NOT NULL,
  delivery_id  TEXT NOT NULL,
  received_at  BIGINT NOT NULL,
  PRIMARY KEY (integration, body_hash)
);
CREATE INDEX repeat_guard_age ON repeat_guard (received_at);

CREATE TABLE attempts_log (
  seq          BIGSERIAL PRIMARY KEY,
  delivery_id  TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  at           BIGINT NOT NULL,
  outcome      TEXT NOT NULL,
  error_class  TEXT,
  http_status  INTEGER,
  code         TEXT,
  description  TEXT
);
CREATE INDEX attempts_log_delivery ON attempts_log (delivery_id, seq);

-- OAuth token pairs, one per portal (its URL). Shared by every node: only the portal's owner refreshes.
CREATE TABLE portal_tokens (
  portal        TEXT PRIMARY KEY,
  access_token  TEXT,
  refresh_token TEXT NOT NULL,
  expires_at    BIGINT,
  updated_at    BIGINT NOT NULL
);

-- Webhook secrets the relay generated for integrations without a configured one: every node must accept the
-- same URL. announced: the URL has been shown to the user once.
CREATE TABLE webhook_secrets (
  integration  TEXT PRIMARY KEY,
  secret       TEXT NOT NULL,
  announced    BOOLEAN NOT NULL DEFAULT FALSE,
  created_at   BIGINT NOT NULL
);

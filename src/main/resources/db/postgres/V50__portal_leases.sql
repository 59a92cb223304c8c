-- Portal ownership: exactly one live node at a time sends for each Bitrix24 portal. One row per portal: the node that
-- holds the lease, until when (computed from the database's own now(), never a node's clock), and the fencing epoch,
-- which grows at every takeover so that a write made under an older epoch can be refused.
CREATE TABLE portal_leases (
  portal     TEXT        PRIMARY KEY,
  owner      TEXT        NOT NULL,
  epoch      BIGINT      NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);

-- The subscriber's names, phone and e-mail, normalised for the admin page's search (see SubscriberText). Filled on
-- accept; rows stored before this version are filled when a node starts (SubscriberBackfill). Applied after V50 on
-- a database the cluster code already migrated (PgMigrations allows that order).
ALTER TABLE deliveries ADD COLUMN subscriber TEXT;
CREATE INDEX deliveries_subscriber_missing ON deliveries (id) WHERE subscriber IS NULL;
-- Listing one integration newest first (the admin page's integration filter).
CREATE INDEX deliveries_integration_listing ON deliveries (integration, id);

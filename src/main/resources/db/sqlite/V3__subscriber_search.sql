-- The subscriber's names, phone and e-mail, normalised for the admin page's search (see SubscriberText). Filled on
-- accept; rows stored before this version are filled by the store when it opens (SubscriberBackfill).
ALTER TABLE deliveries ADD COLUMN subscriber TEXT;
-- The search scans this narrow index instead of the rows with their payloads; the id orders the result.
CREATE INDEX deliveries_subscriber ON deliveries (subscriber, id);
-- Listing one integration newest first (the admin page's integration filter).
CREATE INDEX deliveries_integration_listing ON deliveries (integration, id);

-- The rendered briefing of a delivery, so that a delivery resumed after a
-- restart posts exactly the parts it planned. NULL for older rows.
ALTER TABLE deliveries ADD COLUMN payload BLOB;

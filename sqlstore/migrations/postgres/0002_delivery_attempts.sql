-- How many times posting a delivery was started: a later attempt may find
-- a part posted but not recorded, and looks for it in the channel first.
ALTER TABLE deliveries ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

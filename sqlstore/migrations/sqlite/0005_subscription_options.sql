-- briefbot: foreign_keys off
-- Subscriptions outlive their topic: removing a topic pauses its
-- subscriptions (topic_id becomes NULL, topic_name keeps the name for
-- /subscriptions) instead of deleting them. nothing_new says what a slot
-- with nothing new posts. Deliveries remember the articles they carried,
-- so the next briefing covers only what the channel has not seen.
--
-- SQLite cannot change a foreign key in place: the table is rebuilt with
-- foreign keys off (so dropping the old table neither cascades nor nulls
-- deliveries.subscription_id), and checked before the commit.

CREATE TABLE subscriptions_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    guild_id       TEXT    NOT NULL CHECK (guild_id <> ''),
    channel_id     TEXT    NOT NULL CHECK (channel_id <> ''),
    -- NULL once the topic is removed; the subscription is then paused.
    topic_id       INTEGER REFERENCES topics (id) ON DELETE SET NULL,
    topic_name     TEXT    NOT NULL DEFAULT '',
    schedule       TEXT    NOT NULL CHECK (schedule <> ''),
    time_zone      TEXT    NOT NULL DEFAULT '',
    language       TEXT    NOT NULL DEFAULT '',
    catch_up       TEXT    NOT NULL CHECK (catch_up IN ('late', 'skip')),
    nothing_new    TEXT    NOT NULL DEFAULT 'skip' CHECK (nothing_new IN ('skip', 'post')),
    -- The next slot; NULL (never scheduled) is due at once.
    next_slot      INTEGER,
    last_delivered INTEGER,
    paused         INTEGER NOT NULL DEFAULT 0,
    pause_reason   TEXT    NOT NULL DEFAULT '',
    created_by     TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    UNIQUE (channel_id, topic_id, schedule)
) STRICT;

INSERT INTO subscriptions_new (
    id, guild_id, channel_id, topic_id, topic_name, schedule, time_zone, language, catch_up,
    next_slot, last_delivered, paused, pause_reason, created_by, created_at
)
SELECT s.id, s.guild_id, s.channel_id, s.topic_id, COALESCE(t.name, ''), s.schedule, s.time_zone, s.language,
    s.catch_up, s.next_slot, s.last_delivered, s.paused, s.pause_reason, s.created_by, s.created_at
FROM subscriptions s LEFT JOIN topics t ON t.id = s.topic_id;

DROP TABLE subscriptions;
ALTER TABLE subscriptions_new RENAME TO subscriptions;

CREATE INDEX subscriptions_due ON subscriptions (paused, next_slot);
CREATE INDEX subscriptions_guild ON subscriptions (guild_id, id);
CREATE INDEX subscriptions_topic ON subscriptions (topic_id);

-- The article IDs a delivery carried, a JSON array; the seen set of a
-- subscription is the union over its deliveries that did not fail.
ALTER TABLE deliveries ADD COLUMN articles TEXT NOT NULL DEFAULT '[]';
DROP INDEX deliveries_subscription;
CREATE INDEX deliveries_subscription_slot ON deliveries (subscription_id, slot);

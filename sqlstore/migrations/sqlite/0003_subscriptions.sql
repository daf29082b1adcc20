-- Subscriptions (a channel's standing order for briefings on a topic) and
-- deliveries (the briefings posted, for idempotent posting).

CREATE TABLE subscriptions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    guild_id       TEXT    NOT NULL CHECK (guild_id <> ''),
    channel_id     TEXT    NOT NULL CHECK (channel_id <> ''),
    topic_id       INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    schedule       TEXT    NOT NULL CHECK (schedule <> ''),
    time_zone      TEXT    NOT NULL DEFAULT '',
    language       TEXT    NOT NULL DEFAULT '',
    catch_up       TEXT    NOT NULL CHECK (catch_up IN ('late', 'skip')),
    -- The next slot; NULL (never scheduled) is due at once.
    next_slot      INTEGER,
    last_delivered INTEGER,
    paused         INTEGER NOT NULL DEFAULT 0,
    pause_reason   TEXT    NOT NULL DEFAULT '',
    created_by     TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    UNIQUE (channel_id, topic_id, schedule)
) STRICT;

-- DueSubscriptions: one range scan, in slot order (NULLs first).
CREATE INDEX subscriptions_due ON subscriptions (paused, next_slot);
-- A guild's subscriptions, by ID.
CREATE INDEX subscriptions_guild ON subscriptions (guild_id, id);
-- The cascade when a topic is removed.
CREATE INDEX subscriptions_topic ON subscriptions (topic_id);

-- One briefing posted to one channel, keyed for idempotency (see
-- digest.Delivery). message_ids is a JSON array of the IDs of the parts
-- posted so far, in order.
CREATE TABLE deliveries (
    key             TEXT    NOT NULL PRIMARY KEY CHECK (key <> ''),
    -- NULL for an on-demand briefing, and once the subscription is removed:
    -- its deliveries stay.
    subscription_id INTEGER REFERENCES subscriptions (id) ON DELETE SET NULL,
    channel_id      TEXT    NOT NULL CHECK (channel_id <> ''),
    slot            INTEGER,
    parts           INTEGER NOT NULL CHECK (parts >= 0),
    message_ids     TEXT    NOT NULL DEFAULT '[]' CHECK (json_type(message_ids) = 'array'),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    error           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The SET NULL when a subscription is removed.
CREATE INDEX deliveries_subscription ON deliveries (subscription_id);

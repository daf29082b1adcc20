-- Sources and their fetch state, and articles.
--
-- Times are UTC Unix milliseconds; NULL means the zero time.Time. Strings
-- that may be absent are '' rather than NULL, so Go scans them directly.

CREATE TABLE sources (
    id               INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    name             TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    url              TEXT    NOT NULL UNIQUE CHECK (url <> ''),
    interval_seconds INTEGER NOT NULL DEFAULT 0,
    allow_private    INTEGER NOT NULL DEFAULT 0,
    origin           TEXT    NOT NULL DEFAULT '',
    guild_id         TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    -- fetch state
    etag             TEXT    NOT NULL DEFAULT '',
    last_modified    TEXT    NOT NULL DEFAULT '',
    next_poll        INTEGER,
    last_poll        INTEGER,
    last_success     INTEGER,
    failures         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    disabled         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE articles (
    id           TEXT    NOT NULL PRIMARY KEY CHECK (id <> ''),
    -- NULL once the source is removed: its articles stay.
    source_id    INTEGER REFERENCES sources (id) ON DELETE SET NULL,
    outlet       TEXT    NOT NULL DEFAULT '',
    guid         TEXT    NOT NULL DEFAULT '',
    url          TEXT    NOT NULL DEFAULT '',
    title        TEXT    NOT NULL DEFAULT '',
    text         TEXT    NOT NULL DEFAULT '',
    text_origin  TEXT    NOT NULL DEFAULT '',
    published    INTEGER,
    fetched      INTEGER NOT NULL,
    updated      INTEGER,
    content_hash TEXT    NOT NULL DEFAULT '',
    -- The uint64 SimHash as the int64 with the same bits; 0 means none.
    fingerprint  INTEGER NOT NULL DEFAULT 0,
    -- The four 16-bit bands of the fingerprint (digest.FingerprintBands),
    -- NULL when there is no fingerprint.
    fp_b0        INTEGER,
    fp_b1        INTEGER,
    fp_b2        INTEGER,
    fp_b3        INTEGER,
    duplicate_of TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Queries on url and content_hash repeat the partial index's condition
-- (url <> '') so the planner may use it.
CREATE UNIQUE INDEX articles_url ON articles (url) WHERE url <> '';
CREATE INDEX articles_source_guid ON articles (source_id, guid);
CREATE INDEX articles_content_hash ON articles (content_hash) WHERE content_hash <> '';
CREATE INDEX articles_fetched ON articles (fetched);

-- Near-duplicate lookup: one index per band, each narrowed by fetch time.
CREATE INDEX articles_fp_b0 ON articles (fp_b0, fetched) WHERE fp_b0 IS NOT NULL;
CREATE INDEX articles_fp_b1 ON articles (fp_b1, fetched) WHERE fp_b1 IS NOT NULL;
CREATE INDEX articles_fp_b2 ON articles (fp_b2, fetched) WHERE fp_b2 IS NOT NULL;
CREATE INDEX articles_fp_b3 ON articles (fp_b3, fetched) WHERE fp_b3 IS NOT NULL;

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
    -- The MinHash signature (digest.Signature): its 64 values as
    -- little-endian uint32, 256 bytes; NULL when there is none.
    signature    BLOB    CHECK (signature IS NULL OR length(signature) = 256),
    duplicate_of TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Queries on url and content_hash repeat the partial index's condition
-- (url <> '') so the planner may use it.
CREATE UNIQUE INDEX articles_url ON articles (url) WHERE url <> '';
CREATE INDEX articles_source_guid ON articles (source_id, guid);
CREATE INDEX articles_content_hash ON articles (content_hash) WHERE content_hash <> '';
CREATE INDEX articles_fetched ON articles (fetched);

-- Near-duplicate lookup: one row per band key of an article's signature
-- (digest.Signature.BandKeys), carrying the article's fetch time, so that
-- "articles sharing one of these keys, fetched since" is a range scan of the
-- primary key per key. Articles without a signature have no rows.
CREATE TABLE article_bands (
    key        INTEGER NOT NULL,
    fetched    INTEGER NOT NULL, -- always the article's fetched
    article_id TEXT    NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (key, fetched, article_id)
) STRICT, WITHOUT ROWID;

-- Replacing an article's bands, and the cascade when it is deleted.
CREATE INDEX article_bands_article ON article_bands (article_id);

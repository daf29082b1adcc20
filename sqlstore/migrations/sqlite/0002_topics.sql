-- Topics and the articles they match, full-text search over articles, and
-- the story summary cache.

CREATE TABLE topics (
    id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    name       TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    query      TEXT    NOT NULL CHECK (query <> ''),
    origin     TEXT    NOT NULL DEFAULT '',
    guild_id   TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;

-- Which articles match which topics. published is the article's publish
-- time, or its fetch time when it has none (COALESCE(published, fetched)),
-- copied here and kept in step by the trigger article_published, so that "a topic's articles in
-- a window, newest first" is one backward range scan of
-- article_topics_window, stopped at the limit.
CREATE TABLE article_topics (
    topic_id   INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    article_id TEXT    NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    published  INTEGER NOT NULL,
    PRIMARY KEY (topic_id, article_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX article_topics_window ON article_topics (topic_id, published, article_id);
-- Replacing an article's topics, and the cascade when it is deleted.
CREATE INDEX article_topics_article ON article_topics (article_id);

-- Full-text search over article titles and texts, case- and
-- accent-insensitive (unicode61 folds the accents of Latin letters).
--
-- The index is contentless: it holds the words, not the text, which stays
-- in articles. Its rowids are the search_id of article_search_ids, an
-- INTEGER PRIMARY KEY that, unlike the implicit rowid of articles (whose
-- key is TEXT), VACUUM never renumbers. article_search_ids also carries the
-- publish time as article_topics does, so that a search filters and sorts
-- its matches there and reads only the articles it returns. Triggers on
-- articles keep both in step with every insert, update and delete.
CREATE TABLE article_search_ids (
    search_id  INTEGER PRIMARY KEY,
    article_id TEXT    NOT NULL UNIQUE REFERENCES articles (id) ON DELETE CASCADE,
    published  INTEGER NOT NULL
) STRICT;

CREATE VIRTUAL TABLE article_search USING fts5 (
    title,
    text,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER article_search_insert AFTER INSERT ON articles
BEGIN
    INSERT INTO article_search_ids (article_id, published)
        VALUES (new.id, COALESCE(new.published, new.fetched));
    INSERT INTO article_search (rowid, title, text)
        SELECT search_id, new.title, new.text FROM article_search_ids WHERE article_id = new.id;
END;

CREATE TRIGGER article_search_update AFTER UPDATE OF title, text ON articles
WHEN old.title IS NOT new.title OR old.text IS NOT new.text
BEGIN
    DELETE FROM article_search
        WHERE rowid = (SELECT search_id FROM article_search_ids WHERE article_id = old.id);
    INSERT INTO article_search (rowid, title, text)
        SELECT search_id, new.title, new.text FROM article_search_ids WHERE article_id = new.id;
END;

CREATE TRIGGER article_published AFTER UPDATE OF published, fetched ON articles
WHEN COALESCE(old.published, old.fetched) IS NOT COALESCE(new.published, new.fetched)
BEGIN
    UPDATE article_search_ids SET published = COALESCE(new.published, new.fetched)
        WHERE article_id = new.id;
    UPDATE article_topics SET published = COALESCE(new.published, new.fetched)
        WHERE article_id = new.id;
END;

-- BEFORE, so the search_id is still there to find the index row by.
CREATE TRIGGER article_search_delete BEFORE DELETE ON articles
BEGIN
    DELETE FROM article_search
        WHERE rowid = (SELECT search_id FROM article_search_ids WHERE article_id = old.id);
    DELETE FROM article_search_ids WHERE article_id = old.id;
END;

-- Index the articles stored before this migration.
INSERT INTO article_search_ids (article_id, published)
    SELECT id, COALESCE(published, fetched) FROM articles ORDER BY fetched, id;
INSERT INTO article_search (rowid, title, text)
    SELECT s.search_id, a.title, a.text
    FROM article_search_ids s JOIN articles a ON a.id = s.article_id;

-- Story summaries, keyed by the summarizer (story hash, prompt hash, model,
-- language); summary is the JSON of a digest.Summary.
CREATE TABLE summaries (
    key        TEXT    NOT NULL PRIMARY KEY CHECK (key <> ''),
    summary    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

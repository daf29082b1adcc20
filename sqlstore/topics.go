package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
)

var _ digest.TopicStore = (*Store)(nil)

// Publish times.
//
// TopicArticles and SearchArticles select articles by publish time. An
// article stored without one (a zero Published, stored as NULL) counts as
// published when it was fetched; the poller never stores such articles, as
// it sets Published to the fetch time when a feed gives none, but other
// callers may. The articles come back as stored, with a zero Published.

// topicColumns lists the columns scanTopic reads, in order.
const topicColumns = `id, name, query, origin, guild_id, created_at`

// scanTopic reads one row of topicColumns.
func scanTopic(row interface{ Scan(...any) error }) (digest.Topic, error) {
	var (
		t       digest.Topic
		origin  string
		created int64
	)
	if err := row.Scan(&t.ID, &t.Name, &t.Query, &origin, &t.GuildID, &created); err != nil {
		return digest.Topic{}, err
	}
	t.Origin = digest.Origin(origin)
	t.CreatedAt = time.UnixMilli(created).UTC()
	return t, nil
}

// Topics returns every topic, ordered by name.
func (s *Store) Topics(ctx context.Context) ([]digest.Topic, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+topicColumns+` FROM topics ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list topics: %w", err)
	}
	defer rows.Close()
	var out []digest.Topic
	for rows.Next() {
		t, err := scanTopic(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list topics: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list topics: %w", err)
	}
	return out, nil
}

// Topic returns the topic with the given name, or an error wrapping
// digest.ErrNotFound.
func (s *Store) Topic(ctx context.Context, name string) (digest.Topic, error) {
	t, err := scanTopic(s.db.QueryRowContext(ctx, `SELECT `+topicColumns+` FROM topics WHERE name = $1`, name))
	switch {
	case errNoRows(err):
		return digest.Topic{}, fmt.Errorf("sqlstore: topic %q: %w", name, digest.ErrNotFound)
	case err != nil:
		return digest.Topic{}, fmt.Errorf("sqlstore: topic %q: %w", name, err)
	}
	return t, nil
}

// AddTopic stores a new topic and returns it as stored: with its ID set
// (any ID given is ignored), CreatedAt set to Now if it was zero, at
// millisecond precision in UTC. A topic with the same name yields an error
// wrapping digest.ErrExists. The query is stored as given; callers check it
// with digest.ParseQuery.
func (s *Store) AddTopic(ctx context.Context, t digest.Topic) (digest.Topic, error) {
	if t.Name == "" {
		return digest.Topic{}, fmt.Errorf("sqlstore: add topic with query %q: empty name", t.Query)
	}
	if t.Query == "" {
		return digest.Topic{}, fmt.Errorf("sqlstore: add topic %q: empty query", t.Name)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.Now()
	}
	t.CreatedAt = normalTime(t.CreatedAt)
	err := s.db.QueryRowContext(ctx, `INSERT INTO topics (name, query, origin, guild_id, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		t.Name, t.Query, string(t.Origin), t.GuildID, t.CreatedAt.UnixMilli(),
	).Scan(&t.ID)
	if err != nil {
		if s.dialect.classify(err) == uniqueViolation {
			return digest.Topic{}, fmt.Errorf("sqlstore: topic %q: %w", t.Name, digest.ErrExists)
		}
		return digest.Topic{}, fmt.Errorf("sqlstore: add topic %q: %w", t.Name, err)
	}
	return t, nil
}

// UpdateTopic changes the query, origin and guild of the topic with t.ID;
// its name and creation time stay. An unknown ID yields an error wrapping
// digest.ErrNotFound. Stored matches are kept: callers rematch
// (digest.Rematch).
func (s *Store) UpdateTopic(ctx context.Context, t digest.Topic) error {
	if t.Query == "" {
		return fmt.Errorf("sqlstore: update topic id %d: empty query", t.ID)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE topics SET query = $1, origin = $2, guild_id = $3 WHERE id = $4`,
		t.Query, string(t.Origin), t.GuildID, t.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: update topic id %d: %w", t.ID, err)
	}
	return affectedOne(res, fmt.Sprintf("topic id %d", t.ID))
}

// RemoveTopic deletes the topic with the given name and its article
// matches. An unknown name yields an error wrapping digest.ErrNotFound.
func (s *Store) RemoveTopic(ctx context.Context, name string) error {
	reason := fmt.Sprintf("topic %s was removed; unsubscribe, or subscribe to another topic", name)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The lock keeps a subscription from being added to the topic,
		// unpaused, between the pause and the delete.
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM topics WHERE name = $1`+s.dialect.forUpdate, name).Scan(&id)
		switch {
		case errNoRows(err):
			return fmt.Errorf("topic %q: %w", name, digest.ErrNotFound)
		case err != nil:
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET paused = 1, pause_reason = $1
			WHERE topic_id = $2`, reason, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM topics WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: remove topic %q: %w", name, err)
	}
	return nil
}

// SetArticleTopics records that the article matches exactly the topics
// with the given IDs (none: no topic), replacing its earlier matches, in
// one transaction. An unknown article or topic ID yields an error wrapping
// digest.ErrNotFound, and changes nothing.
func (s *Store) SetArticleTopics(ctx context.Context, articleID string, topicIDs []int64) error {
	topicIDs = slices.Clone(topicIDs)
	slices.Sort(topicIDs)
	topicIDs = slices.Compact(topicIDs)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The lock keeps the publish time copied below from going stale.
		var published int64
		err := tx.QueryRowContext(ctx,
			`SELECT COALESCE(published, fetched) FROM articles WHERE id = $1`+s.dialect.forUpdate, articleID,
		).Scan(&published)
		if errNoRows(err) {
			return fmt.Errorf("article %q: %w", articleID, digest.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_topics WHERE article_id = $1`, articleID); err != nil {
			return err
		}
		if len(topicIDs) == 0 {
			return nil
		}
		// One prepared single-row INSERT per topic, as in insertBands.
		stmt, err := tx.PrepareContext(ctx,
			`INSERT INTO article_topics (topic_id, article_id, published) VALUES ($1, $2, $3)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range topicIDs {
			if _, err := stmt.ExecContext(ctx, id, articleID, published); err != nil {
				if s.dialect.classify(err) == foreignKeyViolation {
					return fmt.Errorf("topic id %d: %w", id, digest.ErrNotFound)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: set topics of article %q: %w", articleID, err)
	}
	return nil
}

// windowMillis returns the stored bounds of the window [from, to): a zero
// from has no lower bound, a zero to no upper bound.
func windowMillis(from, to time.Time) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if !from.IsZero() {
		lo = from.UnixMilli()
	}
	if !to.IsZero() {
		hi = to.UnixMilli()
	}
	return lo, hi
}

// topicArticlesQuery selects a topic's articles ($1) published in [$2, $3),
// newest first: a backward range scan of article_topics_window, each
// article then looked up by ID.
var topicArticlesQuery = `SELECT ` + articleColumnsA + `
	FROM article_topics t JOIN articles a ON a.id = t.article_id
	WHERE t.topic_id = $1 AND t.published >= $2 AND t.published < $3
	ORDER BY t.published DESC, t.article_id DESC`

// articleColumnsA is articleColumns qualified by the alias a.
var articleColumnsA = func() string {
	cols := strings.Split(articleColumns, ",")
	for i, c := range cols {
		cols[i] = "a." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// TopicArticles returns the articles matched to the topic with the given
// ID and published in [from, to), newest first (ties by ID, descending), at
// most limit (all of them when limit <= 0). A zero from or to leaves that
// side of the window open. An article without a publish time counts as
// published when it was fetched. An unknown topic has no articles.
func (s *Store) TopicArticles(ctx context.Context, topicID int64, from, to time.Time, limit int) ([]digest.Article, error) {
	lo, hi := windowMillis(from, to)
	query, args := topicArticlesQuery, []any{topicID, lo, hi}
	if limit > 0 {
		query += ` LIMIT $4`
		args = append(args, limit)
	}
	out, err := s.queryArticles(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: articles of topic id %d: %w", topicID, err)
	}
	return out, nil
}

// sqliteSearchQuery returns SQLite's query selecting the articles whose
// search rows match the FTS5 expression $1, published in [$2, $3), newest
// first, at most $4 when limited. The matches are filtered, sorted and cut
// in article_search_ids; only the articles returned are read.
func sqliteSearchQuery(limited bool) string {
	limit := ""
	if limited {
		limit = ` LIMIT $4`
	}
	return `SELECT ` + articleColumnsA + `
	FROM (
		SELECT i.article_id, i.published
		FROM article_search f JOIN article_search_ids i ON i.search_id = f.rowid
		WHERE article_search MATCH $1 AND i.published >= $2 AND i.published < $3
		ORDER BY i.published DESC, i.article_id DESC` + limit + `
	) m JOIN articles a ON a.id = m.article_id
	ORDER BY m.published DESC, m.article_id DESC`
}

// postgresSearchQuery returns PostgreSQL's query selecting the articles
// whose search vector matches any of the terms $1 (a text[]), published in
// [$2, $3), newest first, at most $4 when limited. article_search_query
// (migrations/postgres) makes each term a phrase, folded as the vector is;
// the GIN index articles_search finds the matches.
func postgresSearchQuery(limited bool) string {
	limit := ""
	if limited {
		limit = ` LIMIT $4`
	}
	return `SELECT ` + articleColumnsA + `
	FROM articles a
	WHERE a.search @@ article_search_query($1)
		AND COALESCE(a.published, a.fetched) >= $2 AND COALESCE(a.published, a.fetched) < $3
	ORDER BY COALESCE(a.published, a.fetched) DESC, a.id DESC` + limit
}

// SearchArticles returns the articles published in [from, to) whose title
// or text contains at least one of the terms, newest first (ties by ID,
// descending), at most limit (all of them when limit <= 0). A term is a
// word or a phrase of words in order; matching ignores case, the accents
// of Latin letters and punctuation, as digest.Query does. No terms, or
// terms without letters or digits, find nothing. A zero from or to leaves
// that side of the window open; an article without a publish time counts
// as published when it was fetched.
func (s *Store) SearchArticles(ctx context.Context, terms []string, from, to time.Time, limit int) ([]digest.Article, error) {
	words := searchTerms(terms)
	if len(words) == 0 {
		return nil, nil
	}
	lo, hi := windowMillis(from, to)
	query, match := s.dialect.searchQuery(words, limit > 0)
	args := []any{match, lo, hi}
	if limit > 0 {
		args = append(args, limit)
	}
	out, err := s.queryArticles(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: search articles for %q: %w", terms, err)
	}
	return out, nil
}

// searchTerms returns the terms worth searching for: each with any NUL
// made a space (SQLite would end a string there, PostgreSQL refuses it),
// trimmed, and those left empty dropped.
func searchTerms(terms []string) []string {
	var out []string
	for _, t := range terms {
		t = strings.TrimSpace(strings.ReplaceAll(t, "\x00", " "))
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// matchExpression returns the FTS5 expression matching any of the terms,
// or "" when there are none. Each term becomes an FTS5 string, "like
// this", with any double quote doubled: the tokenizer splits it into a
// phrase, and nothing in it is FTS5 syntax (no OR, NEAR, *, ^, column
// filters). Terms with nothing but spaces and NULs are left out.
func matchExpression(terms []string) string {
	var b strings.Builder
	for _, t := range searchTerms(terms) {
		if b.Len() > 0 {
			b.WriteString(" OR ")
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(t, `"`, `""`))
		b.WriteByte('"')
	}
	return b.String()
}

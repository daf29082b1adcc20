package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// articleColumns lists the columns scanArticle reads, in order.
const articleColumns = `id, source_id, outlet, guid, url, title, text, text_origin,
	published, fetched, updated, content_hash, signature, duplicate_of`

// scanArticle reads one row of articleColumns.
func scanArticle(row interface{ Scan(...any) error }) (digest.Article, error) {
	var (
		a                  digest.Article
		sourceID           sql.NullInt64
		origin             string
		published, updated sql.NullInt64
		fetched            int64
		signature          []byte
	)
	err := row.Scan(&a.ID, &sourceID, &a.Outlet, &a.GUID, &a.URL, &a.Title, &a.Text, &origin,
		&published, &fetched, &updated, &a.ContentHash, &signature, &a.DuplicateOf)
	if err != nil {
		return digest.Article{}, err
	}
	if a.Signature, err = decodeSignature(signature); err != nil {
		return digest.Article{}, fmt.Errorf("article %q: %w", a.ID, err)
	}
	a.SourceID = sourceID.Int64
	a.TextOrigin = digest.TextOrigin(origin)
	a.Published = fromMillis(published)
	a.Fetched = time.UnixMilli(fetched).UTC()
	a.Updated = fromMillis(updated)
	return a, nil
}

// queryArticles runs a query selecting articleColumns and collects the rows.
func (s *Store) queryArticles(ctx context.Context, query string, args ...any) ([]digest.Article, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []digest.Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// signatureSize is the number of values in a signature.
const signatureSize = digest.SignatureBands * digest.SignatureRows

// encodeSignature returns the stored form of sig: its values as
// little-endian uint32s, or NULL (a nil slice) when there is none.
func encodeSignature(sig digest.Signature) ([]byte, error) {
	switch len(sig) {
	case 0:
		return nil, nil
	case signatureSize:
	default:
		return nil, fmt.Errorf("signature has %d values, want %d", len(sig), signatureSize)
	}
	b := make([]byte, 0, 4*signatureSize)
	for _, v := range sig {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b, nil
}

// decodeSignature reverses encodeSignature; NULL is a nil signature.
func decodeSignature(b []byte) (digest.Signature, error) {
	if b == nil {
		return nil, nil
	}
	if len(b) != 4*signatureSize {
		return nil, fmt.Errorf("stored signature has %d bytes, want %d", len(b), 4*signatureSize)
	}
	sig := make(digest.Signature, signatureSize)
	for i := range sig {
		sig[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return sig, nil
}

// inTx runs fn in a transaction, committed if fn returns nil and rolled back
// otherwise. The transaction is over when inTx returns, so callers may use
// s.db again (an in-memory database has one connection).
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// insertBands stores the band keys of article id, fetched at fetched (Unix
// milliseconds). No keys (no signature) store nothing.
//
// Each key is a single-row INSERT of one prepared statement: a multi-row
// INSERT inside the transaction would need a statement journal, which
// spills its copies of the 16 touched pages to a temporary file.
func insertBands(ctx context.Context, tx *sql.Tx, id string, fetched int64, keys []int64) error {
	if len(keys) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO article_bands (key, fetched, article_id) VALUES ($1, $2, $3)`)
	if err != nil {
		return fmt.Errorf("store band keys: %w", err)
	}
	defer stmt.Close()
	for _, k := range keys {
		if _, err := stmt.ExecContext(ctx, k, fetched, id); err != nil {
			return fmt.Errorf("store band key %#x: %w", k, err)
		}
	}
	return nil
}

// sinceMillis is the stored form of a "fetched at or after" bound; the zero
// time does not filter.
func sinceMillis(since time.Time) int64 {
	if since.IsZero() {
		return math.MinInt64
	}
	return since.UnixMilli()
}

// FindArticle returns a stored article matching any of the keys, trying the
// URL, then the GUID within k.SourceID (only when SourceID is set, as GUIDs
// are unique per source only), then the content hash. When several articles
// match a key, the first fetched wins. No match yields an error wrapping
// digest.ErrNotFound.
func (s *Store) FindArticle(ctx context.Context, k digest.ArticleKeys) (digest.Article, error) {
	type lookup struct {
		where string
		args  []any
	}
	var lookups []lookup
	var keys []string
	if k.URL != "" {
		lookups = append(lookups, lookup{`url = $1 AND url <> ''`, []any{k.URL}})
		keys = append(keys, fmt.Sprintf("url %q", k.URL))
	}
	if k.GUID != "" && k.SourceID != 0 {
		lookups = append(lookups, lookup{`source_id = $1 AND guid = $2`, []any{k.SourceID, k.GUID}})
		keys = append(keys, fmt.Sprintf("guid %q in source id %d", k.GUID, k.SourceID))
	}
	if k.ContentHash != "" {
		lookups = append(lookups, lookup{`content_hash = $1 AND content_hash <> ''`, []any{k.ContentHash}})
		keys = append(keys, fmt.Sprintf("content hash %q", k.ContentHash))
	}
	what := "article with " + strings.Join(keys, ", ")
	if len(keys) == 0 {
		what = "article with no keys"
	}
	for _, l := range lookups {
		row := s.db.QueryRowContext(ctx,
			`SELECT `+articleColumns+` FROM articles WHERE `+l.where+` ORDER BY fetched, id LIMIT 1`, l.args...)
		a, err := scanArticle(row)
		switch {
		case errNoRows(err):
			continue
		case err != nil:
			return digest.Article{}, fmt.Errorf("sqlstore: find %s: %w", what, err)
		}
		return a, nil
	}
	return digest.Article{}, fmt.Errorf("sqlstore: %s: %w", what, digest.ErrNotFound)
}

// nearDuplicateQuery selects the articles with a band key among $1 to $16,
// fetched at or after $17, those sharing the most band keys first (the
// likeliest near-duplicates), then first fetched first. The subquery is
// one range scan of article_bands' primary key per band key; the matches
// are then looked up by ID.
var nearDuplicateQuery = func() string {
	var b strings.Builder
	b.WriteString(`SELECT ` + prefixed("a.", articleColumns) + ` FROM articles a
	JOIN (SELECT article_id, COUNT(*) AS shared FROM article_bands WHERE key IN (`)
	for i := range digest.SignatureBands {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i+1)
	}
	fmt.Fprintf(&b, `) AND fetched >= $%d GROUP BY article_id) m ON m.article_id = a.id
	ORDER BY m.shared DESC, a.fetched, a.id`, digest.SignatureBands+1)
	return b.String()
}()

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// NearDuplicateCandidates returns up to limit articles (all of them when
// limit <= 0) fetched at or after since whose signature shares at least one
// band key with sig, first fetched first. A nil sig has no candidates.
// Callers confirm candidates with digest.IsNearDuplicate.
func (s *Store) NearDuplicateCandidates(ctx context.Context, sig digest.Signature, since time.Time, limit int) ([]digest.Article, error) {
	keys := sig.BandKeys()
	if len(keys) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(keys)+2)
	for _, k := range keys {
		args = append(args, k)
	}
	args = append(args, sinceMillis(since))
	query := nearDuplicateQuery
	if limit > 0 {
		args = append(args, limit)
		query += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	out, err := s.queryArticles(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: near-duplicate candidates since %v: %w", since, err)
	}
	return out, nil
}

// InsertArticle stores a new article, with Fetched set to Now if it is zero,
// and its signature's band keys, in one transaction. An existing ID or URL
// yields an error wrapping digest.ErrExists; a SourceID naming no source,
// one wrapping digest.ErrNotFound.
func (s *Store) InsertArticle(ctx context.Context, a digest.Article) error {
	return s.InsertMatchedArticle(ctx, a, nil)
}

// InsertMatchedArticle stores a new article as InsertArticle does, and that
// it matches the topics with the given IDs (none: nil), in one
// transaction: the article is never stored without its matches, so a
// caller that fails in between may simply try again. IDs of topics that no
// longer exist are ignored: the caller matched the article against topics
// loaded earlier, and a removed topic's matches go with it.
func (s *Store) InsertMatchedArticle(ctx context.Context, a digest.Article, topicIDs []int64) error {
	if a.ID == "" {
		return fmt.Errorf("sqlstore: insert article with url %q: empty id", a.URL)
	}
	if a.Fetched.IsZero() {
		a.Fetched = s.Now()
	}
	matching := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertArticle(ctx, tx, a); err != nil {
			return err
		}
		matching = true
		return s.insertMatches(ctx, tx, a.ID, matchPublished(a), topicIDs)
	})
	switch {
	case err == nil:
		return nil
	case matching:
		// Not the article's constraints: articleWriteError would misread a
		// violation.
		return fmt.Errorf("sqlstore: insert article %q: %w", a.ID, err)
	}
	return s.articleWriteError(ctx, "insert", a, err)
}

// matchPublished returns the publish time article_topics keeps for a,
// whose Fetched is set: COALESCE(published, fetched).
func matchPublished(a digest.Article) int64 {
	if !a.Published.IsZero() {
		return a.Published.UnixMilli()
	}
	return a.Fetched.UnixMilli()
}

// insertMatches records in tx that the article with the given ID and
// matchPublished time, which has no matches yet, matches the topics with
// the given IDs, each once. IDs of topics that no longer exist are
// skipped (see InsertMatchedArticle). Each match is a single-row INSERT,
// as in insertBands; an article matches few topics.
func (s *Store) insertMatches(ctx context.Context, tx *sql.Tx, articleID string, published int64, topicIDs []int64) error {
	if len(topicIDs) == 0 {
		return nil
	}
	topicIDs = slices.Clone(topicIDs)
	slices.Sort(topicIDs)
	for _, id := range slices.Compact(topicIDs) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO article_topics (topic_id, article_id, published)
			SELECT id, $2, $3 FROM topics WHERE id = $1`+s.dialect.forKeyShare,
			id, articleID, published); err != nil {
			return fmt.Errorf("store match of topic id %d: %w", id, err)
		}
	}
	return nil
}

// InsertArticles stores new articles, their band keys and the topics
// each matches, in one transaction, as InsertArticle and then
// SetArticleTopics would one article at a time: for bulk loads (a copy, a
// benchmark's store), where a transaction per article spends about half
// its time committing. articles yields each article with the IDs of the
// topics it matches (none: nil); they are stored as they come, so the
// caller may make them meanwhile. A zero Fetched is set to Now. Any error
// stores nothing: an existing ID or URL, or one yielded twice, yields an
// error wrapping digest.ErrExists, an unknown source or topic ID one
// wrapping digest.ErrNotFound. A caller that cannot finish cancels ctx.
func (s *Store) InsertArticles(ctx context.Context, articles iter.Seq2[digest.Article, []int64]) error {
	now := s.Now()
	var failed digest.Article // the article being stored when an error came
	err := s.bulkTx(ctx, func(tx *sql.Tx) error {
		match, err := tx.PrepareContext(ctx,
			`INSERT INTO article_topics (topic_id, article_id, published) VALUES ($1, $2, $3)`)
		if err != nil {
			return err
		}
		defer match.Close()
		for a, topics := range articles {
			failed = a
			if a.ID == "" {
				return errEmptyID
			}
			if a.Fetched.IsZero() {
				a.Fetched = now
			}
			if err := insertArticle(ctx, tx, a); err != nil {
				return err
			}
			published := matchPublished(a)
			topics = slices.Clone(topics)
			slices.Sort(topics)
			for _, id := range slices.Compact(topics) {
				if _, err := match.ExecContext(ctx, id, a.ID, published); err != nil {
					if s.dialect.classify(err) == foreignKeyViolation {
						return fmt.Errorf("topic id %d: %w", id, digest.ErrNotFound)
					}
					return err
				}
			}
		}
		return ctx.Err()
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errEmptyID):
		return fmt.Errorf("sqlstore: insert article with url %q: empty id", failed.URL)
	case errors.Is(err, digest.ErrNotFound), ctx.Err() != nil:
		return fmt.Errorf("sqlstore: insert article %q: %w", failed.ID, err)
	}
	return s.articleWriteError(ctx, "insert", failed, err)
}

// errEmptyID stops InsertArticles at an article without an ID.
var errEmptyID = errors.New("empty id")

// bulkCacheKiB bounds SQLite's page cache during a bulk load, in KiB. The
// default 2 MiB is soon filled with the pages a load changes: SQLite then
// writes them to the log before the commit and reads them back (loading
// 90,000 articles took 1m50s so, 1m with this cache). Pages are allocated
// as needed, so a small load takes little.
const bulkCacheKiB = 256 << 10

// bulkTx runs fn in a transaction as inTx does, on SQLite with a page
// cache of up to bulkCacheKiB for the transaction's connection. The
// connection is released when bulkTx returns.
func (s *Store) bulkTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.dialect.name != "sqlite" {
		return s.inTx(ctx, fn)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var cache, temp int64
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
		return err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&temp); err != nil {
		return err
	}
	// The statement journals of the load's INSERTs (their triggers write
	// several tables) stay in memory too.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d; PRAGMA temp_store = MEMORY`, bulkCacheKiB)); err != nil {
		return err
	}
	// The connection goes back to the pool as it was, even when ctx is
	// done.
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d; PRAGMA temp_store = %d`, cache, temp))
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// insertArticle stores a, whose Fetched is set, and its band keys in tx.
func insertArticle(ctx context.Context, tx *sql.Tx, a digest.Article) error {
	sig, err := encodeSignature(a.Signature)
	if err != nil {
		return err
	}
	fetched := a.Fetched.UnixMilli()
	_, err = tx.ExecContext(ctx, `INSERT INTO articles (
			id, source_id, outlet, guid, url, title, text, text_origin,
			published, fetched, updated, content_hash, signature, duplicate_of
		) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		a.ID, nullID(a.SourceID), a.Outlet, a.GUID, a.URL, a.Title, a.Text, string(a.TextOrigin),
		millis(a.Published), fetched, millis(a.Updated), a.ContentHash, sig, a.DuplicateOf,
	)
	if err != nil {
		return err
	}
	return insertBands(ctx, tx, a.ID, fetched, a.Signature.BandKeys())
}

// UpdateArticle replaces the stored article with the same ID, and its band
// keys, in one transaction. A zero Fetched keeps the stored fetch time. An
// unknown ID yields an error wrapping digest.ErrNotFound, a URL another
// article has one wrapping digest.ErrExists.
func (s *Store) UpdateArticle(ctx context.Context, a digest.Article) error {
	return s.updateArticle(ctx, a, false, nil)
}

// UpdateMatchedArticle replaces the stored article as UpdateArticle does,
// and its topic matches with the topics with the given IDs (none: nil), as
// SetArticleTopics would, in one transaction: the changed article is never
// stored with the matches of its old version. IDs of topics that no longer
// exist are ignored, as by InsertMatchedArticle.
func (s *Store) UpdateMatchedArticle(ctx context.Context, a digest.Article, topicIDs []int64) error {
	return s.updateArticle(ctx, a, true, topicIDs)
}

// updateArticle is UpdateArticle, and with match UpdateMatchedArticle.
func (s *Store) updateArticle(ctx context.Context, a digest.Article, match bool, topicIDs []int64) error {
	sig, err := encodeSignature(a.Signature)
	if err != nil {
		return fmt.Errorf("sqlstore: update article %q: %w", a.ID, err)
	}
	found, matching := false, false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// The band rows take the fetch time the row ends up with, the
		// matches its publish time.
		var fetched, published int64
		err := tx.QueryRowContext(ctx, `UPDATE articles SET
				source_id = $1, outlet = $2, guid = $3, url = $4, title = $5, text = $6, text_origin = $7,
				published = $8, fetched = COALESCE($9, fetched), updated = $10, content_hash = $11,
				signature = $12, duplicate_of = $13
			WHERE id = $14
			RETURNING fetched, COALESCE(published, fetched)`,
			nullID(a.SourceID), a.Outlet, a.GUID, a.URL, a.Title, a.Text, string(a.TextOrigin),
			millis(a.Published), millis(a.Fetched), millis(a.Updated), a.ContentHash,
			sig, a.DuplicateOf,
			a.ID,
		).Scan(&fetched, &published)
		switch {
		case errNoRows(err):
			return nil
		case err != nil:
			return err
		}
		found = true
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_bands WHERE article_id = $1`, a.ID); err != nil {
			return fmt.Errorf("delete band keys: %w", err)
		}
		if err := insertBands(ctx, tx, a.ID, fetched, a.Signature.BandKeys()); err != nil {
			return err
		}
		if !match {
			return nil
		}
		matching = true
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_topics WHERE article_id = $1`, a.ID); err != nil {
			return fmt.Errorf("delete topic matches: %w", err)
		}
		return s.insertMatches(ctx, tx, a.ID, published, topicIDs)
	})
	switch {
	case err != nil && matching:
		return fmt.Errorf("sqlstore: update article %q: %w", a.ID, err)
	case err != nil:
		return s.articleWriteError(ctx, "update", a, err)
	case !found:
		return fmt.Errorf("sqlstore: article %q: %w", a.ID, digest.ErrNotFound)
	}
	return nil
}

// articleWriteError explains a failed insert or update of a.
func (s *Store) articleWriteError(ctx context.Context, op string, a digest.Article, err error) error {
	switch s.dialect.classify(err) {
	case uniqueViolation:
		var owner string
		err := s.db.QueryRowContext(ctx,
			`SELECT id FROM articles WHERE url = $1 AND url <> '' AND id <> $2`, a.URL, a.ID,
		).Scan(&owner)
		if err == nil {
			return fmt.Errorf("sqlstore: %s article %q: url %q (article %q): %w", op, a.ID, a.URL, owner, digest.ErrExists)
		}
		return fmt.Errorf("sqlstore: %s article %q: %w", op, a.ID, digest.ErrExists)
	case foreignKeyViolation:
		return fmt.Errorf("sqlstore: %s article %q: source id %d: %w", op, a.ID, a.SourceID, digest.ErrNotFound)
	}
	return fmt.Errorf("sqlstore: %s article %q: %w", op, a.ID, err)
}

// Articles lists the articles f selects, newest fetched first.
func (s *Store) Articles(ctx context.Context, f digest.ArticleFilter) ([]digest.Article, error) {
	var where []string
	var args []any
	if f.SourceID != 0 {
		args = append(args, f.SourceID)
		where = append(where, fmt.Sprintf("source_id = $%d", len(args)))
	}
	if !f.Since.IsZero() {
		args = append(args, f.Since.UnixMilli())
		where = append(where, fmt.Sprintf("fetched >= $%d", len(args)))
	}
	query := `SELECT ` + articleColumns + ` FROM articles`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY fetched DESC, id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	out, err := s.queryArticles(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list articles: %w", err)
	}
	return out, nil
}

// CountArticles returns how many articles are stored.
func (s *Store) CountArticles(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM articles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count articles: %w", err)
	}
	return n, nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// articleColumns lists the columns scanArticle reads, in order.
const articleColumns = `id, source_id, outlet, guid, url, title, text, text_origin,
	published, fetched, updated, content_hash, fingerprint, duplicate_of`

// scanArticle reads one row of articleColumns.
func scanArticle(row interface{ Scan(...any) error }) (digest.Article, error) {
	var (
		a                  digest.Article
		sourceID           sql.NullInt64
		origin             string
		published, updated sql.NullInt64
		fetched            int64
		fingerprint        int64
	)
	err := row.Scan(&a.ID, &sourceID, &a.Outlet, &a.GUID, &a.URL, &a.Title, &a.Text, &origin,
		&published, &fetched, &updated, &a.ContentHash, &fingerprint, &a.DuplicateOf)
	if err != nil {
		return digest.Article{}, err
	}
	a.SourceID = sourceID.Int64
	a.TextOrigin = digest.TextOrigin(origin)
	a.Published = fromMillis(published)
	a.Fetched = time.UnixMilli(fetched).UTC()
	a.Updated = fromMillis(updated)
	a.Fingerprint = uint64(fingerprint)
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

// bands returns the stored band columns of a fingerprint: its four 16-bit
// bands, or four NULLs when there is no fingerprint.
func bands(fp uint64) [4]sql.NullInt64 {
	var out [4]sql.NullInt64
	if fp == 0 {
		return out
	}
	for i, b := range digest.FingerprintBands(fp) {
		out[i] = sql.NullInt64{Int64: int64(b), Valid: true}
	}
	return out
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

// nearDuplicateQuery selects articles sharing a fingerprint band with $1-$4,
// fetched at or after $5. Each band test is served by its own index, which
// also narrows by fetch time.
const nearDuplicateQuery = `SELECT ` + articleColumns + ` FROM articles
	WHERE (fp_b0 = $1 OR fp_b1 = $2 OR fp_b2 = $3 OR fp_b3 = $4) AND fetched >= $5
	ORDER BY fetched, id`

// NearDuplicateCandidates returns up to limit articles (all of them when
// limit <= 0) fetched at or after since whose fingerprint shares at least
// one 16-bit band with fp, first fetched first. A zero fp has no
// candidates. Callers confirm candidates with digest.Distance.
func (s *Store) NearDuplicateCandidates(ctx context.Context, fp uint64, since time.Time, limit int) ([]digest.Article, error) {
	if fp == 0 {
		return nil, nil
	}
	b := digest.FingerprintBands(fp)
	query := nearDuplicateQuery
	args := []any{int64(b[0]), int64(b[1]), int64(b[2]), int64(b[3]), sinceMillis(since)}
	if limit > 0 {
		query += ` LIMIT $6`
		args = append(args, limit)
	}
	out, err := s.queryArticles(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: near-duplicate candidates of fingerprint %#016x: %w", fp, err)
	}
	return out, nil
}

// InsertArticle stores a new article, with Fetched set to Now if it is zero.
// An existing ID or URL yields an error wrapping digest.ErrExists; a
// SourceID naming no source, one wrapping digest.ErrNotFound.
func (s *Store) InsertArticle(ctx context.Context, a digest.Article) error {
	if a.ID == "" {
		return fmt.Errorf("sqlstore: insert article with url %q: empty id", a.URL)
	}
	if a.Fetched.IsZero() {
		a.Fetched = s.Now()
	}
	fb := bands(a.Fingerprint)
	_, err := s.db.ExecContext(ctx, `INSERT INTO articles (
			id, source_id, outlet, guid, url, title, text, text_origin,
			published, fetched, updated, content_hash, fingerprint,
			fp_b0, fp_b1, fp_b2, fp_b3, duplicate_of
		) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		a.ID, nullID(a.SourceID), a.Outlet, a.GUID, a.URL, a.Title, a.Text, string(a.TextOrigin),
		millis(a.Published), a.Fetched.UnixMilli(), millis(a.Updated), a.ContentHash, int64(a.Fingerprint),
		fb[0], fb[1], fb[2], fb[3], a.DuplicateOf,
	)
	if err != nil {
		return s.articleWriteError(ctx, "insert", a, err)
	}
	return nil
}

// UpdateArticle replaces the stored article with the same ID. A zero
// Fetched keeps the stored fetch time. An unknown ID yields an error
// wrapping digest.ErrNotFound, a URL another article has one wrapping
// digest.ErrExists.
func (s *Store) UpdateArticle(ctx context.Context, a digest.Article) error {
	fb := bands(a.Fingerprint)
	res, err := s.db.ExecContext(ctx, `UPDATE articles SET
			source_id = $1, outlet = $2, guid = $3, url = $4, title = $5, text = $6, text_origin = $7,
			published = $8, fetched = COALESCE($9, fetched), updated = $10, content_hash = $11,
			fingerprint = $12, fp_b0 = $13, fp_b1 = $14, fp_b2 = $15, fp_b3 = $16, duplicate_of = $17
		WHERE id = $18`,
		nullID(a.SourceID), a.Outlet, a.GUID, a.URL, a.Title, a.Text, string(a.TextOrigin),
		millis(a.Published), millis(a.Fetched), millis(a.Updated), a.ContentHash,
		int64(a.Fingerprint), fb[0], fb[1], fb[2], fb[3], a.DuplicateOf,
		a.ID,
	)
	if err != nil {
		return s.articleWriteError(ctx, "update", a, err)
	}
	return affectedOne(res, fmt.Sprintf("article %q", a.ID))
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

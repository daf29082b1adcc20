package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/briefbot/briefbot/digest"
)

var _ digest.SummaryCache = (*Store)(nil)

// CachedSummary returns the summary stored under key, unless it was stored
// more than maxAge before Now (maxAge <= 0: however old). A missing or
// older summary yields an error wrapping digest.ErrNotFound.
func (s *Store) CachedSummary(ctx context.Context, key string, maxAge time.Duration) (digest.Summary, error) {
	var (
		body    string
		created int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT summary, created_at FROM summaries WHERE key = $1`, key).Scan(&body, &created)
	switch {
	case errNoRows(err):
		return digest.Summary{}, fmt.Errorf("sqlstore: summary %q: %w", key, digest.ErrNotFound)
	case err != nil:
		return digest.Summary{}, fmt.Errorf("sqlstore: summary %q: %w", key, err)
	}
	if maxAge > 0 {
		if age := s.Now().Sub(time.UnixMilli(created)); age > maxAge {
			return digest.Summary{}, fmt.Errorf("sqlstore: summary %q is %v old, older than %v: %w",
				key, age.Round(time.Second), maxAge, digest.ErrNotFound)
		}
	}
	var sum digest.Summary
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		return digest.Summary{}, fmt.Errorf("sqlstore: summary %q: %w", key, err)
	}
	return sum, nil
}

// CacheSummary stores sum under key, stamped with Now, replacing any
// earlier summary under that key.
func (s *Store) CacheSummary(ctx context.Context, key string, sum digest.Summary) error {
	if key == "" {
		return fmt.Errorf("sqlstore: cache summary %q: empty key", sum.Headline)
	}
	body, err := json.Marshal(sum)
	if err != nil {
		return fmt.Errorf("sqlstore: cache summary %q: %w", key, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO summaries (key, summary, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET summary = excluded.summary, created_at = excluded.created_at`,
		key, string(body), s.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlstore: cache summary %q: %w", key, err)
	}
	return nil
}

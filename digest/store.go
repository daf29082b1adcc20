package digest

import (
	"context"
	"time"
)

// Store persists sources and articles. Implementations (sqlstore) are safe
// for concurrent use. Lookups of a missing record return an error wrapping
// ErrNotFound; inserting a duplicate name or key returns one wrapping
// ErrExists. Other errors are storage failures.
type Store interface {
	SourceStore
	ArticleStore
}

// SourceStore persists sources and their fetch state.
type SourceStore interface {
	// Sources returns every source, ordered by name.
	Sources(ctx context.Context) ([]Source, error)
	// Source returns the source with the given name.
	Source(ctx context.Context, name string) (Source, error)
	// AddSource stores a new source and returns it with its ID set. A
	// source with the same name or URL yields ErrExists.
	AddSource(ctx context.Context, s Source) (Source, error)
	// UpdateSource changes a source's URL, interval, AllowPrivate, Origin
	// and GuildID (not its fetch state), found by ID.
	UpdateSource(ctx context.Context, s Source) error
	// RemoveSource deletes a source by name. Its articles are kept.
	RemoveSource(ctx context.Context, name string) error
	// SaveFetchState records the outcome of a poll.
	SaveFetchState(ctx context.Context, sourceID int64, st FetchState) error
}

// ArticleKeys are the identities under which an article may already be
// stored. Empty fields are ignored.
type ArticleKeys struct {
	URL         string
	SourceID    int64 // scopes GUID: GUIDs are unique per source only
	GUID        string
	ContentHash string
}

// ArticleFilter selects stored articles. Zero fields do not filter.
type ArticleFilter struct {
	SourceID int64
	Since    time.Time // Fetched at or after
	Limit    int
}

// ArticleStore persists articles.
type ArticleStore interface {
	// FindArticle returns a stored article matching any of the keys, trying
	// URL, then GUID (only when SourceID is set), then content hash. When
	// several match one key, the first fetched wins.
	FindArticle(ctx context.Context, k ArticleKeys) (Article, error)
	// NearDuplicateCandidates returns up to limit articles (no limit when
	// limit <= 0), first fetched first, fetched at or after since, whose
	// signature shares at least one band key with sig (see
	// Signature.BandKeys). Callers confirm with IsNearDuplicate. A nil
	// signature has no candidates.
	NearDuplicateCandidates(ctx context.Context, sig Signature, since time.Time, limit int) ([]Article, error)
	// InsertArticle stores a new article; an existing ID or URL yields
	// ErrExists, an unknown SourceID ErrNotFound. A zero Fetched is set to
	// the store's clock.
	InsertArticle(ctx context.Context, a Article) error
	// InsertMatchedArticle stores a new article as InsertArticle does, with
	// the IDs of the topics it matches (none: nil), atomically: the article
	// is never stored unmatched, so a caller that failed may try again. IDs
	// of topics removed since are ignored.
	InsertMatchedArticle(ctx context.Context, a Article, topicIDs []int64) error
	// UpdateArticle replaces the stored article with the same ID (ErrNotFound
	// if none). A zero Fetched keeps the stored fetch time.
	UpdateArticle(ctx context.Context, a Article) error
	// UpdateMatchedArticle replaces the stored article as UpdateArticle
	// does, and its topic matches with the topics with the given IDs (none:
	// nil), atomically. IDs of topics removed since are ignored.
	UpdateMatchedArticle(ctx context.Context, a Article, topicIDs []int64) error
	// Articles lists articles, newest fetched first.
	Articles(ctx context.Context, f ArticleFilter) ([]Article, error)
	// CountArticles returns how many articles are stored.
	CountArticles(ctx context.Context) (int, error)
}

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
	// URL, then GUID, then content hash.
	FindArticle(ctx context.Context, k ArticleKeys) (Article, error)
	// NearDuplicateCandidates returns articles fetched at or after since
	// whose fingerprint shares at least one 16-bit band with fp (see
	// FingerprintBands). Callers confirm with Distance.
	NearDuplicateCandidates(ctx context.Context, fp uint64, since time.Time, limit int) ([]Article, error)
	// InsertArticle stores a new article; an existing ID or URL yields ErrExists.
	InsertArticle(ctx context.Context, a Article) error
	// UpdateArticle replaces the stored article with the same ID.
	UpdateArticle(ctx context.Context, a Article) error
	// Articles lists articles, newest fetched first.
	Articles(ctx context.Context, f ArticleFilter) ([]Article, error)
	// CountArticles returns how many articles are stored.
	CountArticles(ctx context.Context) (int, error)
}

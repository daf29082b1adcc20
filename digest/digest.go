// Package digest holds briefbot's domain: sources, articles and the small
// interfaces the pipeline consumes. It depends on the standard library alone;
// adapters (sources, sqlstore, llm, discord, ...) depend on it, never the
// other way round.
package digest

import (
	"errors"
	"time"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrNotFound reports that a named or keyed record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists reports that a record with the same name or key already exists.
	ErrExists = errors.New("already exists")
	// ErrNotModified reports that a source answered 304 Not Modified.
	ErrNotModified = errors.New("not modified")
	// ErrTransient marks a failure worth retrying later (timeouts, 429, 5xx).
	ErrTransient = errors.New("transient failure")
	// ErrRefused marks a summarizer failure that is not about the story: its
	// service refused the request itself (a rejected key, an unknown model
	// or a wrong URL), so every other story would fail the same way.
	ErrRefused = errors.New("refused")
)

// Origin says who added a source, which decides what it may do.
type Origin string

const (
	// OriginConfig is a source from the operator's config file. Only these
	// may opt out of the SSRF guard.
	OriginConfig Origin = "config"
	// OriginCLI is a source added with `briefbot sources add`.
	OriginCLI Origin = "cli"
	// OriginChat is a source added by a chat user (a Discord guild).
	OriginChat Origin = "chat"
)

// Source is a feed the bot polls.
type Source struct {
	ID       int64
	Name     string
	URL      string
	Interval time.Duration
	// AllowPrivate lets the fetcher reach private, loopback and link-local
	// addresses. Only operator-configured sources may set it.
	AllowPrivate bool
	Origin       Origin
	// GuildID scopes a chat-added source to one guild; empty means global.
	GuildID   string
	CreatedAt time.Time
	State     FetchState
}

// FetchState is what the poller remembers about a source between polls.
type FetchState struct {
	ETag         string
	LastModified string
	// NextPoll is the earliest time the source should be polled again.
	NextPoll    time.Time
	LastPoll    time.Time
	LastSuccess time.Time
	// Failures counts consecutive failed polls; a success resets it.
	Failures  int
	LastError string
	// Disabled sources are not polled until re-enabled; LastError keeps why.
	Disabled bool
}

// TextOrigin records where an article's text came from.
type TextOrigin string

const (
	TextFromFeed  TextOrigin = "feed"       // the feed item's own content or description
	TextFromPage  TextOrigin = "page"       // the article page, extracted with readability
	TextTitleOnly TextOrigin = "title-only" // nothing usable beyond the title
)

// Article is one item from a source, cleaned and identified.
type Article struct {
	// ID is stable: derived from the canonical URL, else the GUID, else a
	// hash of title and text (see ArticleID).
	ID       string
	SourceID int64
	// Outlet is the publisher's display name (the source name when unknown).
	Outlet string
	GUID   string
	// URL is the canonical URL; empty only for items without any link.
	URL        string
	Title      string
	Text       string
	TextOrigin TextOrigin
	Published  time.Time
	Fetched    time.Time
	Updated    time.Time
	// ContentHash is a hash of the normalized title and text; equal hashes
	// are exact duplicates.
	ContentHash string
	// Signature is a MinHash of the text; similar signatures are
	// near-duplicates (wire copies, light edits). Nil for short texts.
	Signature Signature
	// DuplicateOf is the ID of the first copy when this article is a
	// near-duplicate of an earlier one from another outlet; empty otherwise.
	DuplicateOf string
}

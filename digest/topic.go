package digest

import (
	"context"
	"time"
)

// Topic is a named query, such as "korea-talks":
// `"north korea" OR pyongyang OR "kim jong un" -sport`.
type Topic struct {
	ID    int64
	Name  string
	Query string
	// Origin says who added the topic: the config file, the CLI or a chat user.
	Origin Origin
	// GuildID scopes a chat-added topic to one guild; empty means global.
	GuildID   string
	CreatedAt time.Time
}

// TopicStore persists topics and which articles match them. Errors follow
// the Store conventions (ErrNotFound, ErrExists).
type TopicStore interface {
	// Topics returns every topic, ordered by name.
	Topics(ctx context.Context) ([]Topic, error)
	// Topic returns the topic with the given name.
	Topic(ctx context.Context, name string) (Topic, error)
	// AddTopic stores a new topic and returns it with its ID set; a topic
	// with the same name yields ErrExists.
	AddTopic(ctx context.Context, t Topic) (Topic, error)
	// UpdateTopic changes a topic's query, origin and guild, found by ID.
	UpdateTopic(ctx context.Context, t Topic) error
	// RemoveTopic deletes a topic by name, and its article matches.
	RemoveTopic(ctx context.Context, name string) error
	// SetArticleTopics records that the article matches exactly these
	// topics, replacing earlier matches.
	SetArticleTopics(ctx context.Context, articleID string, topicIDs []int64) error
	// TopicArticles returns the articles matched to a topic whose Published
	// time is in [from, to), newest first, at most limit (no limit when
	// limit <= 0).
	TopicArticles(ctx context.Context, topicID int64, from, to time.Time, limit int) ([]Article, error)
	// SearchArticles returns articles published in [from, to) whose title
	// or text contains at least one of the terms (a word, or a phrase of
	// words in order), case- and accent-insensitively, from the full-text
	// index; newest first, at most limit. Callers filter the result with
	// Query.Match for exact semantics.
	SearchArticles(ctx context.Context, terms []string, from, to time.Time, limit int) ([]Article, error)
}

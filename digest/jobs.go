package digest

import (
	"context"
	"time"
)

// PollJob asks for one poll of a source. Due is the poll time it was
// scheduled for; one job exists per (source, due time).
type PollJob struct {
	SourceID int64     `json:"source_id"`
	Due      time.Time `json:"due"`
}

// BuildJob asks for the briefings of one schedule slot of the
// subscriptions that share a topic, a guild and a language: the stories
// are selected and clustered once, each story is summarized once, and
// each subscription's delivery is recorded and then queued. Subscriptions
// lists their IDs in ascending order.
type BuildJob struct {
	TopicID       int64     `json:"topic_id"`
	GuildID       string    `json:"guild_id"`
	Language      string    `json:"language"`
	Slot          time.Time `json:"slot"`
	Subscriptions []int64   `json:"subscriptions"`
}

// DeliverJob asks for a recorded delivery to be posted: the parts of the
// subscription's slot not posted yet.
type DeliverJob struct {
	SubscriptionID int64     `json:"subscription_id"`
	Slot           time.Time `json:"slot"`
}

// NoticeJob asks for a one-line notice in a channel (a source of the
// guild was disabled, say). Key makes it idempotent.
type NoticeJob struct {
	Key       string `json:"key"`
	ChannelID string `json:"channel_id"`
	Text      string `json:"text"`
}

// Queue takes durable work. Each job is stored before Enqueue returns, and
// is run at least once, retried with backoff on error; enqueueing a job
// equal to one already queued, running or recently finished does nothing,
// so callers may enqueue again after a crash.
type Queue interface {
	EnqueuePoll(ctx context.Context, j PollJob) error
	EnqueueBuild(ctx context.Context, j BuildJob) error
	EnqueueDeliver(ctx context.Context, j DeliverJob) error
	EnqueueNotice(ctx context.Context, j NoticeJob) error
}

package digest

import (
	"context"
	"fmt"
	"time"
)

// Catch-up policies: what a subscription does with a slot missed while the
// bot was down.
const (
	CatchUpLate = "late" // post once, marked late, if within the catch-up window
	CatchUpSkip = "skip" // skip missed slots
)

// What a scheduled slot with nothing new posts.
const (
	NothingNewSkip = "skip" // post nothing (the default)
	NothingNewPost = "post" // post a one-line "nothing new"
)

// Subscription is a channel's standing order for briefings on a topic.
type Subscription struct {
	ID        int64
	GuildID   string
	ChannelID string
	// TopicID is 0 once the topic is removed; the subscription is then
	// paused.
	TopicID int64
	// Topic is the topic's name, for display.
	Topic string
	// Schedule is as the user wrote it: "daily 08:00", "weekdays 07:30",
	// "every 6h" or a cron expression, in TimeZone.
	Schedule string
	// TimeZone is an IANA name such as "Asia/Seoul".
	TimeZone string
	Language string
	// CatchUp is CatchUpLate or CatchUpSkip.
	CatchUp string
	// NothingNew is NothingNewSkip or NothingNewPost ("" means skip).
	NothingNew string
	// NextSlot is the next local slot time at which a briefing is due.
	NextSlot time.Time
	// LastDelivered is the slot of the last completed delivery.
	LastDelivered time.Time
	// Paused subscriptions are not delivered; PauseReason says why
	// (e.g. the bot lost access to the channel).
	Paused      bool
	PauseReason string
	CreatedBy   string
	CreatedAt   time.Time
}

// Delivery states.
const (
	DeliveryPending = "pending" // recorded, some parts may be posted
	DeliveryDone    = "done"    // every part posted
	DeliveryFailed  = "failed"  // given up; Error says why
)

// Delivery is one briefing posted to one channel for one schedule slot
// (or one /brief answer). Its Key makes posting idempotent: it is recorded
// before posting, each posted part is recorded, and a restart posts only
// the parts still missing.
type Delivery struct {
	Key            string
	SubscriptionID int64 // 0 for an on-demand briefing
	ChannelID      string
	Slot           time.Time
	// Parts is how many messages the briefing needs; MessageIDs are those
	// posted so far, in order.
	Parts      int
	MessageIDs []string
	// Payload is the rendered briefing, opaque to the store, so a resumed
	// delivery posts exactly the parts it planned.
	Payload []byte
	// Articles are the IDs of the articles the briefing carries: once
	// recorded, the subscription has seen them (see SeenArticles).
	Articles  []string
	State     string
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DeliveryKey is the idempotency key of a subscription's slot: the
// subscription and the slot's local wall-clock time in its zone, so a DST
// change neither repeats nor skips a key.
func DeliveryKey(subscriptionID int64, slot time.Time) string {
	return fmt.Sprintf("sub:%d:%s", subscriptionID, slot.Format("2006-01-02T15:04"))
}

// SubscriptionStore persists subscriptions and deliveries. Errors follow
// the Store conventions (ErrNotFound, ErrExists).
type SubscriptionStore interface {
	// Subscriptions returns a guild's subscriptions ("" for every guild),
	// ordered by ID.
	Subscriptions(ctx context.Context, guildID string) ([]Subscription, error)
	// Subscription returns one subscription by ID.
	Subscription(ctx context.Context, id int64) (Subscription, error)
	// AddSubscription stores a new subscription and returns it with its ID
	// set. The same (channel, topic, schedule) twice yields ErrExists.
	AddSubscription(ctx context.Context, s Subscription) (Subscription, error)
	// UpdateSubscription saves NextSlot, LastDelivered, Paused and
	// PauseReason of a subscription, found by ID.
	UpdateSubscription(ctx context.Context, s Subscription) error
	// AdvanceSubscription sets a subscription's NextSlot only, so that it
	// never undoes a pause or a delivery recorded meanwhile.
	AdvanceSubscription(ctx context.Context, id int64, next time.Time) error
	// PauseSubscription pauses a subscription with a reason for people.
	PauseSubscription(ctx context.Context, id int64, reason string) error
	// SeenArticles returns the IDs of the articles carried by the
	// subscription's deliveries of slots at or after since that did not
	// fail.
	SeenArticles(ctx context.Context, subscriptionID int64, since time.Time) (map[string]bool, error)
	// RemoveSubscription deletes a subscription of the guild by ID.
	RemoveSubscription(ctx context.Context, guildID string, id int64) error
	// DueSubscriptions returns unpaused subscriptions whose NextSlot is at
	// or before now, ordered by NextSlot.
	DueSubscriptions(ctx context.Context, now time.Time) ([]Subscription, error)

	// StartDelivery records a delivery if its key is new and returns it;
	// if the key exists it returns the stored delivery and existed true.
	StartDelivery(ctx context.Context, d Delivery) (stored Delivery, existed bool, err error)
	// RecordPart records that part index (0-based) was posted as messageID.
	// Parts must be recorded in order.
	RecordPart(ctx context.Context, key string, index int, messageID string) error
	// FinishDelivery sets a delivery's final state (DeliveryDone or
	// DeliveryFailed) and error text. A delivery done with parts moves its
	// subscription's LastDelivered up to its slot.
	FinishDelivery(ctx context.Context, key, state, errText string) error
	// Delivery returns a delivery by key.
	Delivery(ctx context.Context, key string) (Delivery, error)
	// StartAttempt counts a start of posting a delivery and returns how
	// many came before: more than zero means a part may have been posted
	// without being recorded.
	StartAttempt(ctx context.Context, key string) (int, error)
}

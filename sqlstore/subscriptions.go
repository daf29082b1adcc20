package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/briefbot/briefbot/digest"
)

var _ digest.SubscriptionStore = (*Store)(nil)

// subscriptionColumns lists the columns scanSubscription reads, in order,
// from subscriptions s joined with topics t.
const subscriptionColumns = `s.id, s.guild_id, s.channel_id, COALESCE(s.topic_id, 0), COALESCE(t.name, s.topic_name),
	s.schedule, s.time_zone, s.language, s.catch_up, s.nothing_new, s.next_slot, s.last_delivered, s.paused,
	s.pause_reason, s.created_by, s.created_at`

// subscriptionFrom is the FROM clause subscriptionColumns read.
const subscriptionFrom = ` FROM subscriptions s LEFT JOIN topics t ON t.id = s.topic_id`

// scanSubscription reads one row of subscriptionColumns.
func scanSubscription(row interface{ Scan(...any) error }) (digest.Subscription, error) {
	var (
		sub                     digest.Subscription
		nextSlot, lastDelivered sql.NullInt64
		created                 int64
	)
	err := row.Scan(&sub.ID, &sub.GuildID, &sub.ChannelID, &sub.TopicID, &sub.Topic, &sub.Schedule, &sub.TimeZone,
		&sub.Language, &sub.CatchUp, &sub.NothingNew, &nextSlot, &lastDelivered, &sub.Paused, &sub.PauseReason, &sub.CreatedBy, &created)
	if err != nil {
		return digest.Subscription{}, err
	}
	sub.NextSlot = fromMillis(nextSlot)
	sub.LastDelivered = fromMillis(lastDelivered)
	sub.CreatedAt = time.UnixMilli(created).UTC()
	return sub, nil
}

// querySubscriptions runs a query selecting subscriptionColumns and collects
// the rows.
func (s *Store) querySubscriptions(ctx context.Context, query string, args ...any) ([]digest.Subscription, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []digest.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Subscriptions returns the subscriptions of the guild with the given ID,
// or of every guild when guildID is "", ordered by ID.
func (s *Store) Subscriptions(ctx context.Context, guildID string) ([]digest.Subscription, error) {
	query, args, what := `SELECT `+subscriptionColumns+subscriptionFrom+` ORDER BY s.id`, []any(nil), "subscriptions"
	if guildID != "" {
		query = `SELECT ` + subscriptionColumns + subscriptionFrom + ` WHERE s.guild_id = $1 ORDER BY s.id`
		args, what = []any{guildID}, fmt.Sprintf("subscriptions of guild %q", guildID)
	}
	out, err := s.querySubscriptions(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list %s: %w", what, err)
	}
	return out, nil
}

// Subscription returns the subscription with the given ID, or an error
// wrapping digest.ErrNotFound.
func (s *Store) Subscription(ctx context.Context, id int64) (digest.Subscription, error) {
	sub, err := subscription(ctx, s.db, id)
	if err != nil {
		return digest.Subscription{}, fmt.Errorf("sqlstore: %w", err)
	}
	return sub, nil
}

// subscription reads the subscription with the given ID through q.
func subscription(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, id int64) (digest.Subscription, error) {
	sub, err := scanSubscription(q.QueryRowContext(ctx,
		`SELECT `+subscriptionColumns+subscriptionFrom+` WHERE s.id = $1`, id))
	switch {
	case errNoRows(err):
		return digest.Subscription{}, fmt.Errorf("subscription id %d: %w", id, digest.ErrNotFound)
	case err != nil:
		return digest.Subscription{}, fmt.Errorf("subscription id %d: %w", id, err)
	}
	return sub, nil
}

// AddSubscription stores a new subscription and returns it as stored: with
// its ID set (any ID given is ignored), Topic set to the name of the topic
// with TopicID (any Topic given is ignored), CreatedAt set to Now if it was
// zero, and times at millisecond precision in UTC. GuildID, ChannelID and
// Schedule must be set, and CatchUp must be digest.CatchUpLate or
// digest.CatchUpSkip; Schedule and TimeZone are stored as given (callers
// check them). A subscription of the same channel to the same topic on the
// same schedule yields an error wrapping digest.ErrExists, an unknown
// TopicID one wrapping digest.ErrNotFound.
func (s *Store) AddSubscription(ctx context.Context, sub digest.Subscription) (digest.Subscription, error) {
	what := fmt.Sprintf("subscription of channel %q to topic id %d on %q", sub.ChannelID, sub.TopicID, sub.Schedule)
	switch {
	case sub.GuildID == "":
		return digest.Subscription{}, fmt.Errorf("sqlstore: add %s: empty guild id", what)
	case sub.ChannelID == "":
		return digest.Subscription{}, fmt.Errorf("sqlstore: add %s: empty channel id", what)
	case sub.Schedule == "":
		return digest.Subscription{}, fmt.Errorf("sqlstore: add %s: empty schedule", what)
	case sub.CatchUp != digest.CatchUpLate && sub.CatchUp != digest.CatchUpSkip:
		return digest.Subscription{}, fmt.Errorf("sqlstore: add %s: catch-up policy %q is neither %q nor %q",
			what, sub.CatchUp, digest.CatchUpLate, digest.CatchUpSkip)
	}
	if sub.NothingNew == "" {
		sub.NothingNew = digest.NothingNewSkip
	}
	if sub.NothingNew != digest.NothingNewSkip && sub.NothingNew != digest.NothingNewPost {
		return digest.Subscription{}, fmt.Errorf("sqlstore: add %s: nothing-new option %q is neither %q nor %q",
			what, sub.NothingNew, digest.NothingNewSkip, digest.NothingNewPost)
	}
	if sub.CreatedAt.IsZero() {
		sub.CreatedAt = s.Now()
	}
	var stored digest.Subscription
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO subscriptions (
				guild_id, channel_id, topic_id, topic_name, schedule, time_zone, language, catch_up, nothing_new,
				next_slot, last_delivered, paused, pause_reason, created_by, created_at
			) VALUES ($1, $2, $3, COALESCE((SELECT name FROM topics WHERE id = $3), ''), $4, $5, $6, $7, $14, $8, $9, $10, $11, $12, $13)
			RETURNING id`,
			sub.GuildID, sub.ChannelID, sub.TopicID, sub.Schedule, sub.TimeZone, sub.Language, sub.CatchUp,
			millis(sub.NextSlot), millis(sub.LastDelivered), flag(sub.Paused), sub.PauseReason, sub.CreatedBy,
			sub.CreatedAt.UnixMilli(), sub.NothingNew,
		).Scan(&id)
		if err != nil {
			return err
		}
		stored, err = subscription(ctx, tx, id)
		return err
	})
	switch {
	case err == nil:
		return stored, nil
	case s.dialect.classify(err) == uniqueViolation:
		return digest.Subscription{}, fmt.Errorf("sqlstore: %s: %w", what, digest.ErrExists)
	case s.dialect.classify(err) == foreignKeyViolation:
		return digest.Subscription{}, fmt.Errorf("sqlstore: add %s: topic id %d: %w", what, sub.TopicID, digest.ErrNotFound)
	}
	return digest.Subscription{}, fmt.Errorf("sqlstore: add %s: %w", what, err)
}

// UpdateSubscription saves the NextSlot, LastDelivered, Paused and
// PauseReason of the subscription with sub.ID; its other fields stay. An
// unknown ID yields an error wrapping digest.ErrNotFound.
func (s *Store) UpdateSubscription(ctx context.Context, sub digest.Subscription) error {
	res, err := s.db.ExecContext(ctx, `UPDATE subscriptions
		SET next_slot = $1, last_delivered = $2, paused = $3, pause_reason = $4
		WHERE id = $5`,
		millis(sub.NextSlot), millis(sub.LastDelivered), flag(sub.Paused), sub.PauseReason, sub.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: update subscription id %d: %w", sub.ID, err)
	}
	return affectedOne(res, fmt.Sprintf("subscription id %d", sub.ID))
}

// AdvanceSubscription sets the NextSlot of the subscription with the
// given ID, and nothing else, so that a tick never undoes a pause or a
// LastDelivered recorded meanwhile. An unknown ID yields an error wrapping
// digest.ErrNotFound.
func (s *Store) AdvanceSubscription(ctx context.Context, id int64, next time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET next_slot = $1 WHERE id = $2`, millis(next), id)
	if err != nil {
		return fmt.Errorf("sqlstore: advance subscription id %d: %w", id, err)
	}
	return affectedOne(res, fmt.Sprintf("subscription id %d", id))
}

// PauseSubscription pauses the subscription with the given ID, with a
// reason for people. An unknown ID yields an error wrapping
// digest.ErrNotFound.
func (s *Store) PauseSubscription(ctx context.Context, id int64, reason string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE subscriptions SET paused = 1, pause_reason = $1 WHERE id = $2`, reason, id)
	if err != nil {
		return fmt.Errorf("sqlstore: pause subscription id %d: %w", id, err)
	}
	return affectedOne(res, fmt.Sprintf("subscription id %d", id))
}

// SeenArticles returns the IDs of the articles carried by the deliveries
// of the subscription with the given ID whose slot is at or after since
// and whose state is not failed (pending ones will be posted).
func (s *Store) SeenArticles(ctx context.Context, subscriptionID int64, since time.Time) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT articles FROM deliveries
		WHERE subscription_id = $1 AND slot >= $2 AND state <> 'failed'`, subscriptionID, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: articles seen by subscription id %d: %w", subscriptionID, err)
	}
	defer rows.Close()
	seen := make(map[string]bool)
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("sqlstore: articles seen by subscription id %d: %w", subscriptionID, err)
		}
		ids, err := decodeMessageIDs(raw)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: articles seen by subscription id %d: %w", subscriptionID, err)
		}
		for _, id := range ids {
			seen[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: articles seen by subscription id %d: %w", subscriptionID, err)
	}
	return seen, nil
}

// RemoveSubscription deletes the subscription with the given ID if it
// belongs to the guild with guildID. An unknown ID, or one of another
// guild, yields an error wrapping digest.ErrNotFound. The subscription's
// deliveries are kept, with SubscriptionID 0.
func (s *Store) RemoveSubscription(ctx context.Context, guildID string, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = $1 AND guild_id = $2`, id, guildID)
	if err != nil {
		return fmt.Errorf("sqlstore: remove subscription id %d of guild %q: %w", id, guildID, err)
	}
	return affectedOne(res, fmt.Sprintf("subscription id %d of guild %q", id, guildID))
}

// dueQuery selects the unpaused subscriptions whose next slot is NULL or at
// or before $1, in slot order (NULL first, ties by ID): one range scan of
// subscriptions_due.
const dueQuery = `SELECT ` + subscriptionColumns + subscriptionFrom + `
	WHERE s.paused = 0 AND (s.next_slot IS NULL OR s.next_slot <= $1)
	ORDER BY s.next_slot NULLS FIRST, s.id`

// DueSubscriptions returns the unpaused subscriptions whose NextSlot is at
// or before now, ordered by NextSlot (ties by ID). A zero NextSlot is
// before every time, so a subscription never scheduled is due, first.
func (s *Store) DueSubscriptions(ctx context.Context, now time.Time) ([]digest.Subscription, error) {
	out, err := s.querySubscriptions(ctx, dueQuery, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: subscriptions due at %v: %w", now, err)
	}
	return out, nil
}

// deliveryColumns lists the columns scanDelivery reads, in order.
const deliveryColumns = `key, subscription_id, channel_id, slot, parts, message_ids, state, error, created_at, updated_at, payload, articles`

// scanDelivery reads one row of deliveryColumns.
func scanDelivery(row interface{ Scan(...any) error }) (digest.Delivery, error) {
	var (
		d                digest.Delivery
		subscriptionID   sql.NullInt64
		slot             sql.NullInt64
		messageIDs       string
		articles         string
		created, updated int64
	)
	err := row.Scan(&d.Key, &subscriptionID, &d.ChannelID, &slot, &d.Parts, &messageIDs, &d.State, &d.Error,
		&created, &updated, &d.Payload, &articles)
	if err != nil {
		return digest.Delivery{}, err
	}
	if d.MessageIDs, err = decodeMessageIDs(messageIDs); err != nil {
		return digest.Delivery{}, err
	}
	if d.Articles, err = decodeMessageIDs(articles); err != nil {
		return digest.Delivery{}, err
	}
	d.SubscriptionID = subscriptionID.Int64
	d.Slot = fromMillis(slot)
	d.CreatedAt = time.UnixMilli(created).UTC()
	d.UpdatedAt = time.UnixMilli(updated).UTC()
	return d, nil
}

// encodeMessageIDs returns the stored form of ids, a JSON array.
func encodeMessageIDs(ids []string) (string, error) {
	if len(ids) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// decodeMessageIDs reverses encodeMessageIDs; no IDs are a nil slice.
func decodeMessageIDs(s string) ([]string, error) {
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, fmt.Errorf("stored message ids %q: %w", s, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

// delivery reads the delivery with the given key through q.
func delivery(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, key string) (digest.Delivery, error) {
	d, err := scanDelivery(q.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE key = $1`, key))
	switch {
	case errNoRows(err):
		return digest.Delivery{}, fmt.Errorf("delivery %q: %w", key, digest.ErrNotFound)
	case err != nil:
		return digest.Delivery{}, fmt.Errorf("delivery %q: %w", key, err)
	}
	return d, nil
}

// StartDelivery records d if no delivery has its key, and returns it as
// stored: State set to digest.DeliveryPending if it was empty, CreatedAt
// set to Now if it was zero, UpdatedAt to CreatedAt if it was zero, times
// at millisecond precision in UTC, and no MessageIDs as nil. If a delivery
// with the key exists, it returns that one, unchanged, and existed true.
// Two concurrent calls with the same key record it once: exactly one
// returns existed false.
//
// Key and ChannelID must be set, Parts must not be negative, and State, if
// set, must be one of the digest.Delivery states. A SubscriptionID naming
// no subscription yields an error wrapping digest.ErrNotFound.
func (s *Store) StartDelivery(ctx context.Context, d digest.Delivery) (stored digest.Delivery, existed bool, err error) {
	if d.State == "" {
		d.State = digest.DeliveryPending
	}
	switch {
	case d.Key == "":
		return digest.Delivery{}, false, fmt.Errorf("sqlstore: start delivery to channel %q: empty key", d.ChannelID)
	case d.ChannelID == "":
		return digest.Delivery{}, false, fmt.Errorf("sqlstore: start delivery %q: empty channel id", d.Key)
	case d.Parts < 0:
		return digest.Delivery{}, false, fmt.Errorf("sqlstore: start delivery %q: %d parts", d.Key, d.Parts)
	case !validDeliveryState(d.State):
		return digest.Delivery{}, false, fmt.Errorf("sqlstore: start delivery %q: unknown state %q", d.Key, d.State)
	}
	ids, err := encodeMessageIDs(d.MessageIDs)
	if err != nil {
		return digest.Delivery{}, false, fmt.Errorf("sqlstore: start delivery %q: %w", d.Key, err)
	}
	articles, err := encodeMessageIDs(d.Articles)
	if err != nil {
		return digest.Delivery{}, false, fmt.Errorf("sqlstore: start delivery %q: %w", d.Key, err)
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.Now()
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	// The INSERT waits for, or conflicts with, any other transaction
	// recording the key; the SELECT then reads whichever row won.
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (
				key, subscription_id, channel_id, slot, parts, message_ids, state, error, created_at, updated_at, payload, articles
			) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (key) DO NOTHING`,
			d.Key, nullID(d.SubscriptionID), d.ChannelID, millis(d.Slot), d.Parts, ids, d.State, d.Error,
			d.CreatedAt.UnixMilli(), d.UpdatedAt.UnixMilli(), d.Payload, articles)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		existed = n == 0
		stored, err = delivery(ctx, tx, d.Key)
		return err
	})
	if err != nil {
		if s.dialect.classify(err) == foreignKeyViolation {
			return digest.Delivery{}, false, fmt.Errorf("sqlstore: start delivery %q: subscription id %d: %w",
				d.Key, d.SubscriptionID, digest.ErrNotFound)
		}
		return digest.Delivery{}, false, fmt.Errorf("sqlstore: start delivery %q: %w", d.Key, err)
	}
	return stored, existed, nil
}

// validDeliveryState reports whether state is one of the delivery states.
func validDeliveryState(state string) bool {
	switch state {
	case digest.DeliveryPending, digest.DeliveryDone, digest.DeliveryFailed:
		return true
	}
	return false
}

// RecordPart records that part index (0-based) of the delivery with the
// given key was posted as messageID, and sets its UpdatedAt to Now. Parts
// are recorded in order: index must be the number of parts recorded so
// far, and less than the delivery's Parts. Recording a part again with the
// same message ID changes nothing; a gap, a different message ID for a
// recorded part or an empty message ID is an error. An unknown key yields
// an error wrapping digest.ErrNotFound.
func (s *Store) RecordPart(ctx context.Context, key string, index int, messageID string) error {
	if messageID == "" {
		return fmt.Errorf("sqlstore: record part %d of delivery %q: empty message id", index, key)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			parts int
			old   string
		)
		err := tx.QueryRowContext(ctx, `SELECT parts, message_ids FROM deliveries WHERE key = $1`, key).Scan(&parts, &old)
		switch {
		case errNoRows(err):
			return fmt.Errorf("delivery %q: %w", key, digest.ErrNotFound)
		case err != nil:
			return err
		}
		ids, err := decodeMessageIDs(old)
		if err != nil {
			return err
		}
		switch {
		case index < 0 || index >= parts:
			return fmt.Errorf("delivery has %d parts", parts)
		case index < len(ids) && ids[index] == messageID:
			return nil // recorded already
		case index < len(ids):
			return fmt.Errorf("part %d was posted as message %q", index, ids[index])
		case index > len(ids):
			return fmt.Errorf("parts are recorded in order, and part %d is not recorded yet", len(ids))
		}
		updated, err := encodeMessageIDs(append(ids, messageID))
		if err != nil {
			return err
		}
		// The condition on message_ids makes the read and write one
		// compare-and-set, whatever the isolation level.
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET message_ids = $1, updated_at = $2
			WHERE key = $3 AND message_ids = $4`,
			updated, s.Now().UnixMilli(), key, old)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errors.New("delivery changed concurrently")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: record part %d of delivery %q as message %q: %w", index, key, messageID, err)
	}
	return nil
}

// FinishDelivery sets the state of the delivery with the given key to
// state, digest.DeliveryDone or digest.DeliveryFailed, its Error to
// errText and its UpdatedAt to Now. An unknown key yields an error
// wrapping digest.ErrNotFound.
func (s *Store) FinishDelivery(ctx context.Context, key, state, errText string) error {
	if state != digest.DeliveryDone && state != digest.DeliveryFailed {
		return fmt.Errorf("sqlstore: finish delivery %q: state %q is neither %q nor %q",
			key, state, digest.DeliveryDone, digest.DeliveryFailed)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = $1, error = $2, updated_at = $3 WHERE key = $4`,
			state, errText, s.Now().UnixMilli(), key)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("delivery %q: %w", key, digest.ErrNotFound)
		}
		if state != digest.DeliveryDone {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET last_delivered = d.slot
			FROM deliveries d
			WHERE d.key = $1 AND d.parts > 0 AND subscriptions.id = d.subscription_id
				AND (subscriptions.last_delivered IS NULL OR subscriptions.last_delivered < d.slot)`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: finish delivery %q: %w", key, err)
	}
	return nil
}

// Delivery returns the delivery with the given key, or an error wrapping
// digest.ErrNotFound.
func (s *Store) Delivery(ctx context.Context, key string) (digest.Delivery, error) {
	d, err := delivery(ctx, s.db, key)
	if err != nil {
		return digest.Delivery{}, fmt.Errorf("sqlstore: %w", err)
	}
	return d, nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// This file holds the queries of `briefbot status`: what is due next,
// what was delivered last, and what the language model cost.

// UpcomingSubscriptions returns up to limit unpaused subscriptions in the
// order they come due: those never scheduled (a zero NextSlot, due at
// once) first, then by NextSlot, ties by ID. A limit <= 0 returns none.
func (s *Store) UpcomingSubscriptions(ctx context.Context, limit int) ([]digest.Subscription, error) {
	if limit <= 0 {
		return nil, nil
	}
	out, err := s.querySubscriptions(ctx, `SELECT `+subscriptionColumns+subscriptionFrom+`
		WHERE s.paused = 0
		ORDER BY s.next_slot NULLS FIRST, s.id
		LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: upcoming subscriptions: %w", err)
	}
	return out, nil
}

// CountSubscriptions returns how many subscriptions are active (not
// paused) and how many are paused.
func (s *Store) CountSubscriptions(ctx context.Context) (active, paused int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN paused = 0 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN paused = 0 THEN 0 ELSE 1 END), 0)
		FROM subscriptions`).Scan(&active, &paused)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: count subscriptions: %w", err)
	}
	return active, paused, nil
}

// DeliveryRecord is a delivery with the subscription fields a report of
// it needs. They are empty for a notice and for a delivery whose
// subscription was removed.
type DeliveryRecord struct {
	digest.Delivery
	GuildID  string
	Topic    string
	TimeZone string
}

// RecentDeliveries returns up to limit deliveries (subscription
// briefings and notices), the most recently updated first, ties by key.
// Their Payload is not read. A limit <= 0 returns none.
func (s *Store) RecentDeliveries(ctx context.Context, limit int) ([]DeliveryRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT d.key, d.subscription_id, d.channel_id, d.slot, d.parts, d.message_ids,
			d.state, d.error, d.created_at, d.updated_at, d.articles,
			COALESCE(s.guild_id, ''), COALESCE(t.name, s.topic_name, ''), COALESCE(s.time_zone, '')
		FROM deliveries d
		LEFT JOIN subscriptions s ON s.id = d.subscription_id
		LEFT JOIN topics t ON t.id = s.topic_id
		ORDER BY d.updated_at DESC, d.key
		LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: recent deliveries: %w", err)
	}
	defer rows.Close()
	var out []DeliveryRecord
	for rows.Next() {
		var (
			r                    DeliveryRecord
			subscriptionID, slot sql.NullInt64
			messageIDs, articles string
			created, updated     int64
		)
		if err := rows.Scan(&r.Key, &subscriptionID, &r.ChannelID, &slot, &r.Parts, &messageIDs, &r.State, &r.Error,
			&created, &updated, &articles, &r.GuildID, &r.Topic, &r.TimeZone); err != nil {
			return nil, fmt.Errorf("sqlstore: recent deliveries: %w", err)
		}
		if r.MessageIDs, err = decodeMessageIDs(messageIDs); err != nil {
			return nil, fmt.Errorf("sqlstore: recent deliveries: %w", err)
		}
		if r.Articles, err = decodeMessageIDs(articles); err != nil {
			return nil, fmt.Errorf("sqlstore: recent deliveries: %w", err)
		}
		r.SubscriptionID = subscriptionID.Int64
		r.Slot = fromMillis(slot)
		r.CreatedAt = time.UnixMilli(created).UTC()
		r.UpdatedAt = time.UnixMilli(updated).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: recent deliveries: %w", err)
	}
	return out, nil
}

// LLMUsage counts language-model chat completion calls and the tokens
// their servers reported, for one model and, when recorded, one Discord
// server.
type LLMUsage struct {
	Model string
	// GuildID is the server the calls were made for; "" for the
	// operator's own briefings. LLMUsageSince sums over servers and
	// leaves it empty.
	GuildID string
	// Calls counts requests, FailedCalls those that got no reply (an
	// error status, a timeout, a network failure).
	Calls, FailedCalls int64
	// PromptTokens and CompletionTokens are as the servers reported
	// them; calls that reported none add nothing.
	PromptTokens, CompletionTokens int64
}

// utcDay returns the UTC midnight starting the day of t.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// RecordLLMUsage adds u to the usage of u.Model by u.GuildID on the UTC
// day of at. Concurrent calls add up. Negative counts are an error.
func (s *Store) RecordLLMUsage(ctx context.Context, at time.Time, u LLMUsage) error {
	if u.Calls < 0 || u.FailedCalls < 0 || u.PromptTokens < 0 || u.CompletionTokens < 0 {
		return fmt.Errorf("sqlstore: record usage of model %q: negative count in %+v", u.Model, u)
	}
	day := utcDay(at)
	_, err := s.db.ExecContext(ctx, `INSERT INTO llm_usage (day, guild_id, model, calls, failed_calls, prompt_tokens, completion_tokens)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (guild_id, day, model) DO UPDATE SET
			calls = llm_usage.calls + excluded.calls,
			failed_calls = llm_usage.failed_calls + excluded.failed_calls,
			prompt_tokens = llm_usage.prompt_tokens + excluded.prompt_tokens,
			completion_tokens = llm_usage.completion_tokens + excluded.completion_tokens`,
		day.UnixMilli(), u.GuildID, u.Model, u.Calls, u.FailedCalls, u.PromptTokens, u.CompletionTokens)
	if err != nil {
		return fmt.Errorf("sqlstore: record usage of model %q on %s: %w", u.Model, day.Format(time.DateOnly), err)
	}
	return nil
}

// LLMUsageSince returns the usage of each model over the UTC days from
// the one holding since on, ordered by model.
func (s *Store) LLMUsageSince(ctx context.Context, since time.Time) ([]LLMUsage, error) {
	day := utcDay(since)
	rows, err := s.db.QueryContext(ctx, `SELECT model, CAST(SUM(calls) AS BIGINT), CAST(SUM(failed_calls) AS BIGINT),
			CAST(SUM(prompt_tokens) AS BIGINT), CAST(SUM(completion_tokens) AS BIGINT)
		FROM llm_usage WHERE day >= $1 GROUP BY model ORDER BY model`, day.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: usage since %s: %w", day.Format(time.DateOnly), err)
	}
	defer rows.Close()
	var out []LLMUsage
	for rows.Next() {
		var u LLMUsage
		if err := rows.Scan(&u.Model, &u.Calls, &u.FailedCalls, &u.PromptTokens, &u.CompletionTokens); err != nil {
			return nil, fmt.Errorf("sqlstore: usage since %s: %w", day.Format(time.DateOnly), err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: usage since %s: %w", day.Format(time.DateOnly), err)
	}
	return out, nil
}

// GuildTokensSince returns the prompt and completion tokens recorded for
// a Discord server over the UTC days from the one holding since on, all
// models together.
func (s *Store) GuildTokensSince(ctx context.Context, guildID string, since time.Time) (int64, error) {
	day := utcDay(since)
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS BIGINT)
		FROM llm_usage WHERE guild_id = $1 AND day >= $2`, guildID, day.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: tokens of server %s since %s: %w", guildID, day.Format(time.DateOnly), err)
	}
	return n, nil
}

// GuildUsageSince returns the usage of each Discord server ("" for the
// operator's own briefings) over the UTC days from the one holding since
// on, all models together, most tokens first. Model is left empty.
func (s *Store) GuildUsageSince(ctx context.Context, since time.Time) ([]LLMUsage, error) {
	day := utcDay(since)
	rows, err := s.db.QueryContext(ctx, `SELECT guild_id, CAST(SUM(calls) AS BIGINT), CAST(SUM(failed_calls) AS BIGINT),
			CAST(SUM(prompt_tokens) AS BIGINT), CAST(SUM(completion_tokens) AS BIGINT)
		FROM llm_usage WHERE day >= $1 GROUP BY guild_id
		ORDER BY SUM(prompt_tokens + completion_tokens) DESC, guild_id`, day.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: usage by server since %s: %w", day.Format(time.DateOnly), err)
	}
	defer rows.Close()
	var out []LLMUsage
	for rows.Next() {
		var u LLMUsage
		if err := rows.Scan(&u.GuildID, &u.Calls, &u.FailedCalls, &u.PromptTokens, &u.CompletionTokens); err != nil {
			return nil, fmt.Errorf("sqlstore: usage by server since %s: %w", day.Format(time.DateOnly), err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: usage by server since %s: %w", day.Format(time.DateOnly), err)
	}
	return out, nil
}

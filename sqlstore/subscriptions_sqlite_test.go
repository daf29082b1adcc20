package sqlstore

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
)

func TestSubscriptionQueriesUseIndexes(t *testing.T) {
	s := openSQLite(t)
	topic := mustAddTopic(t, s, "korea", "korea")
	for i := range 50 {
		sub := newSubscription(fmt.Sprint("g", i%5), fmt.Sprint("c", i), topic, "daily 08:00")
		sub.NextSlot, sub.Paused = t0.Add(time.Duration(i)*time.Minute), i%7 == 0
		sub = mustAddSubscription(t, s, sub)
		mustStartDelivery(t, s, digest.Delivery{
			Key: digest.DeliveryKey(sub.ID, t0), SubscriptionID: sub.ID, ChannelID: sub.ChannelID, Slot: t0, Parts: 1,
		})
	}
	tests := []struct {
		name   string
		query  string
		args   []any
		want   []string // plan lines that must appear
		noSort bool     // the plan must not sort
	}{
		{
			name:   "due subscriptions",
			query:  dueQuery,
			args:   []any{t0.Add(time.Hour).UnixMilli()},
			want:   []string{"SEARCH s USING INDEX subscriptions_due (paused=?"},
			noSort: true,
		},
		{
			name:   "a guild's subscriptions",
			query:  `SELECT ` + subscriptionColumns + subscriptionFrom + ` WHERE s.guild_id = $1 ORDER BY s.id`,
			args:   []any{"g1"},
			want:   []string{"SEARCH s USING INDEX subscriptions_guild (guild_id=?)"},
			noSort: true,
		},
		{
			name:  "subscriptions of a topic, paused and orphaned when it is removed",
			query: `UPDATE subscriptions SET topic_id = NULL WHERE topic_id = $1`,
			args:  []any{topic.ID},
			want:  []string{"subscriptions_topic (topic_id=?)"},
		},
		{
			name:  "deliveries of a subscription, for the cascade",
			query: `UPDATE deliveries SET subscription_id = NULL WHERE subscription_id = $1`,
			args:  []any{1},
			want:  []string{"deliveries_subscription_slot (subscription_id=?)"},
		},
		{
			name:  "delivery by key",
			query: `SELECT ` + deliveryColumns + ` FROM deliveries WHERE key = $1`,
			args:  []any{"k"},
			want:  []string{"SEARCH deliveries USING PRIMARY KEY (key=?)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, s, tt.query, tt.args...)
			if strings.Contains(plan, "SCAN ") {
				t.Errorf("plan scans a table:\n%s", plan)
			}
			if tt.noSort && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan sorts:\n%s", plan)
			}
			for _, line := range tt.want {
				if !strings.Contains(plan, line) {
					t.Errorf("plan lacks %q:\n%s", line, plan)
				}
			}
		})
	}
}

// The schema refuses message IDs that are not a JSON array.
func TestMessageIDsCheck(t *testing.T) {
	s := openSQLite(t)
	for _, ids := range []string{"", "{}", `"m0"`, "[", "null"} {
		_, err := s.db.ExecContext(t.Context(), `INSERT INTO deliveries
			(key, channel_id, parts, message_ids, state, created_at, updated_at)
			VALUES ('k', 'c1', 1, $1, 'pending', 0, 0)`, ids)
		if err == nil {
			t.Errorf("message_ids %q: stored", ids)
		}
	}
}

// A delivery's payload (the rendered briefing) comes back byte for byte,
// so a resumed delivery posts exactly the parts it planned.
func TestDeliveryPayloadRoundTrip(t *testing.T) {
	s := openSQLite(t)
	payload := []byte(`[{"content":"part 1"},{"content":"part 2"}]`)
	d, existed, err := s.StartDelivery(t.Context(), digest.Delivery{Key: "k1", ChannelID: "c1", Parts: 2, Payload: payload})
	if err != nil || existed {
		t.Fatalf("StartDelivery: %v, existed %v", err, existed)
	}
	again, existed, err := s.StartDelivery(t.Context(), digest.Delivery{Key: "k1", ChannelID: "c1", Parts: 3, Payload: []byte("other")})
	if err != nil || !existed {
		t.Fatalf("second StartDelivery: %v, existed %v", err, existed)
	}
	for _, got := range []digest.Delivery{d, again} {
		if string(got.Payload) != string(payload) || got.Parts != 2 {
			t.Errorf("payload %q, parts %d; want the first one's", got.Payload, got.Parts)
		}
	}
}

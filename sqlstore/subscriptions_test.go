package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/briefbot/briefbot/digest"
)

// The digest.SubscriptionStore part of the store suite (testStore runs
// them).

// newSubscription returns a subscription of channel in guild to the topic,
// due an hour after t0, not yet stored.
func newSubscription(guild, channel string, topic digest.Topic, schedule string) digest.Subscription {
	return digest.Subscription{
		GuildID:   guild,
		ChannelID: channel,
		TopicID:   topic.ID,
		Topic:     topic.Name,
		Schedule:  schedule,
		TimeZone:  "Asia/Seoul",
		Language:  "ko",
		CatchUp:   digest.CatchUpLate,
		NextSlot:  t0.Add(time.Hour),
		CreatedBy: "user-1",
		CreatedAt: t0,
	}
}

// mustAddSubscription stores sub and returns it as stored.
func mustAddSubscription(t *testing.T, s *Store, sub digest.Subscription) digest.Subscription {
	t.Helper()
	got, err := s.AddSubscription(t.Context(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// subscriptionIDs returns the IDs of subs, in order.
func subscriptionIDs(subs []digest.Subscription) []int64 {
	out := []int64{}
	for _, sub := range subs {
		out = append(out, sub.ID)
	}
	return out
}

// mustStartDelivery starts d, failing the test on error or if its key
// existed.
func mustStartDelivery(t *testing.T, s *Store, d digest.Delivery) digest.Delivery {
	t.Helper()
	got, existed, err := s.StartDelivery(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	if existed {
		t.Fatalf("StartDelivery(%q): key existed", d.Key)
	}
	return got
}

// checkError fails the test unless err is an error wrapping want (any
// error when want is nil) that starts with "sqlstore: " and mentions each
// of mentions.
func checkError(t *testing.T, err, want error, mentions ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("got %v, want %v", err, want)
	}
	if !strings.HasPrefix(err.Error(), "sqlstore: ") {
		t.Errorf("error %q lacks the sqlstore prefix", err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

func testAddSubscription(t *testing.T, s *Store) {
	ctx := t.Context()
	s.Now = func() time.Time { return t0.Add(2 * time.Hour) }
	korea := mustAddTopic(t, s, "korea", "korea")
	seoul := time.FixedZone("KST", 9*3600)
	tests := []struct {
		name string
		sub  digest.Subscription
		want digest.Subscription // ID aside
	}{
		{
			name: "every field",
			sub: digest.Subscription{
				ID: 99, GuildID: "g1", ChannelID: "c1", TopicID: korea.ID, Topic: "ignored",
				Schedule: "daily 08:00", TimeZone: "Asia/Seoul", Language: "ko", CatchUp: digest.CatchUpSkip,
				NextSlot: t0.Add(time.Hour), LastDelivered: t0.Add(-23 * time.Hour),
				Paused: true, PauseReason: "missing access", CreatedBy: "user-1", CreatedAt: t0,
			},
			want: digest.Subscription{
				GuildID: "g1", ChannelID: "c1", TopicID: korea.ID, Topic: "korea",
				Schedule: "daily 08:00", TimeZone: "Asia/Seoul", Language: "ko", CatchUp: digest.CatchUpSkip,
				NextSlot: t0.Add(time.Hour), LastDelivered: t0.Add(-23 * time.Hour),
				Paused: true, PauseReason: "missing access", CreatedBy: "user-1", CreatedAt: t0,
				NothingNew: digest.NothingNewSkip,
			},
		},
		{
			name: "zero times, and created at is now",
			sub: digest.Subscription{
				GuildID: "g1", ChannelID: "c2", TopicID: korea.ID, Schedule: "every 6h", CatchUp: digest.CatchUpLate,
			},
			want: digest.Subscription{
				GuildID: "g1", ChannelID: "c2", TopicID: korea.ID, Topic: "korea", Schedule: "every 6h",
				CatchUp: digest.CatchUpLate, NothingNew: digest.NothingNewSkip, CreatedAt: t0.Add(2 * time.Hour),
			},
		},
		{
			name: "sub-millisecond times in another zone",
			sub: digest.Subscription{
				GuildID: "g1", ChannelID: "c3", TopicID: korea.ID, Schedule: "0 7 * * 1-5", CatchUp: digest.CatchUpLate,
				NextSlot:      t0.Add(1500 * time.Microsecond).In(seoul),
				LastDelivered: t0.Add(-time.Hour + 999*time.Microsecond).In(seoul),
				CreatedAt:     t0.Add(time.Nanosecond).In(seoul),
			},
			want: digest.Subscription{
				GuildID: "g1", ChannelID: "c3", TopicID: korea.ID, Topic: "korea", Schedule: "0 7 * * 1-5",
				CatchUp: digest.CatchUpLate, NextSlot: t0.Add(time.Millisecond), LastDelivered: t0.Add(-time.Hour),
				CreatedAt: t0, NothingNew: digest.NothingNewSkip,
			},
		},
	}
	seen := map[int64]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.AddSubscription(ctx, tt.sub)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == 0 || got.ID == tt.sub.ID || seen[got.ID] {
				t.Errorf("AddSubscription: ID %d (given %d, seen %v)", got.ID, tt.sub.ID, seen)
			}
			seen[got.ID] = true
			want := tt.want
			want.ID = got.ID
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("AddSubscription (-got +want):\n%s", diff)
			}
			read, err := s.Subscription(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(read, want); diff != "" {
				t.Errorf("Subscription (-got +want):\n%s", diff)
			}
		})
	}
}

func testSubscriptionErrors(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	japan := mustAddTopic(t, s, "japan", "japan")
	kept := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	// The same channel and topic on another schedule, and the same channel
	// and schedule for another topic, are other subscriptions.
	kept2 := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 20:00"))
	kept3 := mustAddSubscription(t, s, newSubscription("g1", "c1", japan, "daily 08:00"))

	with := func(change func(sub *digest.Subscription)) digest.Subscription {
		sub := newSubscription("g1", "c9", korea, "daily 09:00")
		change(&sub)
		return sub
	}
	add := func(sub digest.Subscription) func() error {
		return func() error { _, err := s.AddSubscription(ctx, sub); return err }
	}
	tests := []struct {
		name     string
		call     func() error
		wantErr  error    // nil: any error
		mentions []string // what the error must name
	}{
		{"add same channel, topic and schedule", add(newSubscription("g1", "c1", korea, "daily 08:00")),
			digest.ErrExists, []string{`"c1"`, fmt.Sprint("topic id ", korea.ID), `"daily 08:00"`}},
		{"add same channel, topic and schedule from another guild", add(newSubscription("g2", "c1", korea, "daily 08:00")),
			digest.ErrExists, []string{`"c1"`}},
		{"add unknown topic", add(with(func(sub *digest.Subscription) { sub.TopicID = 999 })),
			digest.ErrNotFound, []string{"topic id 999"}},
		{"add empty guild", add(with(func(sub *digest.Subscription) { sub.GuildID = "" })), nil, []string{"guild"}},
		{"add empty channel", add(with(func(sub *digest.Subscription) { sub.ChannelID = "" })), nil, []string{"channel"}},
		{"add empty schedule", add(with(func(sub *digest.Subscription) { sub.Schedule = "" })), nil, []string{"schedule"}},
		{"add empty catch-up", add(with(func(sub *digest.Subscription) { sub.CatchUp = "" })), nil, []string{"catch-up"}},
		{"add unknown catch-up", add(with(func(sub *digest.Subscription) { sub.CatchUp = "twice" })), nil, []string{`"twice"`}},
		{"get missing", func() error { _, err := s.Subscription(ctx, 999); return err },
			digest.ErrNotFound, []string{"subscription id 999"}},
		{"update unknown id", func() error { return s.UpdateSubscription(ctx, digest.Subscription{ID: 999}) },
			digest.ErrNotFound, []string{"subscription id 999"}},
		{"remove unknown id", func() error { return s.RemoveSubscription(ctx, "g1", 999) },
			digest.ErrNotFound, []string{"subscription id 999", `"g1"`}},
		{"remove another guild's subscription", func() error { return s.RemoveSubscription(ctx, "g2", kept.ID) },
			digest.ErrNotFound, []string{fmt.Sprint("subscription id ", kept.ID), `"g2"`}},
		{"remove with no guild", func() error { return s.RemoveSubscription(ctx, "", kept.ID) },
			digest.ErrNotFound, []string{fmt.Sprint("subscription id ", kept.ID)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, tt.call(), tt.wantErr, tt.mentions...)
		})
	}
	got, err := s.Subscriptions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []digest.Subscription{kept, kept2, kept3}); diff != "" {
		t.Errorf("after failed calls, Subscriptions (-got +want):\n%s", diff)
	}
}

func testSubscriptionsByGuild(t *testing.T, s *Store) {
	ctx := t.Context()
	got, err := s.Subscriptions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("empty store: got %d subscriptions, want 0", len(got))
	}
	korea := mustAddTopic(t, s, "korea", "korea")
	japan := mustAddTopic(t, s, "japan", "japan")
	a := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	b := mustAddSubscription(t, s, newSubscription("g2", "c2", korea, "daily 08:00"))
	c := mustAddSubscription(t, s, newSubscription("g1", "c3", japan, "every 6h"))
	tests := []struct {
		guild string
		want  []digest.Subscription
	}{
		{"", []digest.Subscription{a, b, c}},
		{"g1", []digest.Subscription{a, c}},
		{"g2", []digest.Subscription{b}},
		{"g3", nil},
	}
	for _, tt := range tests {
		got, err := s.Subscriptions(ctx, tt.guild)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("Subscriptions(%q) (-got +want):\n%s", tt.guild, diff)
		}
	}
}

func testUpdateSubscription(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	japan := mustAddTopic(t, s, "japan", "japan")
	sub := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	other := mustAddSubscription(t, s, newSubscription("g1", "c2", korea, "daily 08:00"))
	steps := []struct {
		name   string
		change func(sub *digest.Subscription)
		want   func(sub *digest.Subscription) // from the stored subscription
	}{
		{
			name: "delivered",
			change: func(sub *digest.Subscription) {
				sub.LastDelivered, sub.NextSlot = sub.NextSlot, sub.NextSlot.Add(24*time.Hour)
			},
			want: func(sub *digest.Subscription) {
				sub.LastDelivered, sub.NextSlot = t0.Add(time.Hour), t0.Add(25*time.Hour)
			},
		},
		{
			name:   "paused",
			change: func(sub *digest.Subscription) { sub.Paused, sub.PauseReason = true, "missing access" },
			want:   func(sub *digest.Subscription) { sub.Paused, sub.PauseReason = true, "missing access" },
		},
		{
			name:   "resumed",
			change: func(sub *digest.Subscription) { sub.Paused, sub.PauseReason = false, "" },
			want:   func(sub *digest.Subscription) { sub.Paused, sub.PauseReason = false, "" },
		},
		{
			name: "zero times, sub-millisecond times in another zone",
			change: func(sub *digest.Subscription) {
				sub.LastDelivered = time.Time{}
				sub.NextSlot = t0.Add(2500 * time.Microsecond).In(time.FixedZone("EST", -5*3600))
			},
			want: func(sub *digest.Subscription) {
				sub.LastDelivered, sub.NextSlot = time.Time{}, t0.Add(2*time.Millisecond)
			},
		},
		{
			name: "other fields stay",
			change: func(sub *digest.Subscription) {
				sub.GuildID, sub.ChannelID, sub.TopicID, sub.Topic = "g2", "c9", japan.ID, japan.Name
				sub.Schedule, sub.TimeZone, sub.Language, sub.CatchUp = "every 1h", "UTC", "en", digest.CatchUpSkip
				sub.CreatedBy, sub.CreatedAt = "user-2", t0.Add(time.Hour)
			},
			want: func(*digest.Subscription) {},
		},
	}
	want := sub
	for _, st := range steps {
		change := want
		st.change(&change)
		if err := s.UpdateSubscription(ctx, change); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		st.want(&want)
		got, err := s.Subscription(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s: after UpdateSubscription (-got +want):\n%s", st.name, diff)
		}
	}
	got, err := s.Subscription(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, other); diff != "" {
		t.Errorf("other subscription (-got +want):\n%s", diff)
	}
}

func testRemoveSubscription(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	sub := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	other := mustAddSubscription(t, s, newSubscription("g1", "c2", korea, "daily 08:00"))
	d := mustStartDelivery(t, s, digest.Delivery{
		Key: digest.DeliveryKey(sub.ID, t0), SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0, Parts: 1,
	})

	if err := s.RemoveSubscription(ctx, "g2", sub.ID); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("RemoveSubscription from another guild: got %v, want %v", err, digest.ErrNotFound)
	}
	if _, err := s.Subscription(ctx, sub.ID); err != nil {
		t.Errorf("Subscription after removal from another guild: %v", err)
	}
	if err := s.RemoveSubscription(ctx, "g1", sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Subscription(ctx, sub.ID); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("Subscription after remove: got %v, want %v", err, digest.ErrNotFound)
	}
	if err := s.RemoveSubscription(ctx, "g1", sub.ID); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("RemoveSubscription again: got %v, want %v", err, digest.ErrNotFound)
	}
	got, err := s.Subscriptions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []digest.Subscription{other}); diff != "" {
		t.Errorf("Subscriptions after remove (-got +want):\n%s", diff)
	}
	// The delivery stays, as on-demand ones are.
	gotD, err := s.Delivery(ctx, d.Key)
	if err != nil {
		t.Fatal(err)
	}
	d.SubscriptionID = 0
	if diff := cmp.Diff(gotD, d); diff != "" {
		t.Errorf("delivery of the removed subscription (-got +want):\n%s", diff)
	}
	// Its key stays taken.
	if _, existed, err := s.StartDelivery(ctx, digest.Delivery{Key: d.Key, ChannelID: "c1"}); err != nil || !existed {
		t.Errorf("StartDelivery of the old key: existed %v, %v; want true", existed, err)
	}
	again := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	if again.ID == sub.ID {
		t.Errorf("re-added subscription reuses ID %d", sub.ID)
	}
}

func testRemoveTopicSubscriptions(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	japan := mustAddTopic(t, s, "japan", "japan")
	orphan1 := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	orphan2 := mustAddSubscription(t, s, newSubscription("g2", "c2", korea, "every 6h"))
	kept := mustAddSubscription(t, s, newSubscription("g1", "c1", japan, "daily 08:00"))
	d := mustStartDelivery(t, s, digest.Delivery{
		Key: digest.DeliveryKey(orphan1.ID, t0), SubscriptionID: orphan1.ID, ChannelID: "c1", Slot: t0, Parts: 2,
	})

	if err := s.RemoveTopic(ctx, "korea"); err != nil {
		t.Fatal(err)
	}
	// The topic's subscriptions stay, paused with the reason, and keep
	// the topic's name for display.
	for _, sub := range []digest.Subscription{orphan1, orphan2} {
		got, err := s.Subscription(ctx, sub.ID)
		if err != nil {
			t.Fatalf("Subscription %d of the removed topic: %v", sub.ID, err)
		}
		want := sub
		want.TopicID, want.Paused = 0, true
		want.PauseReason = "topic korea was removed; unsubscribe, or subscribe to another topic"
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("subscription of a removed topic (-got +want):\n%s", diff)
		}
	}
	if got, err := s.Subscription(ctx, kept.ID); err != nil || got.Paused {
		t.Errorf("subscription of another topic: %+v, %v", got, err)
	}
	if due, err := s.DueSubscriptions(ctx, t0.Add(1000*time.Hour)); err != nil || len(due) != 1 || due[0].ID != kept.ID {
		t.Errorf("DueSubscriptions after removing a topic: %v, %v; want only %d", due, err, kept.ID)
	}
	gotD, err := s.Delivery(ctx, d.Key)
	if err != nil {
		t.Fatal(err)
	}
	if gotD.SubscriptionID != orphan1.ID {
		t.Errorf("delivery of an orphaned subscription: SubscriptionID %d, want %d", gotD.SubscriptionID, orphan1.ID)
	}
	if err := s.RemoveTopic(ctx, "korea"); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("RemoveTopic again: %v, want %v", err, digest.ErrNotFound)
	}
}

func testDueSubscriptions(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	add := func(channel string, next time.Time, paused bool) int64 {
		sub := newSubscription("g1", channel, korea, "daily 08:00")
		sub.NextSlot, sub.Paused = next, paused
		return mustAddSubscription(t, s, sub).ID
	}
	// Added out of slot order; ties are by ID.
	late := add("late", t0.Add(time.Hour), false)
	now := add("now", t0, false)
	early2 := add("early2", t0.Add(-time.Hour), false)
	early1 := add("early1", t0.Add(-2*time.Hour), false)
	never := add("never scheduled", time.Time{}, false)
	add("paused", t0.Add(-3*time.Hour), true)
	add("paused, never scheduled", time.Time{}, true)
	tie := add("tie", t0.Add(-time.Hour), false)

	tests := []struct {
		name string
		now  time.Time
		want []int64
	}{
		{"long before", t0.Add(-24 * time.Hour), []int64{never}},
		{"just before the earliest", t0.Add(-2*time.Hour - time.Millisecond), []int64{never}},
		{"at the earliest", t0.Add(-2 * time.Hour), []int64{never, early1}},
		{"at a tie", t0.Add(-time.Hour), []int64{never, early1, early2, tie}},
		{"a millisecond before t0", t0.Add(-time.Millisecond), []int64{never, early1, early2, tie}},
		{"sub-millisecond before t0", t0.Add(-time.Microsecond), []int64{never, early1, early2, tie}},
		{"at t0", t0, []int64{never, early1, early2, tie, now}},
		{"at t0 in another zone", t0.In(time.FixedZone("KST", 9*3600)), []int64{never, early1, early2, tie, now}},
		{"later", t0.Add(48 * time.Hour), []int64{never, early1, early2, tie, now, late}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.DueSubscriptions(ctx, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(subscriptionIDs(got), tt.want); diff != "" {
				t.Errorf("DueSubscriptions(%v) IDs (-got +want):\n%s", tt.now, diff)
			}
		})
	}

	// Due subscriptions come back whole, and pausing or rescheduling one
	// takes it out.
	got, err := s.DueSubscriptions(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Subscription(ctx, early1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got[1], want); diff != "" {
		t.Errorf("due subscription (-got +want):\n%s", diff)
	}
	want.Paused = true
	if err := s.UpdateSubscription(ctx, want); err != nil {
		t.Fatal(err)
	}
	rescheduled, err := s.Subscription(ctx, never)
	if err != nil {
		t.Fatal(err)
	}
	rescheduled.NextSlot = t0.Add(time.Minute)
	if err := s.UpdateSubscription(ctx, rescheduled); err != nil {
		t.Fatal(err)
	}
	got, err = s.DueSubscriptions(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(subscriptionIDs(got), []int64{early2, tie, now}); diff != "" {
		t.Errorf("DueSubscriptions after pausing and rescheduling (-got +want):\n%s", diff)
	}
}

func testStartDelivery(t *testing.T, s *Store) {
	ctx := t.Context()
	s.Now = func() time.Time { return t0.Add(time.Minute) }
	korea := mustAddTopic(t, s, "korea", "korea")
	sub := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	tests := []struct {
		name string
		d    digest.Delivery
		want digest.Delivery
	}{
		{
			name: "subscription slot",
			d: digest.Delivery{
				Key: digest.DeliveryKey(sub.ID, t0), SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0, Parts: 3,
			},
			want: digest.Delivery{
				Key: digest.DeliveryKey(sub.ID, t0), SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0, Parts: 3,
				State: digest.DeliveryPending, CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Minute),
			},
		},
		{
			name: "on demand, no slot",
			d:    digest.Delivery{Key: "brief:interaction-1", ChannelID: "c2", Parts: 1},
			want: digest.Delivery{
				Key: "brief:interaction-1", ChannelID: "c2", Parts: 1,
				State: digest.DeliveryPending, CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Minute),
			},
		},
		{
			name: "every field, sub-millisecond times in another zone",
			d: digest.Delivery{
				Key: "k3", SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0.Add(time.Microsecond).In(time.FixedZone("KST", 9*3600)),
				Parts: 2, MessageIDs: []string{"m0"}, State: digest.DeliveryFailed, Error: "missing access",
				CreatedAt: t0.Add(1999 * time.Microsecond), UpdatedAt: t0.Add(time.Second),
			},
			want: digest.Delivery{
				Key: "k3", SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0,
				Parts: 2, MessageIDs: []string{"m0"}, State: digest.DeliveryFailed, Error: "missing access",
				CreatedAt: t0.Add(time.Millisecond), UpdatedAt: t0.Add(time.Second),
			},
		},
		{
			name: "no message ids are nil",
			d:    digest.Delivery{Key: "k4", ChannelID: "c1", Parts: 1, MessageIDs: []string{}, CreatedAt: t0},
			want: digest.Delivery{Key: "k4", ChannelID: "c1", Parts: 1, State: digest.DeliveryPending, CreatedAt: t0, UpdatedAt: t0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, existed, err := s.StartDelivery(ctx, tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if existed {
				t.Error("StartDelivery of a new key: existed")
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("StartDelivery (-got +want):\n%s", diff)
			}
			read, err := s.Delivery(ctx, tt.d.Key)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(read, tt.want); diff != "" {
				t.Errorf("Delivery (-got +want):\n%s", diff)
			}

			// Again, with other fields: the stored delivery is returned
			// and kept.
			s.Now = func() time.Time { return t0.Add(time.Hour) }
			again := digest.Delivery{Key: tt.d.Key, ChannelID: "c9", Parts: 7, State: digest.DeliveryDone}
			got, existed, err = s.StartDelivery(ctx, again)
			if err != nil {
				t.Fatal(err)
			}
			if !existed {
				t.Error("StartDelivery of an existing key: not existed")
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("StartDelivery again (-got +want):\n%s", diff)
			}
			if read, err := s.Delivery(ctx, tt.d.Key); err != nil {
				t.Fatal(err)
			} else if diff := cmp.Diff(read, tt.want); diff != "" {
				t.Errorf("Delivery after starting again (-got +want):\n%s", diff)
			}
			s.Now = func() time.Time { return t0.Add(time.Minute) }
		})
	}
}

func testRecordPart(t *testing.T, s *Store) {
	ctx := t.Context()
	now := t0
	s.Now = func() time.Time { return now }
	d := mustStartDelivery(t, s, digest.Delivery{Key: "k", ChannelID: "c1", Parts: 3})
	other := mustStartDelivery(t, s, digest.Delivery{Key: "other", ChannelID: "c1", Parts: 3})
	steps := []struct {
		name      string
		index     int
		id        string
		wantErr   bool
		mentions  []string // what the error must name
		wantIDs   []string
		updatedAt time.Time // wanted UpdatedAt
	}{
		{name: "first", index: 0, id: "m0", wantIDs: []string{"m0"}, updatedAt: t0.Add(1 * time.Minute)},
		{name: "first again", index: 0, id: "m0", wantIDs: []string{"m0"}, updatedAt: t0.Add(1 * time.Minute)},
		{name: "first as another message", index: 0, id: "x0", wantErr: true,
			mentions: []string{"part 0", `"k"`, `"x0"`, `"m0"`}, wantIDs: []string{"m0"}, updatedAt: t0.Add(1 * time.Minute)},
		{name: "gap", index: 2, id: "m2", wantErr: true,
			mentions: []string{"part 2", `"k"`, "part 1 is not recorded"}, wantIDs: []string{"m0"}, updatedAt: t0.Add(1 * time.Minute)},
		{name: "second", index: 1, id: "m1", wantIDs: []string{"m0", "m1"}, updatedAt: t0.Add(5 * time.Minute)},
		{name: "second again", index: 1, id: "m1", wantIDs: []string{"m0", "m1"}, updatedAt: t0.Add(5 * time.Minute)},
		{name: "first again, later", index: 0, id: "m0", wantIDs: []string{"m0", "m1"}, updatedAt: t0.Add(5 * time.Minute)},
		{name: "second as another message", index: 1, id: "m0", wantErr: true,
			mentions: []string{"part 1", `"m1"`}, wantIDs: []string{"m0", "m1"}, updatedAt: t0.Add(5 * time.Minute)},
		{name: "negative", index: -1, id: "m", wantErr: true,
			mentions: []string{"part -1", "3 parts"}, wantIDs: []string{"m0", "m1"}, updatedAt: t0.Add(5 * time.Minute)},
		{name: "empty id", index: 2, id: "", wantErr: true,
			mentions: []string{"part 2", "empty message id"}, wantIDs: []string{"m0", "m1"}, updatedAt: t0.Add(5 * time.Minute)},
		{name: "third", index: 2, id: "m2", wantIDs: []string{"m0", "m1", "m2"}, updatedAt: t0.Add(11 * time.Minute)},
		{name: "beyond the parts", index: 3, id: "m3", wantErr: true,
			mentions: []string{"part 3", "3 parts"}, wantIDs: []string{"m0", "m1", "m2"}, updatedAt: t0.Add(11 * time.Minute)},
		{name: "third again", index: 2, id: "m2", wantIDs: []string{"m0", "m1", "m2"}, updatedAt: t0.Add(11 * time.Minute)},
	}
	for _, st := range steps {
		now = now.Add(time.Minute)
		err := s.RecordPart(ctx, "k", st.index, st.id)
		if st.wantErr {
			t.Run(st.name, func(t *testing.T) { checkError(t, err, nil, st.mentions...) })
		} else if err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
		got, err := s.Delivery(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		want := d
		want.MessageIDs, want.UpdatedAt = st.wantIDs, st.updatedAt
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s: Delivery (-got +want):\n%s", st.name, diff)
		}
	}
	got, err := s.Delivery(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, other); diff != "" {
		t.Errorf("other delivery (-got +want):\n%s", diff)
	}
}

func testFinishDelivery(t *testing.T, s *Store) {
	ctx := t.Context()
	now := t0
	s.Now = func() time.Time { return now }
	tests := []struct {
		name    string
		state   string
		errText string
	}{
		{"done", digest.DeliveryDone, ""},
		{"failed", digest.DeliveryFailed, "missing access to channel c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = t0
			d := mustStartDelivery(t, s, digest.Delivery{Key: tt.name, ChannelID: "c1", Parts: 2})
			if err := s.RecordPart(ctx, d.Key, 0, "m0"); err != nil {
				t.Fatal(err)
			}
			now = t0.Add(time.Minute)
			if err := s.FinishDelivery(ctx, d.Key, tt.state, tt.errText); err != nil {
				t.Fatal(err)
			}
			got, err := s.Delivery(ctx, d.Key)
			if err != nil {
				t.Fatal(err)
			}
			want := d
			want.MessageIDs = []string{"m0"}
			want.State, want.Error, want.UpdatedAt = tt.state, tt.errText, t0.Add(time.Minute)
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("after FinishDelivery (-got +want):\n%s", diff)
			}
			// A finished delivery's key stays taken.
			got, existed, err := s.StartDelivery(ctx, digest.Delivery{Key: d.Key, ChannelID: "c1", Parts: 2})
			if err != nil {
				t.Fatal(err)
			}
			if !existed {
				t.Error("StartDelivery of a finished delivery's key: not existed")
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("StartDelivery of a finished delivery's key (-got +want):\n%s", diff)
			}
		})
	}
}

func testDeliveryErrors(t *testing.T, s *Store) {
	ctx := t.Context()
	kept := mustStartDelivery(t, s, digest.Delivery{Key: "kept", ChannelID: "c1", Parts: 1})
	start := func(d digest.Delivery) func() error {
		return func() error { _, _, err := s.StartDelivery(ctx, d); return err }
	}
	tests := []struct {
		name     string
		call     func() error
		wantErr  error    // nil: any error
		mentions []string // what the error must name
	}{
		{"start with unknown subscription", start(digest.Delivery{Key: "k", SubscriptionID: 999, ChannelID: "c1", Parts: 1}),
			digest.ErrNotFound, []string{`"k"`, "subscription id 999"}},
		{"start with empty key", start(digest.Delivery{ChannelID: "c1", Parts: 1}), nil, []string{`"c1"`, "empty key"}},
		{"start with empty channel", start(digest.Delivery{Key: "k", Parts: 1}), nil, []string{`"k"`, "empty channel"}},
		{"start with negative parts", start(digest.Delivery{Key: "k", ChannelID: "c1", Parts: -1}), nil, []string{`"k"`, "-1 parts"}},
		{"start with unknown state", start(digest.Delivery{Key: "k", ChannelID: "c1", Parts: 1, State: "posting"}),
			nil, []string{`"k"`, `"posting"`}},
		{"get missing", func() error { _, err := s.Delivery(ctx, "missing"); return err },
			digest.ErrNotFound, []string{`"missing"`}},
		{"record part of missing", func() error { return s.RecordPart(ctx, "missing", 0, "m0") },
			digest.ErrNotFound, []string{`"missing"`}},
		{"finish missing", func() error { return s.FinishDelivery(ctx, "missing", digest.DeliveryDone, "") },
			digest.ErrNotFound, []string{`"missing"`}},
		{"finish as pending", func() error { return s.FinishDelivery(ctx, "kept", digest.DeliveryPending, "") },
			nil, []string{`"kept"`, `"pending"`}},
		{"finish with unknown state", func() error { return s.FinishDelivery(ctx, "kept", "posted", "") },
			nil, []string{`"kept"`, `"posted"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, tt.call(), tt.wantErr, tt.mentions...)
		})
	}
	for _, key := range []string{"k", "missing"} {
		if _, err := s.Delivery(ctx, key); !errors.Is(err, digest.ErrNotFound) {
			t.Errorf("Delivery(%q) after failed calls: got %v, want %v", key, err, digest.ErrNotFound)
		}
	}
	got, err := s.Delivery(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, kept); diff != "" {
		t.Errorf("after failed calls, Delivery (-got +want):\n%s", diff)
	}
}

func testConcurrentStartDelivery(t *testing.T, s *Store) {
	ctx := t.Context()
	const tries = 20
	korea := mustAddTopic(t, s, "korea", "korea")
	sub := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	key := digest.DeliveryKey(sub.ID, t0)
	type result struct {
		stored  digest.Delivery
		existed bool
		err     error
	}
	results := make([]result, tries)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			<-start
			// Each try asks for a different number of parts, to tell
			// which one was stored.
			d := digest.Delivery{Key: key, SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0, Parts: i + 1}
			r := &results[i]
			r.stored, r.existed, r.err = s.StartDelivery(ctx, d)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, r := range results {
		if r.err != nil {
			t.Errorf("try %d: %v", i, r.err)
			continue
		}
		if !r.existed {
			if winner >= 0 {
				t.Errorf("tries %d and %d both recorded the delivery", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no try recorded the delivery")
	}
	want := results[winner].stored
	if want.Parts != winner+1 {
		t.Errorf("winner %d stored %d parts, want %d", winner, want.Parts, winner+1)
	}
	for i, r := range results {
		if diff := cmp.Diff(r.stored, want); r.err == nil && diff != "" {
			t.Errorf("try %d: stored delivery (-got +want):\n%s", i, diff)
		}
	}
	got, err := s.Delivery(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Delivery (-got +want):\n%s", diff)
	}
}

func testAdvanceAndPauseSubscription(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	sub := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "daily 08:00"))
	if err := s.PauseSubscription(ctx, sub.ID, "can't post"); err != nil {
		t.Fatal(err)
	}
	// Advancing after the pause keeps the pause: it writes NextSlot only.
	if err := s.AdvanceSubscription(ctx, sub.ID, t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Subscription(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Paused || got.PauseReason != "can't post" || !got.NextSlot.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("after pause and advance: paused %v %q, next %v", got.Paused, got.PauseReason, got.NextSlot)
	}
	for name, err := range map[string]error{
		"advance": s.AdvanceSubscription(ctx, 999, t0),
		"pause":   s.PauseSubscription(ctx, 999, "x"),
	} {
		if !errors.Is(err, digest.ErrNotFound) {
			t.Errorf("%s unknown subscription: %v, want %v", name, err, digest.ErrNotFound)
		}
	}
}

func testSeenArticles(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	sub := mustAddSubscription(t, s, newSubscription("g1", "c1", korea, "every 6h"))
	other := mustAddSubscription(t, s, newSubscription("g1", "c2", korea, "every 6h"))
	start := func(subID int64, slot time.Time, parts int, articles ...string) string {
		d := mustStartDelivery(t, s, digest.Delivery{
			Key: digest.DeliveryKey(subID, slot), SubscriptionID: subID, ChannelID: "c1", Slot: slot,
			Parts: parts, Articles: articles,
		})
		if diff := cmp.Diff(d.Articles, articles, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("stored articles (-got +want):\n%s", diff)
		}
		return d.Key
	}
	old := start(sub.ID, t0.Add(-48*time.Hour), 1, "a-old")
	done := start(sub.ID, t0, 1, "a1", "a2")
	failed := start(sub.ID, t0.Add(6*time.Hour), 1, "a3")
	start(sub.ID, t0.Add(12*time.Hour), 1, "a4") // pending: will be posted
	empty := start(sub.ID, t0.Add(18*time.Hour), 0)
	start(other.ID, t0, 1, "b1")
	for key, state := range map[string]string{old: digest.DeliveryDone, done: digest.DeliveryDone, failed: digest.DeliveryFailed, empty: digest.DeliveryDone} {
		if err := s.FinishDelivery(ctx, key, state, ""); err != nil {
			t.Fatal(err)
		}
	}
	seen, err := s.SeenArticles(ctx, sub.ID, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seen, map[string]bool{"a1": true, "a2": true, "a4": true}); diff != "" {
		t.Errorf("SeenArticles (-got +want):\n%s", diff)
	}
	// LastDelivered is the latest done delivery that posted something:
	// not the failed one, the pending one, nor the empty one.
	got, err := s.Subscription(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastDelivered.Equal(t0) {
		t.Errorf("LastDelivered = %v, want %v", got.LastDelivered, t0)
	}
	// Finishing an older delivery late never moves it back.
	if err := s.FinishDelivery(ctx, old, digest.DeliveryDone, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Subscription(ctx, sub.ID); !got.LastDelivered.Equal(t0) {
		t.Errorf("LastDelivered after an older delivery = %v, want %v", got.LastDelivered, t0)
	}
}

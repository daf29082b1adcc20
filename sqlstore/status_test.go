package sqlstore

import (
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/google/go-cmp/cmp"
)

// The status queries, on SQLite and (when configured) PostgreSQL.
func TestStatusQueriesSQLite(t *testing.T)   { testStatusQueries(t, openSQLite) }
func TestStatusQueriesPostgres(t *testing.T) { testStatusQueries(t, openPostgres) }

func testStatusQueries(t *testing.T, open func(t *testing.T) *Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"empty database", testStatusEmpty},
		{"upcoming subscriptions", testUpcomingSubscriptions},
		{"recent deliveries", testRecentDeliveries},
		{"llm usage", testLLMUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

func testStatusEmpty(t *testing.T, s *Store) {
	ctx := t.Context()
	if subs, err := s.UpcomingSubscriptions(ctx, 5); err != nil || len(subs) != 0 {
		t.Errorf("UpcomingSubscriptions = %v, %v; want none", subs, err)
	}
	if active, paused, err := s.CountSubscriptions(ctx); err != nil || active != 0 || paused != 0 {
		t.Errorf("CountSubscriptions = %d, %d, %v; want 0, 0", active, paused, err)
	}
	if ds, err := s.RecentDeliveries(ctx, 5); err != nil || len(ds) != 0 {
		t.Errorf("RecentDeliveries = %v, %v; want none", ds, err)
	}
	if us, err := s.LLMUsageSince(ctx, t0); err != nil || len(us) != 0 {
		t.Errorf("LLMUsageSince = %v, %v; want none", us, err)
	}
}

func testUpcomingSubscriptions(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	add := func(channel string, next time.Time, paused bool) int64 {
		return mustAddSubscription(t, s, digest.Subscription{
			GuildID: "g1", ChannelID: channel, TopicID: korea.ID, Schedule: "daily 08:00", TimeZone: "Asia/Seoul",
			CatchUp: digest.CatchUpLate, NextSlot: next, Paused: paused, CreatedAt: t0,
		}).ID
	}
	later := add("c-later", t0.Add(2*time.Hour), false)
	tie1 := add("c-tie1", t0.Add(time.Hour), false)
	add("c-paused", t0.Add(-time.Hour), true)
	never := add("c-never", time.Time{}, false)
	tie2 := add("c-tie2", t0.Add(time.Hour), false)

	ids := func(limit int) []int64 {
		t.Helper()
		subs, err := s.UpcomingSubscriptions(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, sub := range subs {
			if sub.Topic != "korea" || sub.TimeZone != "Asia/Seoul" {
				t.Errorf("subscription %d: topic %q, zone %q", sub.ID, sub.Topic, sub.TimeZone)
			}
			out = append(out, sub.ID)
		}
		return out
	}
	if diff := cmp.Diff(ids(10), []int64{never, tie1, tie2, later}); diff != "" {
		t.Errorf("upcoming (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(ids(2), []int64{never, tie1}); diff != "" {
		t.Errorf("upcoming, limit 2 (-got +want):\n%s", diff)
	}
	if got := ids(0); len(got) != 0 {
		t.Errorf("upcoming, limit 0 = %v", got)
	}
	active, paused, err := s.CountSubscriptions(ctx)
	if err != nil || active != 4 || paused != 1 {
		t.Errorf("CountSubscriptions = %d, %d, %v; want 4, 1", active, paused, err)
	}
}

func testRecentDeliveries(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	sub := mustAddSubscription(t, s, digest.Subscription{
		GuildID: "g1", ChannelID: "c1", TopicID: korea.ID, Schedule: "daily 08:00", TimeZone: "Asia/Seoul",
		CatchUp: digest.CatchUpLate, CreatedAt: t0,
	})
	start := func(d digest.Delivery) {
		t.Helper()
		if _, _, err := s.StartDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	start(digest.Delivery{Key: "sub:old", SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0, Parts: 2,
		Payload: []byte("payload"), Articles: []string{"a1", "a2"}, CreatedAt: t0, UpdatedAt: t0})
	start(digest.Delivery{Key: "sub:quiet", SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0.Add(24 * time.Hour),
		State: digest.DeliveryDone, CreatedAt: t0.Add(24 * time.Hour), UpdatedAt: t0.Add(24 * time.Hour)})
	start(digest.Delivery{Key: "notice:1", ChannelID: "c9", Parts: 1, CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour)})
	// Posting the old one's first part and failing it makes it the most
	// recently updated.
	s.Now = func() time.Time { return t0.Add(48 * time.Hour) }
	if err := s.RecordPart(ctx, "sub:old", 0, "m1"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishDelivery(ctx, "sub:old", digest.DeliveryFailed, "missing access"); err != nil {
		t.Fatal(err)
	}

	got, err := s.RecentDeliveries(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []DeliveryRecord{
		{Delivery: digest.Delivery{Key: "sub:old", SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0, Parts: 2,
			MessageIDs: []string{"m1"}, Articles: []string{"a1", "a2"}, State: digest.DeliveryFailed, Error: "missing access",
			CreatedAt: t0, UpdatedAt: t0.Add(48 * time.Hour)}, GuildID: "g1", Topic: "korea", TimeZone: "Asia/Seoul"},
		{Delivery: digest.Delivery{Key: "sub:quiet", SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0.Add(24 * time.Hour),
			State: digest.DeliveryDone, CreatedAt: t0.Add(24 * time.Hour), UpdatedAt: t0.Add(24 * time.Hour)},
			GuildID: "g1", Topic: "korea", TimeZone: "Asia/Seoul"},
		{Delivery: digest.Delivery{Key: "notice:1", ChannelID: "c9", Parts: 1, State: digest.DeliveryPending,
			CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour)}},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("RecentDeliveries (-got +want):\n%s", diff)
	}
	if got, err := s.RecentDeliveries(ctx, 1); err != nil || len(got) != 1 || got[0].Key != "sub:old" {
		t.Errorf("RecentDeliveries(1) = %v, %v", got, err)
	}

	// A removed topic keeps its name on the subscription; a removed
	// subscription leaves its deliveries without one.
	if err := s.RemoveTopic(ctx, "korea"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RecentDeliveries(ctx, 1); err != nil || got[0].Topic != "korea" {
		t.Errorf("after removing the topic: %+v, %v", got, err)
	}
	if err := s.RemoveSubscription(ctx, "g1", sub.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RecentDeliveries(ctx, 1); err != nil || got[0].Topic != "" || got[0].GuildID != "" || got[0].SubscriptionID != 0 {
		t.Errorf("after removing the subscription: %+v, %v", got, err)
	}
}

func testLLMUsage(t *testing.T, s *Store) {
	ctx := t.Context()
	lastMonth := time.Date(2025, 2, 28, 23, 59, 0, 0, time.UTC)
	march1 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	// 08:30 on March 1st in Seoul is 23:30 on February 28th in UTC, and
	// days are UTC days.
	seoulMarch := time.Date(2025, 3, 1, 8, 30, 0, 0, time.FixedZone("KST", 9*3600))
	record := func(at time.Time, u LLMUsage) {
		t.Helper()
		if err := s.RecordLLMUsage(ctx, at, u); err != nil {
			t.Fatal(err)
		}
	}
	record(lastMonth, LLMUsage{Model: "gpt-x", Calls: 7, PromptTokens: 7000, CompletionTokens: 700})
	record(seoulMarch, LLMUsage{Model: "gpt-x", Calls: 1, PromptTokens: 100, CompletionTokens: 10}) // Feb 28th 23:30 UTC
	record(march1.Add(time.Hour), LLMUsage{Model: "gpt-x", GuildID: "g1", Calls: 1, PromptTokens: 1000, CompletionTokens: 200})
	record(march1.Add(30*time.Hour), LLMUsage{Model: "gpt-x", GuildID: "g1", Calls: 2, FailedCalls: 1, PromptTokens: 500, CompletionTokens: 50})
	record(lastMonth, LLMUsage{Model: "gpt-x", GuildID: "g1", Calls: 1, PromptTokens: 5, CompletionTokens: 5})
	record(march1.Add(2*time.Hour), LLMUsage{Model: "llama3", Calls: 3, PromptTokens: 30, CompletionTokens: 3})

	// Concurrent records add up.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.RecordLLMUsage(ctx, march1.Add(3*time.Hour), LLMUsage{Model: "llama3", GuildID: "g2", Calls: 1, PromptTokens: 10, CompletionTokens: 1}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	got, err := s.LLMUsageSince(ctx, march1.Add(12*time.Hour)) // any time of the day counts the whole day
	if err != nil {
		t.Fatal(err)
	}
	want := []LLMUsage{
		{Model: "gpt-x", Calls: 3, FailedCalls: 1, PromptTokens: 1500, CompletionTokens: 250},
		{Model: "llama3", Calls: 11, PromptTokens: 110, CompletionTokens: 11},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("usage since March 1st (-got +want):\n%s", diff)
	}
	got, err = s.LLMUsageSince(ctx, lastMonth)
	if err != nil || len(got) != 2 || got[0].Calls != 12 || got[0].PromptTokens != 8605 {
		t.Errorf("usage since February 28th = %+v, %v", got, err)
	}
	// Per server: every model, this month's days only.
	for _, c := range []struct {
		guild string
		want  int64
	}{{"g1", 1750}, {"g2", 88}, {"", 33}, {"g3", 0}} {
		if n, err := s.GuildTokensSince(ctx, c.guild, march1); err != nil || n != c.want {
			t.Errorf("GuildTokensSince(%q) = %d, %v; want %d", c.guild, n, err, c.want)
		}
	}
	byGuild, err := s.GuildUsageSince(ctx, march1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(byGuild, []LLMUsage{
		{GuildID: "g1", Calls: 3, FailedCalls: 1, PromptTokens: 1500, CompletionTokens: 250},
		{GuildID: "g2", Calls: 8, PromptTokens: 80, CompletionTokens: 8},
		{GuildID: "", Calls: 3, PromptTokens: 30, CompletionTokens: 3},
	}); diff != "" {
		t.Errorf("usage by server (-got +want):\n%s", diff)
	}
	if err := s.RecordLLMUsage(ctx, march1, LLMUsage{Model: "gpt-x", PromptTokens: -1}); err == nil {
		t.Error("negative tokens recorded")
	}
}

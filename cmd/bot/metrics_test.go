package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
)

// scrape returns the series of a metrics registry.
func scrape(t *testing.T, m *metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	opsHandler(m, nil, secretScrubber(), discardLogger()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	return parseMetrics(t, rec.Body.String())
}

// TestDeliveryOutcomeMetrics drives the scheduled path through each
// delivery outcome: posted on time, posted late, refused by Discord,
// given up as too late, skipped with nothing new; each is counted once,
// and a repeated delivery job counts nothing.
func TestDeliveryOutcomeMetrics(t *testing.T) {
	start := time.Date(2026, 5, 4, 7, 50, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{start: start})
	m := newMetrics("test", 0, 0)
	e.w.metrics = m
	e.article("a1", "North Korea and South Korea hold talks", "Envoys of North Korea and South Korea met in Panmunjom on Monday.", start.Add(-time.Hour), "")

	onTime := e.subscribe("200000000000000041", "daily 08:00", "UTC", nil)
	refused := e.subscribe("200000000000000042", "daily 08:00", "UTC", nil)
	late := e.subscribe("200000000000000043", "daily 09:00", "UTC", nil)
	// Delivered up to 07:50: the article is not new to it at 10:00, and
	// it asked for silence then.
	silent := e.subscribe("200000000000000044", "daily 10:00", "UTC", func(s *digest.Subscription) { s.LastDelivered = start })
	e.srv.Inject("POST /channels/"+refused.ChannelID+"/messages", fakediscord.Fault{Status: http.StatusForbidden, Code: 50001, Message: "Missing Access"})

	e.tick(start)
	e.tick(time.Date(2026, 5, 4, 8, 0, 30, 0, time.UTC)) // posted, and refused
	if err := e.w.Deliver(t.Context(), digest.DeliverJob{SubscriptionID: onTime.ID, Slot: onTime.NextSlot}, 2); err != nil {
		t.Fatal(err) // a repeated job: nothing to post, nothing counted
	}
	e.tick(time.Date(2026, 5, 4, 9, 20, 0, 0, time.UTC))  // posted 20 min late
	e.tick(time.Date(2026, 5, 4, 10, 0, 30, 0, time.UTC)) // skipped

	// A delivery recorded but not posted before the catch-up window
	// ended is given up.
	slot := time.Date(2026, 5, 5, 8, 0, 0, 0, time.UTC)
	d, _, err := e.bot.Record(t.Context(), onTime, slot, digest.Briefing{Stories: []digest.BriefStory{{Story: digest.Story{ID: "s", Articles: []digest.Article{{ID: "a1", Title: "t", URL: "https://wire.example/a1"}}}, Headline: "h", Bullets: []digest.Bullet{{Text: "b", Citations: []int{0}}}}}})
	if err != nil || d.State != digest.DeliveryPending {
		t.Fatalf("record: %v %+v", err, d)
	}
	e.clk.Set(slot.Add(7 * time.Hour))
	if err := e.w.Deliver(t.Context(), digest.DeliverJob{SubscriptionID: onTime.ID, Slot: slot}, 1); err != nil {
		t.Fatal(err)
	}

	got := scrape(t, m)
	want := map[string]float64{
		`briefbot_deliveries_total{outcome="posted"}`:  1,
		`briefbot_deliveries_total{outcome="late"}`:    1,
		`briefbot_deliveries_total{outcome="failed"}`:  2, // refused, and given up
		`briefbot_deliveries_total{outcome="skipped"}`: 1,
	}
	for series, v := range want {
		if got[series] != v {
			t.Errorf("%s = %v, want %v", series, got[series], v)
		}
	}
	for ch, n := range map[string]int{onTime.ChannelID: 1, refused.ChannelID: 0, late.ChannelID: 1, silent.ChannelID: 0} {
		if got := len(e.posts(ch)); got != n {
			t.Errorf("channel %s has %d posts, want %d", ch, got, n)
		}
	}
}

// TestPollOutcomeMetrics: a poll that fails counts as failed, the one
// that disables the source as disabled.
func TestPollOutcomeMetrics(t *testing.T) {
	start := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{start: start, yaml: "fetch:\n  disable_after: 2\n  timeout: 2s\n"})
	m := newMetrics("test", 0, 0)
	e.w.metrics = m
	ctx := t.Context()
	src, err := e.store.AddSource(ctx, digest.Source{Name: "guild-feed", URL: "http://127.0.0.1:9/feed", Interval: 15 * time.Minute, GuildID: schedGuild, Origin: digest.OriginChat})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if src, err = e.store.SourceByID(ctx, src.ID); err != nil {
			t.Fatal(err)
		}
		e.clk.Set(start.Add(time.Duration(i) * 24 * time.Hour))
		if err := e.w.Poll(ctx, digest.PollJob{SourceID: src.ID, Due: src.State.NextPoll}, e.q); err != nil {
			t.Fatal(err)
		}
	}
	got := scrape(t, m)
	for series, v := range map[string]float64{
		`briefbot_polls_total{outcome="failed"}`:   1,
		`briefbot_polls_total{outcome="disabled"}`: 1,
		`briefbot_polls_total{outcome="new"}`:      0,
		`briefbot_articles_ingested_total`:         0,
		`briefbot_poll_duration_seconds_count`:     2,
	} {
		if got[series] != v {
			t.Errorf("%s = %v, want %v", series, got[series], v)
		}
	}
}

// failingSummarizer fails every story with err, or writes no bullet
// when err is nil.
type failingSummarizer struct{ err error }

func (f failingSummarizer) Summarize(ctx context.Context, req digest.SummaryRequest) (digest.Summary, error) {
	return digest.Summary{}, f.err
}

// TestFallbackMetrics: each story the language model could not summarize
// is counted by reason; a cancelled briefing counts nothing.
func TestFallbackMetrics(t *testing.T) {
	m := newMetrics("test", 0, 0)
	req := digest.SummaryRequest{Story: digest.Story{ID: "s"}}
	for _, err := range []error{
		fmt.Errorf("llm: %w", digest.ErrBudgetSpent),
		fmt.Errorf("llm: no reply: %w", context.DeadlineExceeded),
		fmt.Errorf("llm: no reply within 2s (after 3 attempts): %w %w", digest.ErrTransient, context.DeadlineExceeded), // llm's per-call timeout
		fmt.Errorf("llm: 503: %w", digest.ErrTransient),
		errors.New("llm: 401 Unauthorized"),
		nil, // no usable bullet
	} {
		countingSummarizer{failingSummarizer{err}, m}.Summarize(t.Context(), req)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	countingSummarizer{failingSummarizer{context.Canceled}, m}.Summarize(ctx, req)
	got := scrape(t, m)
	for series, v := range map[string]float64{
		`briefbot_llm_fallbacks_total{reason="budget_spent"}`: 1,
		`briefbot_llm_fallbacks_total{reason="timeout"}`:      2,
		`briefbot_llm_fallbacks_total{reason="unavailable"}`:  1,
		`briefbot_llm_fallbacks_total{reason="failed"}`:       2,
	} {
		if got[series] != v {
			t.Errorf("%s = %v, want %v", series, got[series], v)
		}
	}
}

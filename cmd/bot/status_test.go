package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/llm"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/google/go-cmp/cmp"
)

// runStatus runs `briefbot status args...` with the environment env and
// the clock now.
func runStatus(t *testing.T, env map[string]string, now time.Time, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	c := newCLI(t, env)
	c.now = func() time.Time { return now }
	return c.run(append([]string{"status"}, args...)...)
}

// statusNow is the clock of the status tests: 23:00 on March 2nd in
// Seoul.
var statusNow = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

func TestStatusFreshDatabase(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"BRIEFBOT_DATABASE": filepath.Join(dir, "t.db"), "BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml", "sources: []\n")}
	out, _, err := runStatus(t, env, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	want := "Sources: none yet; add one with `briefbot sources add URL` or `briefbot sources import FILE.opml`\n\n" +
		"Next slots: no subscriptions yet; subscribe a channel with /subscribe in Discord\n\n" +
		"Last deliveries: none yet\n\n" +
		"LLM spend, March 2026: none; no language model is configured (OPENAI_API_KEY or llm.base_url), so briefings use the extractive summarizer\n"
	if diff := cmp.Diff(out, want); diff != "" {
		t.Errorf("status of a fresh database (-got +want):\n%s", diff)
	}

	out, _, err = runStatus(t, env, statusNow, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"failing_sources": []`, `"next_slots": []`, `"last_deliveries": []`, `"models": []`,
		`"total": 0`, `"configured": false`, `"since": "2026-03-01T00:00:00Z"`} {
		if !strings.Contains(out, want) {
			t.Errorf("json lacks %s:\n%s", want, out)
		}
	}

	env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
	env["BRIEFBOT_MODEL"] = "tiny"
	if out, _, err := runStatus(t, env, statusNow); err != nil || !strings.Contains(out, "LLM spend, March 2026 (UTC): nothing recorded yet (model tiny)") {
		t.Errorf("status with a model and no calls: %v\n%s", err, out)
	}
	if _, _, err := runStatus(t, env, statusNow, "--format", "yaml"); err == nil || !strings.Contains(err.Error(), "bad --format") {
		t.Errorf("--format yaml: %v", err)
	}
	if _, _, err := runStatus(t, env, statusNow, "--slots", "-1"); err == nil {
		t.Error("--slots -1 accepted")
	}
}

// seedStatus fills a database with sources in each state, subscriptions,
// deliveries of each outcome and language-model calls.
func seedStatus(t *testing.T, path string) {
	t.Helper()
	ctx := t.Context()
	store, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := statusNow
	store.Now = func() time.Time { return now }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		name string
		st   digest.FetchState
	}{
		{"herald", digest.FetchState{LastSuccess: now.Add(-10 * time.Minute), NextPoll: now.Add(5 * time.Minute)}},
		{"fresh", digest.FetchState{}},
		{"wire", digest.FetchState{Failures: 2, LastError: "sources: GET https://wire.example/rss: 503 Service Unavailable",
			LastSuccess: now.Add(-3 * time.Hour), NextPoll: now.Add(-time.Minute)}},
		{"analysis", digest.FetchState{Failures: 4, LastError: "sources: GET https://analysis.example/feed: dial tcp: i/o timeout",
			LastSuccess: now.Add(-50 * time.Hour), NextPoll: now.Add(2*time.Hour + 30*time.Minute)}},
		{"gone", digest.FetchState{Failures: 10, Disabled: true, LastError: "disabled after 10 consecutive failures; last error: 404 Not Found"}},
	} {
		src, err := store.AddSource(ctx, digest.Source{Name: s.name, URL: "https://user:secret@" + s.name + ".example/rss",
			Interval: 15 * time.Minute, Origin: digest.OriginCLI, CreatedAt: now.Add(-100 * time.Hour)})
		must(err)
		must(store.SaveFetchState(ctx, src.ID, s.st))
	}
	korea, err := store.AddTopic(ctx, digest.Topic{Name: "korea", Query: "korea", Origin: digest.OriginCLI, CreatedAt: now})
	must(err)
	sub := func(channel, zone string, next time.Time, paused bool) digest.Subscription {
		s, err := store.AddSubscription(ctx, digest.Subscription{GuildID: "100", ChannelID: channel, TopicID: korea.ID,
			Schedule: "daily 08:00", TimeZone: zone, CatchUp: digest.CatchUpLate, NextSlot: next, Paused: paused, CreatedAt: now})
		must(err)
		return s
	}
	seoul := sub("201", "Asia/Seoul", time.Date(2026, 3, 3, 8, 0, 0, 0, zone("Asia/Seoul")), false)
	sub("202", "Europe/Berlin", time.Time{}, false)
	sub("203", "UTC", now.Add(time.Hour), true)

	slot := func(daysAgo int) time.Time { return time.Date(2026, 3, 2-daysAgo, 8, 0, 0, 0, zone("Asia/Seoul")) }
	deliver := func(d digest.Delivery, parts []string, state, errText string, at time.Time) {
		t.Helper()
		now = d.CreatedAt
		_, _, err := store.StartDelivery(ctx, d)
		must(err)
		now = at
		for i, id := range parts {
			must(store.RecordPart(ctx, d.Key, i, id))
		}
		if state != "" {
			must(store.FinishDelivery(ctx, d.Key, state, errText))
		}
	}
	key := func(s time.Time) string { return digest.DeliveryKey(seoul.ID, s) }
	deliver(digest.Delivery{Key: key(slot(2)), SubscriptionID: seoul.ID, ChannelID: "201", Slot: slot(2), Parts: 3,
		Articles: []string{"a", "b", "c"}, CreatedAt: slot(2)}, []string{"m1"}, digest.DeliveryFailed, "discord: 403 Forbidden: Missing Access", slot(2).Add(time.Minute))
	deliver(digest.Delivery{Key: key(slot(1)), SubscriptionID: seoul.ID, ChannelID: "201", Slot: slot(1), State: digest.DeliveryDone,
		CreatedAt: slot(1)}, nil, "", "", slot(1))
	deliver(digest.Delivery{Key: key(slot(0)), SubscriptionID: seoul.ID, ChannelID: "201", Slot: slot(0), Parts: 2,
		Articles: []string{"d", "e"}, CreatedAt: slot(0)}, []string{"m2", "m3"}, digest.DeliveryDone, "", slot(0).Add(2*time.Second))
	deliver(digest.Delivery{Key: "notice:source-disabled:5:1:201", ChannelID: "201", Parts: 1, CreatedAt: statusNow.Add(-time.Hour)},
		nil, "", "", statusNow.Add(-time.Hour))
	// A /brief preview posted with its button.
	deliver(digest.Delivery{Key: "brief:0123456789abcdefghijklmnop:1", ChannelID: "201", Parts: 2, Articles: []string{"a", "d"}, CreatedAt: statusNow.Add(-30 * time.Minute)},
		[]string{"m4", "m5"}, digest.DeliveryDone, "", statusNow.Add(-30*time.Minute))
	now = statusNow

	// Calls as llm.Config.OnCall reports them, after run's metrics: two
	// this month, one failed, and one last month.
	at := statusNow
	var metered int
	a := &app{now: func() time.Time { return at }, onLLMCall: func(context.Context, llm.Call) { metered++ }}
	a.recordLLMUsage(ctx, &Config{LLM: LLMConfig{Model: "tiny"}}, store, slog.New(slog.DiscardHandler))
	record := func(c llm.Call) { a.onLLMCall(withGuild(ctx, "100"), c) }
	record(llm.Call{Outcome: llm.CallOK, PromptTokens: 1200, CompletionTokens: 150, Duration: time.Second})
	record(llm.Call{Outcome: llm.CallOK, PromptTokens: 800, CompletionTokens: 90})
	record(llm.Call{Outcome: llm.CallRateLimited})
	at = time.Date(2026, 2, 27, 12, 0, 0, 0, time.UTC)
	record(llm.Call{Outcome: llm.CallOK, PromptTokens: 99999, CompletionTokens: 9999})
	if metered != 4 {
		t.Errorf("the earlier onLLMCall saw %d calls, want 4", metered)
	}
}

func TestStatus(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	seedStatus(t, db)
	env := map[string]string{"BRIEFBOT_DATABASE": db, "BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml", "sources: []\nllm:\n  guild_monthly_tokens: 2000\n  input_price_per_million: 2.5\n  output_price_per_million: 10\n"),
		"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "BRIEFBOT_MODEL": "tiny"}

	out, _, err := runStatus(t, env, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "status.text.golden")
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(out, string(want)); diff != "" {
		t.Errorf("status (-got +want; go test -update to accept):\n%s", diff)
	}
	if strings.Contains(out, "secret") {
		t.Errorf("status shows a source URL's password:\n%s", out)
	}

	out, _, err = runStatus(t, env, statusNow, "--format", "json", "--slots", "1", "--deliveries", "3")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "secret") {
		t.Errorf("status json shows a source URL's password:\n%s", out)
	}
	var got statusReport
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if diff := cmp.Diff(got.Sources, sourceCounts{Total: 5, OK: 1, New: 1, Failing: 1, BackingOff: 1, Disabled: 1}); diff != "" {
		t.Errorf("source counts (-got +want):\n%s", diff)
	}
	var failing []string
	for _, f := range got.Failing {
		failing = append(failing, f.Name+":"+f.State)
	}
	if diff := cmp.Diff(failing, []string{"wire:failing", "analysis:backing_off", "gone:disabled"}); diff != "" {
		t.Errorf("failing sources (-got +want):\n%s", diff)
	}
	if got.Subscriptions != (subscriptionInfo{Active: 2, Paused: 1}) || len(got.NextSlots) != 1 || got.NextSlots[0].ChannelID != "202" || got.NextSlots[0].Slot != nil {
		t.Errorf("subscriptions %+v, next slots %+v: want the never-scheduled one first", got.Subscriptions, got.NextSlots)
	}
	var outcomes []string
	for _, d := range got.LastDeliveries {
		outcomes = append(outcomes, d.Kind+":"+d.Outcome)
	}
	if diff := cmp.Diff(outcomes, []string{"brief:posted", "notice:posting", "briefing:posted"}); diff != "" {
		t.Errorf("last deliveries (-got +want):\n%s", diff)
	}
	if d := got.LastDeliveries[2]; d.Parts != 2 || d.PartsPosted != 2 || d.Articles != 2 || d.Topic != "korea" || d.Slot == nil || d.Slot.Format("15:04 -0700") != "08:00 +0900" {
		t.Errorf("posted delivery = %+v", d)
	}
	wantLLM := llmSpend{Configured: true, Model: "tiny", Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Calls: 3, FailedCalls: 1, PromptTokens: 2000, CompletionTokens: 240,
		Models:           []llmModel{{Model: "tiny", Calls: 3, FailedCalls: 1, PromptTokens: 2000, CompletionTokens: 240}},
		EstimatedCostUSD: new(0.0074), GuildMonthlyTokens: 2000,
		Guilds: []llmGuild{{GuildID: "100", Calls: 3, Tokens: 2240, Spent: true}}}
	if diff := cmp.Diff(got.LLM, wantLLM); diff != "" {
		t.Errorf("llm spend (-got +want):\n%s", diff)
	}
}

func TestUntil(t *testing.T) {
	now := statusNow
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "due now"}, {0, "due now"}, {30 * time.Second, "in <1m"}, {59 * time.Minute, "in 59m"},
		{9*time.Hour + 5*time.Minute, "in 9h05m"}, {72 * time.Hour, "in 3d"},
	} {
		if got := until(now, now.Add(tt.d)); got != tt.want {
			t.Errorf("until(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

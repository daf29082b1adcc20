package main

import (
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/jobs"
)

// startJobs runs the real job queue (River on the test's database) for
// the environment's handler, ticking every 200 ms on the injected clock.
// It returns the queue and a kill func that abandons it as kill -9 would:
// its connections close first, so nothing more is recorded.
func (e *schedEnv) startJobs() (*jobs.Queue, func()) {
	e.t.Helper()
	cfg := jobs.Config{
		Tick: 200 * time.Millisecond, PollInterval: 50 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond,
		RescueAfter: 2 * time.Second, Log: slog.New(slog.DiscardHandler),
	}
	var (
		q    *jobs.Queue
		kill func()
		err  error
	)
	if isPostgres(e.cfg.Database) {
		q, err = jobs.NewPostgres(e.t.Context(), e.cfg.Database, e.w, cfg)
		kill = func() { q.Kill() }
	} else {
		var db *sql.DB
		db, _, err = e.store.JobsDB(e.t.Context())
		if err == nil {
			e.t.Cleanup(func() { db.Close() })
			if err = jobs.Migrate(e.t.Context(), db); err == nil {
				q, err = jobs.New(db, e.w, cfg)
			}
		}
		kill = func() { db.Close(); q.Kill() }
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if err := q.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { q.Stop(5 * time.Second) })
	return q, kill
}

// waitUntil polls cond for up to limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScheduleDiscordOutage: Discord fails every post for ten minutes
// around a slot; the briefing is posted once when it is back, marked
// late, and nothing is lost.
func TestScheduleDiscordOutage(t *testing.T) { forEachDatabase(t, testScheduleDiscordOutage) }

func testScheduleDiscordOutage(t *testing.T, db func(*testing.T) string) {
	slot := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: slot.Add(-time.Minute)})
	e.article("a1", "North Korea and US envoys meet in Stockholm", "Envoys from North Korea and the United States met in Stockholm on Monday. The talks lasted eight hours.", slot.Add(-2*time.Hour), "")
	sub := e.subscribe("200000000000000081", "daily 08:00", "UTC", nil)
	const faults = 24 // six failed delivery attempts of four tries each
	for range faults {
		e.srv.Inject("POST /channels/*/messages", fakediscord.Fault{Status: 503})
	}
	e.startJobs()
	e.clk.Set(slot.Add(30 * time.Second))
	waitUntil(t, 20*time.Second, "the first failed post", func() bool { return e.srv.PendingFaults() < faults })
	e.clk.Set(slot.Add(10 * time.Minute)) // the outage lasts ten minutes
	waitUntil(t, 60*time.Second, "the post after the outage", func() bool { return len(e.srv.Messages(sub.ChannelID)) > 0 })
	time.Sleep(time.Second) // nothing more arrives
	msgs := e.srv.Messages(sub.ChannelID)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Content, "Late:") || !strings.Contains(string(msgs[0].Raw), "wire.example/a1") {
		t.Fatalf("after the outage: %d messages (%q), want the briefing once, marked late", len(msgs), msgs[0].Content)
	}
	if n := e.srv.PendingFaults(); n != 0 {
		t.Errorf("%d faults never reached: the delivery gave up early", n)
	}
	d := e.deliveryAt(sub, "2026-05-04T08:00")
	if d.State != digest.DeliveryDone || len(d.MessageIDs) != 1 {
		t.Errorf("delivery %s with %d parts recorded", d.State, len(d.MessageIDs))
	}
}

// TestScheduleKillDuringDelivery kills the queue while a part is on its
// way to Discord (the message is created, the answer never read) and
// starts a new one on the same database: the slot is posted exactly once.
func TestScheduleKillDuringDelivery(t *testing.T) { forEachDatabase(t, testScheduleKillDuringDelivery) }

func testScheduleKillDuringDelivery(t *testing.T, db func(*testing.T) string) {
	slot := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: slot.Add(-time.Minute)})
	e.article("a1", "North Korea and US envoys meet in Stockholm", "Envoys from North Korea and the United States met in Stockholm on Monday. The talks lasted eight hours.", slot.Add(-2*time.Hour), "")
	sub := e.subscribe("200000000000000091", "daily 08:00", "UTC", nil)
	e.srv.Inject("POST /channels/*/messages", fakediscord.Fault{Delay: 1500 * time.Millisecond})
	_, kill := e.startJobs()
	e.clk.Set(slot.Add(30 * time.Second))
	// The fake holds the post back 1.5 s; kill while it is held.
	waitUntil(t, 20*time.Second, "the delivery to be recorded", func() bool {
		_, err := e.store.Delivery(t.Context(), "sub:1:2026-05-04T08:00")
		return err == nil
	})
	// 1 s: the post is held 1.5 s, and under load it may leave up to 1 s
	// after the delivery is recorded.
	time.Sleep(time.Second)
	kill() // the process dies: nothing more is recorded
	waitUntil(t, 20*time.Second, "the delayed message to be created", func() bool { return len(e.srv.Messages(sub.ChannelID)) == 1 })
	d := e.deliveryAt(sub, "2026-05-04T08:00")
	if d.State != digest.DeliveryPending || len(d.MessageIDs) != 0 {
		t.Fatalf("after the kill: delivery %s with %d parts recorded, want pending with none", d.State, len(d.MessageIDs))
	}

	e.startJobs() // the restart: River rescues the job after RescueAfter
	waitUntil(t, 90*time.Second, "the rescued delivery to finish", func() bool {
		d, err := e.store.Delivery(t.Context(), d.Key)
		return err == nil && d.State == digest.DeliveryDone
	})
	if n := len(e.srv.Messages(sub.ChannelID)); n != 1 {
		t.Errorf("%d messages after the restart, want exactly 1", n)
	}
	if n := len(e.srv.RequestsTo("POST /channels/*/messages")); n != 1 {
		t.Errorf("%d message posts, want 1 (the restart finds the part instead of posting it again)", n)
	}
}

// TestPollDisablesSourceWithNotice: a guild's source that keeps failing
// is disabled, and the guild's subscription channels hear of it once.
func TestPollDisablesSourceWithNotice(t *testing.T) {
	forEachDatabase(t, testPollDisablesSourceWithNotice)
}

func testPollDisablesSourceWithNotice(t *testing.T, db func(*testing.T) string) {
	start := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: start, yaml: "fetch:\n  disable_after: 2\n  timeout: 2s\n"})
	ctx := t.Context()
	// A chat-added feed on a private address: every poll is refused.
	src, err := e.store.AddSource(ctx, digest.Source{Name: "guild-feed", URL: "http://127.0.0.1:9/feed", Interval: 15 * time.Minute, GuildID: schedGuild, Origin: digest.OriginChat})
	if err != nil {
		t.Fatal(err)
	}
	a := e.subscribe("200000000000000101", "daily 09:00", "UTC", nil)
	e.subscribe("200000000000000101", "daily 18:00", "UTC", nil) // same channel: one notice
	b := e.subscribe("200000000000000102", "daily 09:00", "UTC", nil)
	for i := range 3 {
		src, err = e.store.SourceByID(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Set(start.Add(time.Duration(i) * 24 * time.Hour))
		if err := e.w.Poll(ctx, digest.PollJob{SourceID: src.ID, Due: src.State.NextPoll}, e.q); err != nil {
			t.Fatal(err)
		}
	}
	src, _ = e.store.SourceByID(ctx, src.ID)
	if !src.State.Disabled {
		t.Fatalf("source not disabled after failures: %+v", src.State)
	}
	for _, ch := range []string{a.ChannelID, b.ChannelID} {
		msgs := e.srv.Messages(ch)
		if len(msgs) != 1 || !strings.Contains(msgs[0].Content, "stopped polling the source **guild-feed** after 2 failed polls") {
			t.Errorf("channel %s: %d messages %v, want one notice", ch, len(msgs), msgs)
		}
	}
}

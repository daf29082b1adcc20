package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/internal/fakeopenai"
	"github.com/briefbot/briefbot/schedule"
	"github.com/briefbot/briefbot/sqlstore"
)

// schedEnv runs the scheduled-briefing path with an injected clock: the
// real store, schedule, digest pipeline and Discord bot against the fake
// Discord, with the job handler driven by an inline queue (each job runs
// as it is enqueued) so that every tick is deterministic.
type schedEnv struct {
	t      *testing.T
	clk    *clock
	srv    *fakediscord.Server
	store  *sqlstore.Store
	cfg    *Config
	w      *work
	q      *inlineQueue
	topic  digest.Topic
	source digest.Source
	llm    *fakeopenai.Server
	bot    *discord.Bot
}

const schedGuild = "100000000000000001"

type schedOptions struct {
	db    string // "" for SQLite in a temporary directory, or a postgres:// URL
	start time.Time
	llm   bool
	yaml  string // more config
}

func newSchedEnv(t *testing.T, opts schedOptions) *schedEnv {
	t.Helper()
	e := &schedEnv{t: t, clk: &clock{now: opts.start}, q: &inlineQueue{t: t}}
	e.srv = fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: []string{schedGuild}})
	dir := t.TempDir()
	database := opts.db
	if database == "" {
		database = filepath.Join(dir, "b.db")
	}
	yaml := fmt.Sprintf("database: %q\nsources: []\ntopics:\n  - name: korea-talks\n    query: korea\nschedule:\n  min_interval: 1m\n%s",
		database, opts.yaml)
	if opts.llm {
		e.llm = fakeopenai.New(t)
		yaml += fmt.Sprintf("llm:\n  base_url: %s\n  model: test-model\n", e.llm.URL())
	}
	env := map[string]string{"BRIEFBOT_CONFIG": writeFile(t, dir, "briefbot.yaml", yaml), "DISCORD_TOKEN": "tok", "BRIEFBOT_DISCORD_API_URL": e.srv.URL()}
	a := &app{getenv: func(k string) string { return env[k] }, stdout: io.Discard, stderr: io.Discard, now: e.clk.Now}
	ctx := t.Context()
	cfg, store, err := a.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	store.Now = e.clk.Now
	e.cfg, e.store = cfg, store
	if e.topic, err = store.Topic(ctx, "korea-talks"); err != nil {
		t.Fatal(err)
	}
	if e.source, err = store.AddSource(ctx, digest.Source{Name: "wire", URL: "https://wire.example/feed", Interval: 15 * time.Minute, Origin: digest.OriginConfig}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a.recordLLMUsage(ctx, cfg, store, log) // as run does
	poller, err := newPoller(ctx, cfg, store, log, e.clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	builder, err := a.builder(cfg, store, log)
	if err != nil {
		t.Fatal(err)
	}
	svc := &service{cfg: cfg, store: store, poller: poller, builder: builder, now: e.clk.Now, log: log, minInterval: cfg.Schedule.minInterval}
	e.bot = e.newBot(svc, log)
	e.w = &work{cfg: cfg, store: store, poller: poller, svc: svc, bot: e.bot, now: e.clk.Now, log: log}
	e.q.w = e.w
	return e
}

// newBot connects a bot to the fake Discord until the test ends.
func (e *schedEnv) newBot(svc *service, log *slog.Logger) *discord.Bot {
	e.t.Helper()
	bot, err := discord.New(discord.Config{
		Token: "tok", APIURL: e.srv.URL(), Transport: e.srv.Client().Transport, Now: e.clk.Now,
		LateAfter: schedule.LateAfter, RetryWait: 20 * time.Millisecond,
	}, e.store, svc, log)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := bot.Run(ctx); err != nil {
			e.t.Errorf("bot: %v", err)
		}
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := e.srv.WaitReady(wctx); err != nil {
		e.t.Fatal(err)
	}
	for len(e.srv.Commands("")) == 0 && wctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	return bot
}

// subscribe adds a subscription of a channel as /subscribe does: its
// first slot is the schedule's next after now.
func (e *schedEnv) subscribe(channel, spec, zone string, edit func(*digest.Subscription)) digest.Subscription {
	e.t.Helper()
	e.srv.AddChannel(fakediscord.Channel{ID: channel, GuildID: schedGuild, Name: "news-" + channel[len(channel)-2:]})
	sch, err := schedule.ParseWith(spec, zone, schedule.ParseOptions{MinInterval: time.Minute})
	if err != nil {
		e.t.Fatal(err)
	}
	sub := digest.Subscription{GuildID: schedGuild, ChannelID: channel, TopicID: e.topic.ID, Schedule: spec, TimeZone: zone,
		CatchUp: digest.CatchUpLate, NextSlot: sch.Next(e.clk.Now())}
	if edit != nil {
		edit(&sub)
	}
	sub, err = e.store.AddSubscription(e.t.Context(), sub)
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// article stores an article of the topic.
func (e *schedEnv) article(id, title, text string, published time.Time, dupOf string) {
	e.t.Helper()
	a := digest.Article{
		ID: id, SourceID: e.source.ID, Outlet: "Wire " + id, URL: "https://wire.example/" + id, Title: title, Text: text,
		Published: published, Fetched: published.Add(time.Minute), ContentHash: digest.ContentHash(title, text), DuplicateOf: dupOf,
	}
	if err := e.store.InsertArticle(e.t.Context(), a); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.SetArticleTopics(e.t.Context(), id, []int64{e.topic.ID}); err != nil {
		e.t.Fatal(err)
	}
}

// tick sets the clock and runs the tick, with every job it causes.
func (e *schedEnv) tick(at time.Time) {
	e.t.Helper()
	e.clk.Set(at)
	if err := e.w.Tick(e.t.Context(), e.q); err != nil {
		e.t.Fatalf("tick at %v: %v", at, err)
	}
}

// walk ticks every step from from (inclusive) to to (exclusive).
func (e *schedEnv) walk(from, to time.Time, step time.Duration) {
	e.t.Helper()
	for at := from; at.Before(to); at = at.Add(step) {
		e.tick(at)
	}
}

// posts returns the contents of the messages posted to a channel.
func (e *schedEnv) posts(channel string) []string {
	var out []string
	for _, m := range e.srv.Messages(channel) {
		out = append(out, m.Content+string(m.Raw))
	}
	return out
}

// deliveryAt returns the delivery of a subscription's local slot time
// ("2026-03-08T03:00"), failing the test if there is none.
func (e *schedEnv) deliveryAt(sub digest.Subscription, local string) digest.Delivery {
	e.t.Helper()
	key := fmt.Sprintf("sub:%d:%s", sub.ID, local)
	d, err := e.store.Delivery(e.t.Context(), key)
	if err != nil {
		e.t.Fatalf("delivery %s: %v", key, err)
	}
	return d
}

// forEachDatabase runs f on SQLite, and on PostgreSQL when
// BRIEFBOT_TEST_DATABASE_URL names one; db returns a new, empty database
// each time it is called ("" for SQLite in a temporary directory, or a
// postgres:// URL of a schema of its own).
func forEachDatabase(t *testing.T, f func(t *testing.T, db func(*testing.T) string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, func(*testing.T) string { return "" }) })
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("BRIEFBOT_TEST_DATABASE_URL")
		if base == "" {
			t.Skip("BRIEFBOT_TEST_DATABASE_URL is not set: PostgreSQL is not tested")
		}
		f(t, func(t *testing.T) string { return postgresSchema(t, base) })
	})
}

// inlineQueue runs each job as it is enqueued, counting them. It is the
// queue for deterministic tests; the jobs package's own tests (and the
// end-to-end test) cover River's retries, uniqueness and rescue.
type inlineQueue struct {
	t *testing.T
	w *work

	mu                      sync.Mutex
	polls, builds, delivers int
	buildJobs               []digest.BuildJob
}

func (q *inlineQueue) EnqueuePoll(ctx context.Context, j digest.PollJob) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.polls++ // not run: the tests' source is not fetchable
	return nil
}

func (q *inlineQueue) EnqueueBuild(ctx context.Context, j digest.BuildJob) error {
	q.mu.Lock()
	q.builds++
	q.buildJobs = append(q.buildJobs, j)
	q.mu.Unlock()
	return q.w.Build(ctx, j, q)
}

func (q *inlineQueue) EnqueueDeliver(ctx context.Context, j digest.DeliverJob) error {
	q.mu.Lock()
	q.delivers++
	q.mu.Unlock()
	if err := q.w.Deliver(ctx, j, 1); err != nil {
		q.t.Errorf("deliver %+v: %v", j, err)
	}
	return nil
}

func (q *inlineQueue) EnqueueNotice(ctx context.Context, j digest.NoticeJob) error {
	return q.w.Notice(ctx, j, 1)
}

func nothingNew(s *digest.Subscription) { s.NothingNew = digest.NothingNewPost }

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestScheduleDailyInThreeZones walks three days in 10-minute ticks: each
// channel gets one post a day, at 08:00 in its own zone.
func TestScheduleDailyInThreeZones(t *testing.T) { forEachDatabase(t, testScheduleDailyInThreeZones) }

func testScheduleDailyInThreeZones(t *testing.T, db func(*testing.T) string) {
	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: start})
	zones := map[string]string{"200000000000000011": "Asia/Seoul", "200000000000000012": "Europe/Berlin", "200000000000000013": "America/New_York"}
	subs := map[string]digest.Subscription{}
	for ch, zone := range zones {
		subs[ch] = e.subscribe(ch, "daily 08:00", zone, nothingNew)
	}
	e.walk(start, start.Add(72*time.Hour), 10*time.Minute)
	for ch, zone := range zones {
		loc := mustZone(t, zone)
		posts := e.posts(ch)
		var want []string
		for d := time.Date(2026, 1, 10, 8, 0, 0, 0, loc); d.Before(start.Add(72 * time.Hour)); d = d.AddDate(0, 0, 1) {
			if !d.Before(start) {
				want = append(want, d.Format("2006-01-02T15:04"))
			}
		}
		if len(posts) != len(want) {
			t.Errorf("%s: %d posts, want %d (%v)", zone, len(posts), len(want), want)
		}
		for _, local := range want {
			d := e.deliveryAt(subs[ch], local)
			slot := d.Slot.In(loc)
			if slot.Hour() != 8 || slot.Minute() != 0 || d.CreatedAt.Sub(d.Slot) > 10*time.Minute || d.CreatedAt.Before(d.Slot) {
				t.Errorf("%s: delivery %s at %v for slot %v", zone, d.Key, d.CreatedAt, slot)
			}
			if d.State != digest.DeliveryDone || d.Parts != 1 {
				t.Errorf("%s: delivery %s %s with %d parts", zone, d.Key, d.State, d.Parts)
			}
		}
		for _, p := range posts {
			if !strings.Contains(p, "Nothing new on korea-talks") || strings.Contains(p, "Late:") {
				t.Errorf("%s: post %q, want an on-time nothing-new line", zone, p)
			}
		}
	}
}

// TestScheduleAcrossDST: on the day clocks spring forward a 02:30 slot is
// posted once at 03:00; on the day they fall back a 01:30 slot is posted
// once, at its first occurrence.
func TestScheduleAcrossDST(t *testing.T) { forEachDatabase(t, testScheduleAcrossDST) }

func testScheduleAcrossDST(t *testing.T, db func(*testing.T) string) {
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		name, spec string
		start      time.Time
		want       []string // local slot keys
	}{
		{"spring forward", "daily 02:30", time.Date(2026, 3, 7, 0, 0, 0, 0, ny), []string{"2026-03-07T02:30", "2026-03-08T03:00", "2026-03-09T02:30"}},
		{"fall back", "daily 01:30", time.Date(2026, 10, 31, 0, 0, 0, 0, ny), []string{"2026-10-31T01:30", "2026-11-01T01:30", "2026-11-02T01:30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSchedEnv(t, schedOptions{db: db(t), start: tt.start})
			sub := e.subscribe("200000000000000021", tt.spec, "America/New_York", nothingNew)
			e.walk(tt.start, tt.start.Add(72*time.Hour), 5*time.Minute)
			if n := len(e.posts(sub.ChannelID)); n != len(tt.want) {
				t.Errorf("%d posts, want %d", n, len(tt.want))
			}
			for _, local := range tt.want {
				d := e.deliveryAt(sub, local)
				if d.CreatedAt.Sub(d.Slot) > 5*time.Minute || d.CreatedAt.Before(d.Slot) {
					t.Errorf("delivery %s posted at %v for slot %v", d.Key, d.CreatedAt.In(ny), d.Slot.In(ny))
				}
			}
		})
	}
}

// TestScheduleCatchUp: after 3 hours down, a late subscription gets its
// missed slot once, marked late, and a skip one gets nothing; after 3
// days down only the newest slot counts, and only if within the window.
func TestScheduleCatchUp(t *testing.T) { forEachDatabase(t, testScheduleCatchUp) }

func testScheduleCatchUp(t *testing.T, db func(*testing.T) string) {
	start := time.Date(2026, 5, 4, 7, 50, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: start})
	late := e.subscribe("200000000000000031", "daily 08:00", "UTC", nothingNew)
	skip := e.subscribe("200000000000000032", "daily 08:00", "UTC", func(s *digest.Subscription) { nothingNew(s); s.CatchUp = digest.CatchUpSkip })
	e.tick(start)
	// Down from 07:50 to 11:00: the 08:00 slot is 3 hours late.
	e.tick(time.Date(2026, 5, 4, 11, 0, 0, 0, time.UTC))
	e.tick(time.Date(2026, 5, 4, 11, 1, 0, 0, time.UTC))
	if p := e.posts(late.ChannelID); len(p) != 1 || !strings.Contains(p[0], "Late:") {
		t.Errorf("late policy after 3 h: posts %q, want one marked late", p)
	}
	if p := e.posts(skip.ChannelID); len(p) != 0 {
		t.Errorf("skip policy after 3 h: posts %q, want none", p)
	}
	// Down from 11:01 to three days later at 10:00: three slots were
	// missed; only the newest (2 h late, within 6 h) is posted, once.
	e.tick(time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC))
	e.tick(time.Date(2026, 5, 7, 10, 30, 0, 0, time.UTC))
	if p := e.posts(late.ChannelID); len(p) != 2 || !strings.Contains(p[1], "Late:") {
		t.Errorf("late policy after 3 days: %d posts, want 2", len(p))
	} else {
		e.deliveryAt(late, "2026-05-07T08:00")
	}
	// Down from 10:30 to three days later at 16:00: 8 h after the newest
	// slot, beyond the 6 h window: nothing, and the next day is on time.
	e.tick(time.Date(2026, 5, 10, 16, 0, 0, 0, time.UTC))
	e.walk(time.Date(2026, 5, 11, 7, 50, 0, 0, time.UTC), time.Date(2026, 5, 11, 8, 30, 0, 0, time.UTC), 5*time.Minute)
	if p := e.posts(late.ChannelID); len(p) != 3 || strings.Contains(p[2], "Late:") {
		t.Errorf("after a long outage: %d posts, want 3 with the last on time", len(p))
	}
	if p := e.posts(skip.ChannelID); len(p) != 1 || strings.Contains(p[0], "Late:") {
		t.Errorf("skip policy: %d posts, want only the on-time one", len(p))
	}
}

// TestScheduleClockJumps: a clock that jumps back and forth never posts a
// slot twice.
func TestScheduleClockJumps(t *testing.T) { forEachDatabase(t, testScheduleClockJumps) }

func testScheduleClockJumps(t *testing.T, db func(*testing.T) string) {
	start := time.Date(2026, 5, 4, 7, 55, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: start})
	sub := e.subscribe("200000000000000041", "daily 08:00", "UTC", nothingNew)
	for _, at := range []time.Time{
		start, start.Add(10 * time.Minute), // 08:05: posted
		start.Add(-2 * time.Hour), start, // back to 05:55, then 07:55
		start.Add(10 * time.Minute), start.Add(15 * time.Minute), // 08:05 again
	} {
		e.tick(at)
	}
	if n := len(e.posts(sub.ChannelID)); n != 1 {
		t.Errorf("%d posts after the clock jumped back, want 1", n)
	}
}

// TestScheduleWhatsNew: the second briefing carries only what the channel
// has not seen: a story it received comes back only with its new article,
// marked as an update; a slot with nothing new posts nothing by default.
func TestScheduleWhatsNew(t *testing.T) { forEachDatabase(t, testScheduleWhatsNew) }

func testScheduleWhatsNew(t *testing.T, db func(*testing.T) string) {
	day1 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: day1})
	quiet := e.subscribe("200000000000000051", "daily 08:00", "UTC", nil)
	talk := "Envoys from North Korea and the United States met in Stockholm on Monday for the first working-level nuclear talks since the Hanoi summit collapsed. The meeting lasted more than eight hours at a villa outside the city."
	e.article("a1", "North Korea and US envoys meet in Stockholm", talk, day1.Add(6*time.Hour), "")
	e.walk(day1.Add(7*time.Hour), day1.Add(9*time.Hour), 10*time.Minute)
	first := e.posts(quiet.ChannelID)
	if len(first) == 0 || !strings.Contains(strings.Join(first, ""), "wire.example/a1") {
		t.Fatalf("first briefing lacks a1: %q", first)
	}
	// A wire copy of the same story from another outlet, and a new story.
	e.article("a2", "North Korea says Stockholm talks with US broke down", talk+" Pyongyang's negotiator said the talks had broken down.", day1.Add(20*time.Hour), "a1")
	e.article("b1", "North Korea fires a ballistic missile into the sea", "North Korea fired a short-range ballistic missile into the sea off its east coast on Tuesday, South Korea's military said. It flew about 600 kilometres.", day1.Add(21*time.Hour), "")
	e.walk(day1.Add(31*time.Hour), day1.Add(33*time.Hour), 10*time.Minute)
	all := e.posts(quiet.ChannelID)
	second := strings.Join(all[len(first):], "")
	for _, want := range []string{"Update:", "wire.example/a2", "wire.example/b1"} {
		if !strings.Contains(second, want) {
			t.Errorf("second briefing lacks %q:\n%s", want, second)
		}
	}
	if strings.Contains(second, "wire.example/a1") {
		t.Errorf("second briefing cites a1 again, which the channel saw:\n%s", second)
	}
	if strings.Contains(second, "eight hours") {
		t.Errorf("the update repeats what the channel was told:\n%s", second)
	}
	// Day 3: nothing new, so nothing posted.
	e.walk(day1.Add(55*time.Hour), day1.Add(57*time.Hour), 10*time.Minute)
	if n := len(e.posts(quiet.ChannelID)); n != len(all) {
		t.Errorf("a slot with nothing new posted %d messages", n-len(all))
	}
	d := e.deliveryAt(quiet, "2026-03-04T08:00")
	if d.State != digest.DeliveryDone || d.Parts != 0 {
		t.Errorf("empty slot recorded as %s with %d parts", d.State, d.Parts)
	}
}

// TestScheduleSharedBuild: twenty channels subscribed to one topic on one
// schedule cost one build and one language model call per story.
func TestScheduleSharedBuild(t *testing.T) { forEachDatabase(t, testScheduleSharedBuild) }

func testScheduleSharedBuild(t *testing.T, db func(*testing.T) string) {
	day := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: day, llm: true})
	e.article("a1", "North Korea and US envoys meet in Stockholm", "Envoys from North Korea and the United States met in Stockholm on Monday for nuclear talks. The meeting lasted eight hours.", day.Add(-time.Hour), "")
	e.article("b1", "North Korea fires a ballistic missile into the sea", "North Korea fired a short-range ballistic missile into the sea off its east coast on Monday. It flew about 600 kilometres.", day.Add(-2*time.Hour), "")
	for range 10 {
		e.llm.Enqueue(fakeopenai.Response{Func: fakeopenai.FirstSentence})
	}
	var subs []digest.Subscription
	for i := range 20 {
		subs = append(subs, e.subscribe(fmt.Sprintf("2000000000000001%02d", i), "daily 08:00", "UTC", nil))
	}
	e.walk(day, day.Add(90*time.Minute), 5*time.Minute)
	if e.q.builds != 1 || len(e.q.buildJobs[0].Subscriptions) != 20 {
		t.Errorf("%d builds, want 1 for all 20 subscriptions", e.q.builds)
	}
	if n := e.llm.Calls(); n != 2 {
		t.Errorf("%d language model calls, want 2 (one per story)", n)
	}
	for _, sub := range subs {
		posts := e.posts(sub.ChannelID)
		if len(posts) != 1 || !strings.Contains(posts[0], "wire.example/a1") || !strings.Contains(posts[0], "wire.example/b1") {
			t.Errorf("channel %s: %d posts, want one briefing of both stories", sub.ChannelID, len(posts))
		}
	}
}

// TestScheduleTopicRemoved: a subscription whose topic is removed is
// paused with the reason, not crashed, and posts nothing.
func TestScheduleTopicRemoved(t *testing.T) { forEachDatabase(t, testScheduleTopicRemoved) }

func testScheduleTopicRemoved(t *testing.T, db func(*testing.T) string) {
	start := time.Date(2026, 5, 4, 7, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: start})
	sub := e.subscribe("200000000000000061", "daily 08:00", "UTC", nothingNew)
	if err := e.store.RemoveTopic(t.Context(), "korea-talks"); err != nil {
		t.Fatal(err)
	}
	e.walk(start, start.Add(2*time.Hour), 10*time.Minute)
	got, err := e.store.Subscription(t.Context(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Paused || !strings.Contains(got.PauseReason, "korea-talks was removed") {
		t.Errorf("subscription of a removed topic: paused %v, reason %q", got.Paused, got.PauseReason)
	}
	if n := len(e.posts(sub.ChannelID)); n != 0 {
		t.Errorf("%d posts for a removed topic", n)
	}
}

// TestScheduleBadStoredSchedule: a schedule that no longer parses (say,
// tighter than a lowered min_interval raised again) pauses its
// subscription with the reason.
func TestScheduleBadStoredSchedule(t *testing.T) { forEachDatabase(t, testScheduleBadStoredSchedule) }

func testScheduleBadStoredSchedule(t *testing.T, db func(*testing.T) string) {
	start := time.Date(2026, 5, 4, 7, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: start})
	sub := e.subscribe("200000000000000071", "every 5m", "UTC", nil)
	e.cfg.Schedule.minInterval = time.Hour
	e.tick(start.Add(10 * time.Minute))
	got, err := e.store.Subscription(t.Context(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Paused || !strings.Contains(got.PauseReason, "bad schedule") || !strings.Contains(got.PauseReason, "minimum is 1h") {
		t.Errorf("paused %v, reason %q", got.Paused, got.PauseReason)
	}
}

// TestScheduleBuildGivesUpPastWindow: a build still failing past the
// catch-up window records each channel's slot as failed instead of
// losing it quietly.
func TestScheduleBuildGivesUpPastWindow(t *testing.T) {
	forEachDatabase(t, testScheduleBuildGivesUpPastWindow)
}

func testScheduleBuildGivesUpPastWindow(t *testing.T, db func(*testing.T) string) {
	slot := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{db: db(t), start: slot.Add(-time.Minute)})
	sub := e.subscribe("200000000000000111", "daily 08:00", "UTC", nil)
	e.clk.Set(slot.Add(7 * time.Hour))
	if err := e.w.Build(t.Context(), digest.BuildJob{TopicID: e.topic.ID, GuildID: schedGuild, Slot: slot, Subscriptions: []int64{sub.ID}}, e.q); err != nil {
		t.Fatal(err)
	}
	d := e.deliveryAt(sub, "2026-05-04T08:00")
	if d.State != digest.DeliveryFailed || !strings.Contains(d.Error, "not built within 6h of its slot") {
		t.Errorf("slot past the window: %s %q, want failed with the reason", d.State, d.Error)
	}
	if n := len(e.posts(sub.ChannelID)); n != 0 {
		t.Errorf("%d posts for a given-up slot", n)
	}
}

package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sqlstore"
)

// recordingHandler records every call; fail makes a kind fail its first
// attempts, block holds a delivery until released.
type recordingHandler struct {
	mu       sync.Mutex
	ticks    int
	polls    []digest.PollJob
	builds   []digest.BuildJob
	delivers []deliverCall
	notices  []digest.NoticeJob

	failDeliver int                // attempts of each delivery that fail
	panicBuild  bool               // the first build attempt panics
	block       chan struct{}      // when set, Deliver waits for it to close
	started     chan struct{}      // signalled when a blocked Deliver starts
	onTick      func(digest.Queue) // called by Tick
}

type deliverCall struct {
	job     digest.DeliverJob
	attempt int
}

func (h *recordingHandler) Tick(ctx context.Context, q digest.Queue) error {
	h.mu.Lock()
	h.ticks++
	f := h.onTick
	h.mu.Unlock()
	if f != nil {
		f(q)
	}
	return nil
}

func (h *recordingHandler) Poll(ctx context.Context, j digest.PollJob, q digest.Queue) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.polls = append(h.polls, j)
	return nil
}

func (h *recordingHandler) Build(ctx context.Context, j digest.BuildJob, q digest.Queue) error {
	h.mu.Lock()
	h.builds = append(h.builds, j)
	first := len(h.builds) == 1
	h.mu.Unlock()
	if first && h.panicBuild {
		panic("build exploded")
	}
	for _, id := range j.Subscriptions {
		if err := q.EnqueueDeliver(ctx, digest.DeliverJob{SubscriptionID: id, Slot: j.Slot}); err != nil {
			return err
		}
	}
	return nil
}

func (h *recordingHandler) Deliver(ctx context.Context, j digest.DeliverJob, attempt int) error {
	h.mu.Lock()
	h.delivers = append(h.delivers, deliverCall{j, attempt})
	block, started := h.block, h.started
	h.mu.Unlock()
	if block != nil {
		started <- struct{}{}
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if attempt <= h.failDeliver {
		return errors.New("discord is down")
	}
	return nil
}

func (h *recordingHandler) Notice(ctx context.Context, j digest.NoticeJob, attempt int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notices = append(h.notices, j)
	return nil
}

func (h *recordingHandler) snapshot() (ticks int, builds []digest.BuildJob, delivers []deliverCall) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ticks, append([]digest.BuildJob(nil), h.builds...), append([]deliverCall(nil), h.delivers...)
}

// backend makes queues on one database of the test's own, as several
// processes would open it.
type backend struct {
	// start returns a started queue and a kill func that abandons it as
	// kill -9 would: its connections are closed first, so nothing more is
	// recorded and its running jobs stay marked running.
	start func(h Handler, cfg Config) (q *Queue, kill func())
}

// forEachBackend runs f on SQLite, and on PostgreSQL when
// BRIEFBOT_TEST_DATABASE_URL names one.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteBackend(t)) })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("BRIEFBOT_TEST_DATABASE_URL")
		if url == "" {
			t.Skip("BRIEFBOT_TEST_DATABASE_URL is not set: the PostgreSQL queue is not tested")
		}
		f(t, postgresBackend(t, url))
	})
}

func sqliteBackend(t *testing.T) backend {
	dir := t.TempDir()
	return backend{start: func(h Handler, cfg Config) (*Queue, func()) {
		db := openDB(t, dir)
		q := startQueue(t, h, cfg, func(cfg Config) (*Queue, error) { return New(db, h, cfg) })
		return q, func() { db.Close(); q.Kill() }
	}}
}

func postgresBackend(t *testing.T, base string) backend {
	// A schema of the test's own: River's tables are created in it.
	schema := fmt.Sprintf("jobs_test_%d", time.Now().UnixNano())
	pool, err := pgxpool.New(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		pool.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	return backend{start: func(h Handler, cfg Config) (*Queue, func()) {
		q := startQueue(t, h, cfg, func(cfg Config) (*Queue, error) { return NewPostgres(t.Context(), dsn, h, cfg) })
		return q, q.Kill
	}}
}

// openDB returns a River-migrated SQLite database in dir.
func openDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	store, err := sqlstore.Open(t.Context(), filepath.Join(dir, "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db, _, err := store.JobsDB(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := Migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(t.Context(), db); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	return db
}

func startQueue(t *testing.T, h Handler, cfg Config, newQueue func(Config) (*Queue, error)) *Queue {
	t.Helper()
	if cfg.Tick == 0 {
		cfg.Tick = time.Hour // ticks only at start unless a test asks
	}
	cfg.PollInterval = 50 * time.Millisecond
	cfg.MaxRetryDelay = 100 * time.Millisecond
	cfg.Log = slog.New(slog.DiscardHandler)
	q, err := newQueue(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second) // River's rescuer runs every 30 s
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var slot = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func TestBuildThenDeliverOnceEach(t *testing.T) { forEachBackend(t, testBuildThenDeliverOnceEach) }

func testBuildThenDeliverOnceEach(t *testing.T, b backend) {
	h := &recordingHandler{failDeliver: 2, panicBuild: true}
	q, _ := b.start(h, Config{})
	defer q.Stop(5 * time.Second)
	ctx := t.Context()
	build := digest.BuildJob{TopicID: 1, GuildID: "g", Slot: slot, Subscriptions: []int64{1, 2}}
	for range 3 { // a crash-and-retick enqueues again: nothing changes
		if err := q.EnqueueBuild(ctx, build); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.EnqueueDeliver(ctx, digest.DeliverJob{SubscriptionID: 1, Slot: slot.In(time.FixedZone("KST", 9*3600))}); err != nil {
		t.Fatal(err)
	}
	// Each delivery fails twice (an outage), then succeeds on attempt 3.
	waitFor(t, "both deliveries to succeed", func() bool {
		_, _, d := h.snapshot()
		return len(d) == 6
	})
	time.Sleep(300 * time.Millisecond) // no late extra attempt
	_, builds, delivers := h.snapshot()
	if len(builds) != 2 {
		t.Errorf("build ran %d times, want 2 (a panic, then its retry)", len(builds))
	}
	attempts := map[int64][]int{}
	for _, d := range delivers {
		attempts[d.job.SubscriptionID] = append(attempts[d.job.SubscriptionID], d.attempt)
		if !d.job.Slot.Equal(slot) {
			t.Errorf("delivery slot %v, want %v", d.job.Slot, slot)
		}
	}
	for _, id := range []int64{1, 2} {
		if got := attempts[id]; len(got) != 3 || got[0] != 1 || got[2] != 3 {
			t.Errorf("subscription %d delivery attempts %v, want [1 2 3]", id, got)
		}
	}
	counts, err := q.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["deliver_briefing"]["completed"] != 2 || counts["build_briefing"]["completed"] != 1 {
		t.Errorf("job counts %v", counts)
	}
}

func TestTickEnqueuesAndRepeats(t *testing.T) { forEachBackend(t, testTickEnqueuesAndRepeats) }

func testTickEnqueuesAndRepeats(t *testing.T, b backend) {
	h := &recordingHandler{}
	h.onTick = func(q digest.Queue) {
		// Every tick asks for the same poll: it runs once.
		if err := q.EnqueuePoll(context.Background(), digest.PollJob{SourceID: 7, Due: slot}); err != nil {
			t.Error(err)
		}
	}
	q, _ := b.start(h, Config{Tick: time.Second})
	defer q.Stop(5 * time.Second)
	waitFor(t, "three ticks", func() bool { n, _, _ := h.snapshot(); return n >= 3 })
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.polls) != 1 || h.polls[0].SourceID != 7 || !h.polls[0].Due.Equal(slot) {
		t.Errorf("polls %v, want one of source 7", h.polls)
	}
}

// TestRestartRescuesAKilledJob stops a client while a delivery is running,
// as a kill would, without letting it finish; a new client on the same
// database runs it again, as a later attempt.
func TestRestartRescuesAKilledJob(t *testing.T) { forEachBackend(t, testRestartRescuesAKilledJob) }

func testRestartRescuesAKilledJob(t *testing.T, b backend) {
	h := &recordingHandler{block: make(chan struct{}), started: make(chan struct{}, 10)}
	q, kill := b.start(h, Config{RescueAfter: 2 * time.Second})
	if err := q.EnqueueDeliver(t.Context(), digest.DeliverJob{SubscriptionID: 3, Slot: slot}); err != nil {
		t.Fatal(err)
	}
	<-h.started
	kill()
	time.Sleep(2500 * time.Millisecond) // stuck for longer than RescueAfter

	h2 := &recordingHandler{}
	q2, _ := b.start(h2, Config{RescueAfter: 2 * time.Second})
	defer q2.Stop(5 * time.Second)
	waitFor(t, "the rescued delivery", func() bool { _, _, d := h2.snapshot(); return len(d) == 1 })
	_, _, d := h2.snapshot()
	if d[0].attempt < 2 || d[0].job.SubscriptionID != 3 {
		t.Errorf("rescued delivery %+v, want subscription 3 on a later attempt", d[0])
	}
}

func TestStopDrainsRunningJobs(t *testing.T) { forEachBackend(t, testStopDrainsRunningJobs) }

func testStopDrainsRunningJobs(t *testing.T, b backend) {
	h := &recordingHandler{block: make(chan struct{}), started: make(chan struct{}, 10)}
	q, _ := b.start(h, Config{})
	if err := q.EnqueueDeliver(t.Context(), digest.DeliverJob{SubscriptionID: 1, Slot: slot}); err != nil {
		t.Fatal(err)
	}
	<-h.started
	go func() {
		time.Sleep(300 * time.Millisecond)
		close(h.block)
	}()
	start := time.Now()
	if err := q.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("Stop returned after %v, before the running job finished", d)
	}
	// A later process sees the job completed, not left to be rescued.
	q2, _ := b.start(&recordingHandler{}, Config{})
	defer q2.Stop(5 * time.Second)
	counts, err := q2.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := counts["deliver_briefing"]; got["completed"] != 1 || len(got) != 1 {
		t.Errorf("drained job states %v, want one completed", got)
	}
}

// TestPostgresReplicasMigrateTogether opens several queues on a new
// PostgreSQL schema at once, as replicas starting together do.
func TestPostgresReplicasMigrateTogether(t *testing.T) {
	url := os.Getenv("BRIEFBOT_TEST_DATABASE_URL")
	if url == "" {
		t.Skip("BRIEFBOT_TEST_DATABASE_URL is not set: the PostgreSQL queue is not tested")
	}
	b := postgresBackend(t, url)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, _ := b.start(&recordingHandler{}, Config{})
			q.Stop(5 * time.Second)
		}()
	}
	wg.Wait()
}

// Package jobs runs briefbot's durable work on River: the schedule tick,
// source polls, briefing builds, deliveries and notices. Jobs live in the
// configured database, so a restart, a crash or a kill -9 loses nothing
// that was enqueued; River retries failed jobs with backoff, recovers
// panics, enforces uniqueness and elects the one leader that runs the
// tick.
//
// The package knows River and digest only. What a job does is the
// Handler's business (cmd/bot wires it); this package decides when, how
// often, how many at once, and how retries back off.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Handler does the work of each job kind. An error fails the attempt and
// the job is retried with backoff (see the kinds' retry rules on New); a
// handler that gives up for good records why and returns nil. A panic is
// recovered and counts as a failed attempt.
type Handler interface {
	// Tick runs on the leader every Config.Tick: it enqueues the polls and
	// builds that are due.
	Tick(ctx context.Context, q digest.Queue) error
	// Poll polls one source. Fetch failures are the source's own state
	// (backoff, disable), not errors; an error means the poll could not be
	// recorded.
	Poll(ctx context.Context, j digest.PollJob, q digest.Queue) error
	// Build records the deliveries of a slot's subscriptions and enqueues
	// them.
	Build(ctx context.Context, j digest.BuildJob, q digest.Queue) error
	// Deliver posts a recorded delivery's missing parts. attempt counts
	// from 1; a later attempt follows a failure or a crash, after which a
	// part may have been posted without being recorded.
	Deliver(ctx context.Context, j digest.DeliverJob, attempt int) error
	// Notice posts a notice once; attempt is as for Deliver.
	Notice(ctx context.Context, j digest.NoticeJob, attempt int) error
}

// Config tunes the queue. Zero fields take the defaults given.
type Config struct {
	// Tick is how often the leader runs Handler.Tick (default 30s).
	Tick time.Duration
	// Polls is how many sources are polled at once (default 8).
	Polls int
	// Workers is how many builds, deliveries and notices run at once
	// (default 4).
	Workers int
	// RescueAfter is how long a job may stay running before it is taken
	// for dead (its process killed) and run again (default 10m). Every
	// kind's timeout is below it.
	RescueAfter time.Duration
	// MaxRetryDelay caps the backoff between attempts of a build or a
	// delivery (default 1m), so a delivery is retried soon after an
	// outage ends.
	MaxRetryDelay time.Duration
	// PollInterval is how often idle workers look for new jobs
	// (default 1s).
	PollInterval time.Duration
	Log          *slog.Logger
	// OnStart, if not nil, is told when a job attempt starts: its kind
	// and how long it waited since it was scheduled to run (its enqueue,
	// or its retry time). It must be quick and safe for concurrent use.
	OnStart func(kind string, wait time.Duration)
}

func (c Config) withDefaults() Config {
	if c.Tick <= 0 {
		c.Tick = 30 * time.Second
	}
	if c.Polls <= 0 {
		c.Polls = 8
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = 10 * time.Minute
	}
	if c.MaxRetryDelay <= 0 {
		c.MaxRetryDelay = time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Queue names: polls cannot crowd out deliveries, nor anything the tick.
const (
	queueTick = "tick"
	queuePoll = "poll"
	queueWork = river.QueueDefault
)

// Queue is a River client on the configured database. It implements
// digest.Queue.
type Queue struct {
	client riverClient
	cfg    Config
	close  func() // releases what New* opened, after Stop
}

// riverClient is what Queue uses of a River client, whatever its driver.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

var _ digest.Queue = (*Queue)(nil)

// Migrate brings River's tables in db (a SQLite database) up to date. It
// is safe to run on every start.
func Migrate(ctx context.Context, db *sql.DB) error {
	return migrate(ctx, riversqlite.New(db))
}

func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

// New returns a queue on db, a SQLite database whose River tables
// Migrate has created, that runs jobs with h once started.
//
// Retry rules: a poll is tried 3 times (the source's own backoff handles
// failing feeds); a build, a delivery and a notice until the handler
// gives up (it knows the catch-up window); backoff doubles from
// 1s up to Config.MaxRetryDelay. The tick is not retried: the next tick
// comes anyway.
func New(db *sql.DB, h Handler, cfg Config) (*Queue, error) {
	q := &Queue{cfg: cfg.withDefaults(), close: func() {}}
	client, err := river.NewClient(riversqlite.New(db), q.riverConfig(h))
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q.client = client
	return q, nil
}

// NewPostgres returns a queue on the PostgreSQL database at dsn (a
// postgres:// URL), with a connection pool of its own, River's tables
// migrated, and the retry rules of New. Every replica on one database
// shares its jobs: any replica runs any job, one leader runs the tick,
// and uniqueness holds across replicas.
func NewPostgres(ctx context.Context, dsn string, h Handler, cfg Config) (*Queue, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("jobs: open PostgreSQL: %w", redactDSN(err, dsn))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("jobs: open PostgreSQL: %w", redactDSN(err, dsn))
	}
	driver := riverpgxv5.New(pool)
	if err := migrateLocked(ctx, pool, driver); err != nil {
		pool.Close()
		return nil, err
	}
	q := &Queue{cfg: cfg.withDefaults(), close: pool.Close}
	client, err := river.NewClient(driver, q.riverConfig(h))
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q.client = client
	return q, nil
}

// migrateLock is the advisory lock key under which replicas starting at
// once take turns migrating River's tables.
const migrateLock = 0x62726965665f6a6f // "brief_jo"

// migrateLocked runs River's migrations holding a session advisory lock,
// so that replicas starting together do not apply them twice.
func migrateLocked(ctx context.Context, pool *pgxpool.Pool, driver *riverpgxv5.Driver) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("jobs: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock))
	return migrate(ctx, driver)
}

// redactDSN keeps a connection string's password out of an error.
func redactDSN(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

// riverConfig is the River configuration of every queue: workers, queues,
// the periodic tick, retries and timeouts.
func (q *Queue) riverConfig(h Handler) *river.Config {
	cfg := q.cfg
	timeout := func(d time.Duration) time.Duration { return min(d, cfg.RescueAfter*9/10) }
	backoff := func(attempt int) time.Time {
		d := time.Second << min(max(attempt-1, 0), 16) // the rescuer may ask with attempt 0
		return time.Now().Add(min(d, cfg.MaxRetryDelay))
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &worker[tickArgs]{timeout: timeout(time.Minute), retry: backoff, onStart: cfg.OnStart, work: func(ctx context.Context, _ tickArgs, _ int) error {
		return h.Tick(ctx, q)
	}})
	river.AddWorker(workers, &worker[pollArgs]{timeout: timeout(5 * time.Minute), retry: backoff, onStart: cfg.OnStart, work: func(ctx context.Context, a pollArgs, _ int) error {
		return h.Poll(ctx, a.PollJob, q)
	}})
	river.AddWorker(workers, &worker[buildArgs]{timeout: timeout(5 * time.Minute), retry: backoff, onStart: cfg.OnStart, work: func(ctx context.Context, a buildArgs, _ int) error {
		return h.Build(ctx, a.BuildJob, q)
	}})
	river.AddWorker(workers, &worker[deliverArgs]{timeout: timeout(2 * time.Minute), retry: backoff, onStart: cfg.OnStart, work: func(ctx context.Context, a deliverArgs, attempt int) error {
		return h.Deliver(ctx, a.DeliverJob, attempt)
	}})
	river.AddWorker(workers, &worker[noticeArgs]{timeout: timeout(time.Minute), retry: backoff, onStart: cfg.OnStart, work: func(ctx context.Context, a noticeArgs, attempt int) error {
		return h.Notice(ctx, a.NoticeJob, attempt)
	}})
	tick := river.NewPeriodicJob(river.PeriodicInterval(cfg.Tick), func() (river.JobArgs, *river.InsertOpts) {
		return tickArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: max(cfg.Tick, time.Second)}}
	}, &river.PeriodicJobOpts{ID: "tick", RunOnStart: true})
	return &river.Config{
		Queues: map[string]river.QueueConfig{
			queueTick: {MaxWorkers: 1},
			queuePoll: {MaxWorkers: cfg.Polls},
			queueWork: {MaxWorkers: cfg.Workers},
		},
		Workers:              workers,
		PeriodicJobs:         []*river.PeriodicJob{tick},
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           timeout(time.Minute),
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(100*time.Millisecond, cfg.PollInterval),
		ErrorHandler:         errorLogger{cfg.Log},
		Logger:               cfg.Log.With("component", "river"),
	}
}

// OnStop has f run after Stop, once the queue no longer uses what f
// releases (a connection pool the caller opened for it, say).
func (q *Queue) OnStop(f func()) {
	prev := q.close
	q.close = func() { prev(); f() }
}

// Start starts working jobs; ctx bounds the whole run (cancelling it
// stops fetching new jobs; see Stop to drain).
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for the running ones, at most
// drain; jobs still running then are cancelled (they are retried after
// a restart, and every job is safe to run again).
func (q *Queue) Stop(drain time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		q.cfg.Log.Warn("jobs still running after the drain timeout; cancelling them", "timeout", drain)
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		err = q.client.StopAndCancel(cctx)
	}
	q.close()
	q.close = func() {}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Kill abandons the queue as if its process were killed: what it opened
// is closed at once, so nothing more is recorded, and its running jobs are
// left for another process to rescue after Config.RescueAfter. It is for
// tests of crash recovery; a caller that owns the queue's SQLite pool
// closes that pool first.
func (q *Queue) Kill() {
	q.close()
	q.close = func() {}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q.client.StopAndCancel(ctx) // fails: the connections are gone
}

// EnqueuePoll queues a poll, once per (source, due time).
func (q *Queue) EnqueuePoll(ctx context.Context, j digest.PollJob) error {
	return q.insert(ctx, pollArgs{j})
}

// EnqueueBuild queues a build, once per distinct job.
func (q *Queue) EnqueueBuild(ctx context.Context, j digest.BuildJob) error {
	j.Slot = j.Slot.UTC()
	return q.insert(ctx, buildArgs{j})
}

// EnqueueDeliver queues a delivery, once per (subscription, slot).
func (q *Queue) EnqueueDeliver(ctx context.Context, j digest.DeliverJob) error {
	j.Slot = j.Slot.UTC()
	return q.insert(ctx, deliverArgs{j})
}

// EnqueueNotice queues a notice, once per key.
func (q *Queue) EnqueueNotice(ctx context.Context, j digest.NoticeJob) error {
	return q.insert(ctx, noticeArgs{j})
}

func (q *Queue) insert(ctx context.Context, args river.JobArgs) error {
	if _, err := q.client.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// Counts reports how many jobs of each kind are in each state, for tests
// and status pages.
func (q *Queue) Counts(ctx context.Context) (map[string]map[string]int, error) {
	out := map[string]map[string]int{}
	params := river.NewJobListParams().First(10000).States(
		rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
		rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled)
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: list: %w", err)
	}
	for _, j := range res.Jobs {
		if out[j.Kind] == nil {
			out[j.Kind] = map[string]int{}
		}
		out[j.Kind][string(j.State)]++
	}
	return out, nil
}

// Job kinds. Their names are stored with every job: do not rename them.
type (
	tickArgs    struct{}
	pollArgs    struct{ digest.PollJob }
	buildArgs   struct{ digest.BuildJob }
	deliverArgs struct{ digest.DeliverJob }
	noticeArgs  struct{ digest.NoticeJob }
)

func (tickArgs) Kind() string    { return "tick" }
func (pollArgs) Kind() string    { return "poll_source" }
func (buildArgs) Kind() string   { return "build_briefing" }
func (deliverArgs) Kind() string { return "deliver_briefing" }
func (noticeArgs) Kind() string  { return "notice" }

func (tickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueTick, MaxAttempts: 1}
}

func (pollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queuePoll, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func (buildArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueWork, MaxAttempts: untilGivenUp, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Deliveries and notices are retried until their handler gives up.
const untilGivenUp = 10000

func (deliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueWork, MaxAttempts: untilGivenUp, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func (noticeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueWork, MaxAttempts: untilGivenUp, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// worker adapts a function to river.Worker with a timeout and a retry
// schedule.
type worker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	timeout time.Duration
	retry   func(attempt int) time.Time
	work    func(ctx context.Context, args T, attempt int) error
	onStart func(kind string, wait time.Duration) // Config.OnStart
}

func (w *worker[T]) Timeout(*river.Job[T]) time.Duration { return w.timeout }

func (w *worker[T]) NextRetry(j *river.Job[T]) time.Time { return w.retry(j.Attempt) }

func (w *worker[T]) Work(ctx context.Context, j *river.Job[T]) error {
	if w.onStart != nil && j.AttemptedAt != nil {
		w.onStart(j.Kind, max(0, j.AttemptedAt.Sub(j.ScheduledAt)))
	}
	return w.work(ctx, j.Args, j.Attempt)
}

// errorLogger logs failed attempts and recovered panics once, here at the
// edge, and leaves River's retry handling as it is.
type errorLogger struct{ log *slog.Logger }

func (e errorLogger) HandleError(_ context.Context, j *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	e.log.Warn("job failed", "job", j.Kind, "job_id", j.ID, "attempt", j.Attempt, "args", string(j.EncodedArgs), "error", err)
	return nil
}

func (e errorLogger) HandlePanic(_ context.Context, j *rivertype.JobRow, v any, trace string) *river.ErrorHandlerResult {
	e.log.Error("job panicked", "job", j.Kind, "job_id", j.ID, "attempt", j.Attempt, "error", fmt.Sprint(v), "trace", trace)
	return nil
}

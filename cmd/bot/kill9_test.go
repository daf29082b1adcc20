package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/internal/feedserver"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
)

// The child process: TestKill9Child runs `briefbot run` when kill9ChildEnv
// is set, on the clock kill9ClockEnv and its standard input give it.
const (
	kill9ChildEnv = "BRIEFBOT_KILL9_CHILD"
	kill9ClockEnv = "BRIEFBOT_KILL9_CLOCK"
)

// The shape of TestKill9Deliveries.
const (
	kill9Kills       = 20               // one per slot
	kill9Spacing     = 10 * time.Minute // between slots, on the test's clock
	kill9Stories     = 7                // per slot: six posted, in two parts
	kill9Hold        = 300 * time.Millisecond
	kill9RescueAfter = 10 * time.Second // jobs.rescue_after: its lower bound
	kill9Channel     = "200000000000000951"
	kill9Guild       = "100000000000000951"
)

// TestKill9Deliveries runs briefbot as a process of its own (this test
// binary run again as TestKill9Child) on a SQLite database, posting a
// multi-part briefing every slot to the fake Discord, and kills it with
// SIGKILL at a random point of each of 20 slots' deliveries, restarting it
// at once on the same database. Then it lets the last process finish,
// stops it with SIGTERM, and counts what the fake Discord received: every
// part of every slot posted exactly once (no duplicate, no lost slot) and
// every article the feed served stored (no lost article).
//
// At each slot the clock moves just past it: its tick polls the feed (the
// next slot's stories, published since) and builds the slot's briefing
// (the stories polled at the slot before), and once the poll has saved
// its outcome (a poll left running would hold back every later poll until
// it is rescued) the process is killed at a point drawn from a seeded RNG
// (BRIEFBOT_FAULT_SEED repeats a run's): at once or up to 1.5 s later, the
// moment the delivery is recorded, the moment a post reaches the fake
// Discord, the moment a part is on Discord (its answer held back, or its
// creation delayed: a post cut off in flight is still created, as Discord
// may do), the moment a part's answer is sent, the moment a part is
// recorded (between parts), or after the delivery is done, each with up
// to 50 ms of random delay. The fake holds each slot's first posts 300
// ms, before creating the message or after, at random, so those windows
// are wide. A job a kill leaves running is taken for dead and run again
// after jobs.rescue_after (10 s, its lower bound), by a later process: so
// interrupted deliveries resume during later slots, and kills land in
// resumed ones too (which search the channel for parts posted but not
// recorded).
//
// Time is compressed: the briefbot process runs on a clock the test sets
// (kill9ClockEnv at start, then a line on standard input at each move)
// and that runs in real time in between, so a slot every ten minutes
// takes seconds. The clock moves past a slot only once the slot before is
// scheduled (a tick after it ran), as a briefing missed while the bot is
// down is skipped when a later one is due. River keeps its own real-time
// clock: what it waits for (rescue_after, retry backoff) is really waited
// for, except its leader lease. A SIGKILLed leader leaves its lease in
// river_leader for up to 15 s, during which no tick runs; the test
// deletes that row of the dead process before each restart, which is
// what its expiry would do, so the restarted process leads at once.
func TestKill9Deliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 suite (about a minute and a half); skipped with -short")
	}
	began := time.Now()
	seed := faultSeed(t)
	t.Logf("kill points from seed %d (BRIEFBOT_FAULT_SEED=%d repeats them)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	h := newKill9Harness(t)
	// The first slot's stories are in the feed for the first poll.
	first := h.newItems(h.base)
	h.start()
	if !h.waitPolled(first, time.Time{}, 30*time.Second) {
		t.Fatalf("the first slot's stories not stored in 30 s\n%s", h.logs(1))
	}

	points := []string{"at random", "on record", "on a post held", "on a part created", "on a part answered", "on a part recorded", "after done"}
	phases := map[string]int{}
	var lastKill time.Time
	for i := range kill9Kills {
		iter := time.Now()
		slot := h.base.Add(time.Duration(i+1) * kill9Spacing)
		h.slots = append(h.slots, slot)
		if err := h.waitScheduled(slot, 30*time.Second); err != nil {
			t.Fatalf("slot %s: %v\n%s", slot.Format("15:04"), err, h.logs(2))
		}
		waited := time.Since(iter)
		// A poll cut off (a kill, a slow fetch) polls again later:
		// only then is the source not due at the slot's tick.
		due := h.source().State.NextPoll
		next := h.newItems(slot)

		hold, held := fakediscord.Fault{Delay: kill9Hold}, "before"
		holdAfter := time.Duration(0)
		if rng.IntN(2) == 0 {
			hold, held, holdAfter = fakediscord.Fault{HoldAnswer: kill9Hold}, "after", kill9Hold
		}
		for h.srv.PendingFaults() < 3 {
			h.srv.Inject(postRoute, hold)
		}
		point := rng.IntN(len(points))
		jitter := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		if point == 0 {
			jitter = time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
		}
		faults := h.srv.PendingFaults()
		jumped := time.Now()
		h.set(slot.Add(30 * time.Second))
		polled := false
		reached := h.waitKillPoint(slot, point, faults, holdAfter, func() bool {
			polled = polled || h.polled(next, due)
			return polled
		})
		time.Sleep(jitter)
		found := h.phase(slot)
		atKill := time.Since(jumped)
		h.kill()
		lastKill = time.Now()
		if i < kill9Kills-1 {
			h.start()
		}
		phases[points[point]+": "+found]++
		var notes []string
		if waited > 100*time.Millisecond {
			notes = append(notes, fmt.Sprintf("waited %s for the slot before to be scheduled", waited.Round(time.Millisecond)))
		}
		switch {
		case !polled:
			notes = append(notes, fmt.Sprintf("the next slot's stories not polled in 20 s (source due at %s)", due.Format("15:04:05")))
		case !reached:
			notes = append(notes, "kill point missed: the delivery done first, or 20 s passed")
		}
		t.Logf("slot %s: posts held %s creation, killed %s (%s) %s after the slot fell due %s",
			slot.Format("15:04"), held, points[point], found, atKill.Round(time.Millisecond), strings.Join(notes, "; "))
	}

	// The jobs the kills left running are taken for dead rescue_after
	// after they started: the last process, started then, rescues them
	// at once.
	rescuable := h.rescuable(lastKill)
	time.Sleep(time.Until(rescuable))
	h.start()
	settling := time.Now()
	if !h.waitSettled(90 * time.Second) {
		t.Errorf("not every slot delivered 90 s after the last process started")
	}
	settled := time.Since(settling)
	t.Logf("last process started %.1fs after the last kill", settling.Sub(lastKill).Seconds())
	if !h.waitPolled(h.served, time.Time{}, 30*time.Second) {
		t.Errorf("not every article the feed served stored 30 s after the last process started")
	}
	time.Sleep(time.Second) // a duplicate on its way would land meanwhile
	if err := h.stop(); err != nil {
		t.Errorf("briefbot run after SIGTERM: %v", err)
	}

	c := h.count()
	var ps []string
	for p, n := range phases {
		ps = append(ps, fmt.Sprintf("%s ×%d", p, n))
	}
	slices.Sort(ps)
	t.Logf("kill points (wanted: what the kill found):\n\t%s", strings.Join(ps, "\n\t"))
	t.Logf("kill -9 summary: %d kills, %d posts expected, %d seen, %d duplicates, %d lost slots, %d lost articles (of %d); "+
		"%d of %d briefings multi-part, %d channel searches by resumed deliveries, all settled %.1fs after the last start, %.1fs in all",
		h.kills, c.expected, c.seen, c.duplicates, c.lostSlots, c.lostArticles, len(h.served),
		c.multi, len(h.slots), len(h.srv.RequestsTo("GET /channels/*/messages")), settled.Seconds(), time.Since(began).Seconds())
	if c.duplicates > 0 || c.lostSlots > 0 || c.lostArticles > 0 {
		t.Errorf("%d duplicate posts, %d lost slots, %d lost articles", c.duplicates, c.lostSlots, c.lostArticles)
	}
	if c.multi < len(h.slots)/2 {
		t.Errorf("%d of %d briefings in more than one part: the kills hit too few multi-part deliveries", c.multi, len(h.slots))
	}
	for _, p := range h.procs {
		if out := p.out.String(); strings.Contains(out, "WARNING: DATA RACE") || strings.Contains(out, "panic:") {
			t.Errorf("process %d: a data race or a panic:\n%s", p.n, out)
		}
	}
	if t.Failed() {
		t.Logf("last processes' logs:\n%s", h.logs(3))
	}
}

// TestKill9Child is the briefbot process TestKill9Deliveries runs and
// kills; run by itself, it skips.
func TestKill9Child(t *testing.T) {
	if os.Getenv(kill9ChildEnv) == "" {
		t.Skip("the briefbot process of TestKill9Deliveries; not a test by itself")
	}
	var clk kill9ChildClock
	if err := clk.set(os.Getenv(kill9ClockEnv)); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(t.Context(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// Each line moves the clock; the end of input means the test
		// is gone, and so should this process be.
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if err := clk.set(sc.Text()); err != nil {
				fmt.Fprintln(os.Stderr, "kill9 child:", err)
			}
		}
		cancel()
	}()
	args := []string{"--log-level", "info", "run", "--tick", "1s"}
	if err := runAt(ctx, args, os.Getenv, strings.NewReader(""), os.Stdout, os.Stderr, clk.now); err != nil {
		t.Fatal(err)
	}
}

// kill9ChildClock is the child's clock: at wall-clock time wall it read
// fake, and it runs in real time from there.
type kill9ChildClock struct{ at atomic.Pointer[[2]int64] }

// set takes "FAKE WALL" in Unix nanoseconds.
func (c *kill9ChildClock) set(line string) error {
	f := strings.Fields(line)
	if len(f) != 2 {
		return fmt.Errorf("clock %q: want two Unix times in nanoseconds", line)
	}
	fake, err1 := strconv.ParseInt(f[0], 10, 64)
	wall, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("clock %q: want two Unix times in nanoseconds", line)
	}
	c.at.Store(&[2]int64{fake, wall})
	return nil
}

func (c *kill9ChildClock) now() time.Time {
	at := c.at.Load()
	return time.Unix(0, at[0]+time.Now().UnixNano()-at[1])
}

// kill9Harness is the fake Discord, the feed server, the database (opened
// by the test too, to watch deliveries) and the briefbot processes.
type kill9Harness struct {
	t      *testing.T
	srv    *fakediscord.Server
	feeds  *feedserver.Server
	store  *sqlstore.Store
	jobsDB *sql.DB // the same database, to delete a dead leader's lease
	sub    digest.Subscription
	srcID  int64
	env    []string
	base   time.Time // on the slots' grid; the first slot is base+kill9Spacing
	slots  []time.Time
	items  []kill9Item // what the feed serves now
	served []string    // every article URL the feed has served
	kills  int

	mu    sync.Mutex // the clock and the running process
	fake  int64      // the clock read fake at wall (Unix ns)
	wall  int64
	proc  *kill9Proc
	procs []*kill9Proc
}

func newKill9Harness(t *testing.T) *kill9Harness {
	t.Helper()
	ctx := t.Context()
	h := &kill9Harness{t: t}
	h.srv = fakediscord.New(t, fakediscord.Options{AppID: "300000000000000951", BotUserID: "300000000000000951", Token: "tok", Guilds: []string{kill9Guild}})
	h.srv.AddChannel(fakediscord.Channel{ID: kill9Channel, GuildID: kill9Guild, Name: "news"})
	h.feeds = feedserver.New(t)
	h.setFeed()
	// The source is polled every kill9Spacing, at a phase of its own
	// (derived from its URL, see sources.NextPoll): with one 6.5 to 9.5
	// minutes after each slot, a poll at a slot's tick (up to a minute
	// late) is next due at the next slot's.
	now := time.Now()
	h.base = now.UTC().Truncate(kill9Spacing).Add(2 * kill9Spacing)
	var feedURL string
	var phase time.Duration
	for n := 0; phase < 6*time.Minute+30*time.Second || phase > 9*time.Minute+30*time.Second; n++ {
		feedURL = fmt.Sprintf("%s/feed.xml?v=%d", h.feeds.URL, n)
		phase = sources.NextPoll(h.base, digest.Source{URL: feedURL, Interval: kill9Spacing}).Sub(h.base) % kill9Spacing
	}
	// The clock starts so that the first poll (within a minute) falls due
	// again at the first slot's tick, and after the store's own real-time
	// stamps (it has no injected clock in briefbot run).
	start := h.base.Add(phase - kill9Spacing/2 - time.Minute)
	h.fake, h.wall = start.UnixNano(), now.UnixNano()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "briefbot.yaml", fmt.Sprintf(`database: %s
sources:
  - name: wire
    url: %s
    interval: %s
    allow_private: true
topics:
  - name: korea-talks
    query: korea
fetch:
  timeout: 5s
schedule:
  min_interval: 1m
jobs:
  rescue_after: %s
  drain_timeout: 10s
`, filepath.Join(dir, "b.db"), feedURL, kill9Spacing, kill9RescueAfter))
	env := map[string]string{"BRIEFBOT_CONFIG": cfg, "DISCORD_TOKEN": "tok", "BRIEFBOT_DISCORD_API_URL": h.srv.URL()}
	for k, v := range env {
		h.env = append(h.env, k+"="+v)
	}
	a := &app{getenv: func(k string) string { return env[k] }, stdout: io.Discard, stderr: io.Discard, now: h.now}
	_, store, err := a.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h.store = store
	if h.jobsDB, _, err = store.JobsDB(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.jobsDB.Close() })
	srcs, err := store.Sources(ctx)
	if err != nil || len(srcs) != 1 || srcs[0].URL != feedURL || srcs[0].Interval != kill9Spacing {
		t.Fatalf("sources %+v (%v), want %s every %s", srcs, err, feedURL, kill9Spacing)
	}
	h.srcID = srcs[0].ID
	topic, err := store.Topic(ctx, "korea-talks")
	if err != nil {
		t.Fatal(err)
	}
	h.sub, err = store.AddSubscription(ctx, digest.Subscription{GuildID: kill9Guild, ChannelID: kill9Channel, TopicID: topic.ID, Topic: topic.Name,
		Schedule: fmt.Sprintf("*/%d * * * *", int(kill9Spacing.Minutes())), TimeZone: "UTC",
		CatchUp: digest.CatchUpLate, NothingNew: digest.NothingNewPost, NextSlot: h.base.Add(kill9Spacing)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.mu.Lock()
		p := h.proc
		h.mu.Unlock()
		if p != nil {
			p.signal(syscall.SIGKILL)
		}
	})
	return h
}

// now is the test's clock, the one the running process has.
func (h *kill9Harness) now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Unix(0, h.fake+time.Now().UnixNano()-h.wall)
}

// set moves the clock, the running process's too.
func (h *kill9Harness) set(at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fake, h.wall = at.UnixNano(), time.Now().UnixNano()
	if h.proc != nil {
		// A process that died meanwhile fails the write: the next one
		// gets the clock in its environment.
		fmt.Fprintf(h.proc.stdin, "%d %d\n", h.fake, h.wall)
	}
}

// kill9Proc is one briefbot process.
type kill9Proc struct {
	n     int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   kill9Output
	done  chan struct{} // closed when it has exited; err is then set
	err   error
}

// kill9Output collects a process's output.
type kill9Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *kill9Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *kill9Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// start starts a briefbot process on the database, with the clock.
func (h *kill9Harness) start() {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	p := &kill9Proc{n: len(h.procs) + 1, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1", "-test.timeout=5m")
	p.cmd.Env = append(os.Environ(), h.env...)
	p.cmd.Env = append(p.cmd.Env, kill9ChildEnv+"=1", fmt.Sprintf("%s=%d %d", kill9ClockEnv, h.fake, h.wall))
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		h.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	h.proc = p
	h.procs = append(h.procs, p)
}

// signal sends sig and waits for the process to exit, at most 20 s (then
// it is killed), returning how it ended.
func (p *kill9Proc) signal(sig syscall.Signal) error {
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.err
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("still running 20 s after %v", sig)
	}
}

// kill kills the running process with SIGKILL and deletes the River
// leader lease it may have held, as its expiry would.
func (h *kill9Harness) kill() {
	h.t.Helper()
	h.mu.Lock()
	p := h.proc
	h.proc = nil
	h.mu.Unlock()
	select {
	case <-p.done:
		h.t.Errorf("process %d exited before it was killed: %v\n%s", p.n, p.err, p.out.String())
	default:
	}
	p.signal(syscall.SIGKILL)
	h.kills++
	if _, err := h.jobsDB.ExecContext(h.t.Context(), `DELETE FROM river_leader`); err != nil {
		h.t.Fatalf("delete the dead leader's lease: %v", err)
	}
}

// rescuable returns when every build and delivery left running (by the
// kills) started more than rescue_after ago; at the latest rescue_after
// after lastKill.
func (h *kill9Harness) rescuable(lastKill time.Time) time.Time {
	latest := lastKill.Add(kill9RescueAfter + 500*time.Millisecond)
	var julian sql.NullFloat64
	err := h.jobsDB.QueryRowContext(h.t.Context(), `SELECT max(julianday(attempted_at)) FROM river_job
		WHERE state = 'running' AND kind IN ('build_briefing', 'deliver_briefing')`).Scan(&julian)
	if err != nil {
		h.t.Logf("jobs left running: %v", err)
		return latest
	}
	if !julian.Valid {
		return time.Now()
	}
	at := time.UnixMilli(int64((julian.Float64 - 2440587.5) * 86400e3)).Add(kill9RescueAfter + 500*time.Millisecond)
	if at.After(latest) {
		return latest
	}
	return at
}

// stop stops the running process with SIGTERM.
func (h *kill9Harness) stop() error {
	h.mu.Lock()
	p := h.proc
	h.proc = nil
	h.mu.Unlock()
	return p.signal(syscall.SIGTERM)
}

// logs returns the output of the last n processes.
func (h *kill9Harness) logs(n int) string {
	h.mu.Lock()
	procs := h.procs[max(0, len(h.procs)-n):]
	h.mu.Unlock()
	var b strings.Builder
	for _, p := range procs {
		out := p.out.String()
		if len(out) > 20000 {
			out = "…" + out[len(out)-20000:]
		}
		fmt.Fprintf(&b, "--- process %d:\n%s\n", p.n, out)
	}
	return b.String()
}

// kill9Item is one item of the feed.
type kill9Item struct {
	title, url, text string
	published        time.Time
}

// setFeed serves the current items.
func (h *kill9Harness) setFeed() {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Kill Wire</title><link>https://wire.example/</link>`)
	for _, it := range h.items {
		fmt.Fprintf(&b, "<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate><description><![CDATA[<p>%s</p>]]></description></item>",
			it.title, it.url, it.url, it.published.Format(time.RFC1123Z), it.text)
	}
	b.WriteString("</channel></rss>")
	h.feeds.Set("/feed.xml", feedserver.Doc{Body: b.String()})
}

// newItems puts the kill9Stories stories of the slot after prev in the
// feed (newFaultStories), published 15 s after prev; six of them need
// two or three messages. It returns their URLs.
func (h *kill9Harness) newItems(prev time.Time) []string {
	slot, n := prev.Add(kill9Spacing), kill9Stories
	var urls []string
	for _, st := range newFaultStories(slot, 9, n) {
		urls = append(urls, st.url)
		h.items = append(h.items, kill9Item{title: st.title, url: st.url, text: st.text, published: prev.Add(15 * time.Second)})
	}
	// Three slots' worth: a poll is slower the longer the feed, and
	// (never killed before it saved its outcome) is not missed.
	if len(h.items) > 3*n {
		h.items = h.items[len(h.items)-3*n:]
	}
	h.served = append(h.served, urls...)
	h.setFeed()
	return urls
}

// stored reports whether every URL is an article in the store.
func (h *kill9Harness) stored(urls []string) bool {
	for _, u := range urls {
		if _, err := h.store.FindArticle(h.t.Context(), digest.ArticleKeys{URL: u}); err != nil {
			return false
		}
	}
	return true
}

// source returns the feed's source.
func (h *kill9Harness) source() digest.Source {
	src, err := h.store.SourceByID(h.t.Context(), h.srcID)
	if err != nil {
		h.t.Fatal(err)
	}
	return src
}

// polled reports whether the poll due at dueBefore has saved its
// outcome (the source is due later) and every URL is stored.
func (h *kill9Harness) polled(urls []string, dueBefore time.Time) bool {
	return h.source().State.NextPoll.After(dueBefore) && h.stored(urls)
}

// waitPolled waits up to limit for polled.
func (h *kill9Harness) waitPolled(urls []string, dueBefore time.Time, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !h.polled(urls, dueBefore) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// waitScheduled waits up to limit for the slot before slot to have been
// scheduled: the subscription's next slot moved on to slot.
func (h *kill9Harness) waitScheduled(slot time.Time, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		sub, err := h.store.Subscription(h.t.Context(), h.sub.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		if !sub.NextSlot.Before(slot) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the slot before not scheduled in %s: next slot %s", limit, sub.NextSlot.Format("15:04"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// key returns the delivery key of a slot.
func (h *kill9Harness) key(slot time.Time) string { return slotKey(h.sub, slot) }

// onDiscord counts the channel's posts carrying a delivery's tag.
func (h *kill9Harness) onDiscord(tag string) int {
	n := 0
	for _, m := range h.srv.Messages(kill9Channel) {
		if strings.Contains(m.Content, tag) {
			n++
		}
	}
	return n
}

// answered counts the posts carrying a delivery's tag whose answer has
// been sent: holdAfter after the fake decided it.
func (h *kill9Harness) answered(tag string, holdAfter time.Duration) int {
	n := 0
	for _, r := range h.srv.RequestsTo(postRoute) {
		var body struct{ Content string }
		if r.Status == 200 && r.Decode(&body) == nil && strings.Contains(body.Content, tag) && time.Since(r.Answered) >= holdAfter {
			n++
		}
	}
	return n
}

// waitKillPoint waits, for at most 20 s, for a slot's delivery to reach
// a kill point of TestKill9Deliveries (0, at random, at once) with ready
// true, and reports whether it did: a delivery done before then has
// passed it. faults is how many injected faults were pending before the
// slot; holdAfter is how long the fake holds answers.
func (h *kill9Harness) waitKillPoint(slot time.Time, point, faults int, holdAfter time.Duration, ready func() bool) bool {
	key := h.key(slot)
	tag := "ref " + ref(key) + "-"
	deadline := time.Now().Add(20 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !ready() {
			continue
		}
		d, err := h.store.Delivery(h.t.Context(), key)
		recorded := err == nil
		switch point {
		case 0:
			return true
		case 1:
			if recorded {
				return true
			}
		case 2:
			if recorded && h.srv.PendingFaults() < faults {
				return true
			}
		case 3:
			if recorded && h.onDiscord(tag) > len(d.MessageIDs) {
				return true
			}
		case 4:
			if recorded && h.answered(tag, holdAfter) > 0 {
				return true
			}
		case 5:
			if recorded && len(d.MessageIDs) > 0 {
				return true
			}
		}
		if recorded && d.State != digest.DeliveryPending {
			return point == 6
		}
	}
	return false
}

// phase describes how far a slot's delivery had got.
func (h *kill9Harness) phase(slot time.Time) string {
	key := h.key(slot)
	d, err := h.store.Delivery(h.t.Context(), key)
	switch {
	case err != nil:
		return "not recorded"
	case d.State == digest.DeliveryDone:
		return "done"
	default:
		return fmt.Sprintf("%d of %d parts recorded, %d on Discord", len(d.MessageIDs), d.Parts, h.onDiscord("ref "+ref(key)+"-"))
	}
}

// waitSettled waits up to limit for every slot's delivery to finish.
func (h *kill9Harness) waitSettled(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !slices.ContainsFunc(h.slots, func(s time.Time) bool {
			d, err := h.store.Delivery(h.t.Context(), h.key(s))
			return err != nil || d.State == digest.DeliveryPending
		}) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// kill9Counts is what TestKill9Deliveries counts.
type kill9Counts struct {
	expected, seen, duplicates, lostSlots, lostArticles, multi int
}

// count counts the channel's posts against the slots' deliveries, and
// the feed's articles against the store.
func (h *kill9Harness) count() kill9Counts {
	t := h.t
	ctx := t.Context()
	var c kill9Counts
	tags := map[string]int{}
	for _, m := range h.srv.Messages(kill9Channel) {
		c.seen++
		if tag := partTag.FindString(m.Content); tag != "" {
			tags[tag]++
		} else {
			c.duplicates++ // a post of no delivery
			t.Errorf("a post without a part tag: %.200q", m.Content)
		}
	}
	known := map[string]bool{}
	for _, slot := range h.slots {
		key := h.key(slot)
		d, err := h.store.Delivery(ctx, key)
		if err != nil || d.State != digest.DeliveryDone {
			c.lostSlots++
			c.expected++
			t.Errorf("slot %s: delivery %s %q (%v), want done", slot.Format("15:04"), d.State, d.Error, err)
			continue
		}
		if d.Parts > 1 {
			c.multi++
		}
		c.expected += d.Parts
		lost := false
		for i := range d.Parts {
			tag := fmt.Sprintf("ref %s-%d", ref(key), i+1)
			known[tag] = true
			switch n := tags[tag]; {
			case n == 0:
				lost = true
				t.Errorf("slot %s: part %d of %d never posted", slot.Format("15:04"), i+1, d.Parts)
			case n > 1:
				c.duplicates += n - 1
				t.Errorf("slot %s: part %d of %d posted %d times", slot.Format("15:04"), i+1, d.Parts, n)
			}
		}
		if lost {
			c.lostSlots++
		}
		if len(d.MessageIDs) != d.Parts {
			t.Errorf("slot %s: %d of %d parts recorded", slot.Format("15:04"), len(d.MessageIDs), d.Parts)
		}
	}
	for tag, n := range tags {
		if !known[tag] {
			c.duplicates += n
			t.Errorf("%d posts tagged %s, a part of no slot's delivery", n, tag)
		}
	}
	for _, u := range h.served {
		if _, err := h.store.FindArticle(ctx, digest.ArticleKeys{URL: u}); err != nil {
			c.lostArticles++
			t.Errorf("article %s served but not stored: %v", u, err)
		}
	}
	return c
}

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/feedserver"
	"github.com/briefbot/briefbot/jobs"
	"github.com/briefbot/briefbot/sqlstore"
)

// TestDBFaultUnavailable runs the scheduled pipeline of TestFaults (a
// feed polled into the store, briefings built and posted through the
// real job queue) on PostgreSQL reached through a TCP proxy, and makes
// the database unavailable for a few seconds six times: as a poll stores
// its first article, as a build records its delivery (committed, the
// answer lost), as a delivery records a part posted on Discord (before
// the record, and committed with the answer lost), as it records the
// delivery done (the answer lost), and as a slot falls due. Each outage
// closes every connection through the proxy; until it ends, new ones are
// refused (connection refused, as while PostgreSQL restarts) or
// black-holed (accepted and never answered, as in a network partition).
// The bot is left to recover by itself: the pools reconnect, River
// retries the failed attempts and elects its leader again. Every slot is
// then posted once, whole, and every article the feed served is stored
// and matched to its topic. A last slot after the outages shows the
// pipeline working on its own again.
//
// The outages start on statements seen on the wire (dbfaultTrigger), so
// each hits the moment it names. SQLite has no counterpart: its database
// is a file opened in the process, whose transient unavailability is the
// write lock TestFaults' db-locked class covers; a disk that fails or
// fills does not come back by itself.
func TestDBFaultUnavailable(t *testing.T) {
	dbfaultRun(t, []dbfaultTrigger{
		{name: "poll: an article about to be stored", at: dbfaultAtPoll, stmt: "INSERT INTO articles (", mode: dbfaultRefuse},
		{name: "build: delivery recorded, answer lost", at: dbfaultAtSlot, stmt: "INSERT INTO deliveries (", afterCommit: true, mode: dbfaultBlackHole},
		{name: "deliver: part posted, not recorded", at: dbfaultAtSlot, stmt: "SELECT parts, message_ids FROM deliveries", mode: dbfaultRefuse},
		{name: "deliver: part recorded, answer lost", at: dbfaultAtSlot, stmt: "UPDATE deliveries SET message_ids", afterCommit: true, mode: dbfaultBlackHole},
		{name: "deliver: done, answer lost", at: dbfaultAtSlot, stmt: "UPDATE deliveries SET state", afterCommit: true, mode: dbfaultRefuse},
		{name: "tick: as the slot falls due", at: dbfaultAtDue, mode: dbfaultBlackHole},
	})
}

// TestDBFaultUnavailableMidIngest makes the database unavailable in the
// middle of storing an article with its topic matches: once after the
// article's row is written and before its matches are (the transaction is
// lost), and once as the transaction commits (committed, the answer
// lost). The poller stores a new article and its matches in one
// transaction, and a failed store fails the poll, which keeps its
// validators and is retried: the retry stores the article matched, or
// finds it stored with its matches. Matches stored in a second
// transaction, its failure only logged, would be lost here: the retry
// finds the article stored and unchanged, and no briefing ever shows it.
func TestDBFaultUnavailableMidIngest(t *testing.T) {
	dbfaultRun(t, []dbfaultTrigger{
		{name: "poll: article stored, topics not yet", at: dbfaultAtPoll, stmt: "INSERT INTO article_topics (", mode: dbfaultRefuse},
		{name: "poll: article and topics committed, answer lost", at: dbfaultAtPoll, stmt: "INSERT INTO article_topics (", afterCommit: true, mode: dbfaultRefuse},
	})
}

// dbfaultRun runs one slot per trigger, each meeting its outage, then a
// last slot without one, and counts as TestFaults does; articles stored
// but not matched to the topic count as lost.
func dbfaultRun(t *testing.T, steps []dbfaultTrigger) {
	base := os.Getenv("BRIEFBOT_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("BRIEFBOT_TEST_DATABASE_URL is not set: the database outage test needs PostgreSQL")
	}
	began := time.Now()
	e, p, logs := dbfaultNewEnv(t, base)
	q := dbfaultStart(e, logs)
	c := &faultCounts{class: "db-unavailable"}
	var outages []dbfaultOutage
	t.Cleanup(func() { dbfaultReport(t, c, outages, logs, time.Since(began)) })

	for _, tr := range steps {
		var (
			slot time.Time
			out  <-chan dbfaultOutage
		)
		stepBegan := time.Now()
		switch tr.at {
		case dbfaultAtPoll:
			out = p.arm(tr)
			slot = e.slot(7)
			e.set(slot.Add(30 * time.Second))
		case dbfaultAtSlot:
			slot = e.slot(7)
			dbfaultPollsDone(t, q)
			out = p.arm(tr)
			e.set(slot.Add(30 * time.Second))
		case dbfaultAtDue:
			slot = e.slot(7)
			dbfaultPollsDone(t, q)
			out = p.arm(tr)
			// The clock alone: the test does not tick for the queue, so
			// the slot is built once River's leader ticks again.
			e.clk.Set(slot.Add(30 * time.Second))
		}
		settled := e.waitSettled(40*time.Second, slot)
		settledAt := time.Now()
		p.disarm()
		select {
		case o := <-out:
			o.settled = settledAt.Sub(o.back)
			outages = append(outages, o)
			c.faults++
			if o.err != nil {
				t.Errorf("%s: %v", tr.name, o.err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the outage was never triggered", tr.name)
		}
		if !settled {
			t.Errorf("%s: slot %s not delivered within 40 s", tr.name, slot.Format("15:04"))
		}
		t.Logf("%s: slot %s done in %s", tr.name, slot.Format("15:04"), time.Since(stepBegan).Round(time.Millisecond))
	}

	// After the outages, on its own: River's leader ticks, and a slot is
	// polled, built and posted as if nothing had happened.
	ticks := dbfaultTicks(t, q)
	slot := e.slot(7)
	if !e.deliver(slot, 30*time.Second) {
		t.Errorf("slot %s after the outages: not delivered within 30 s", slot.Format("15:04"))
	}
	waitUntil(t, 20*time.Second, "River's leader to run its periodic tick after the outages", func() bool { return dbfaultTicks(t, q) > ticks })
	e.catchUp()
	e.count(c)
	c.lostArticles += dbfaultUnmatched(e)
	for i := range outages {
		next := p.connections()
		if i+1 < len(outages) {
			next = outages[i+1].acceptedAtBegin
		}
		outages[i].reconnects = next - outages[i].acceptedAtBack
	}
	multi := 0
	for _, s := range e.slots {
		if d, err := e.store.Delivery(context.Background(), e.key(s)); err == nil && d.Parts > 1 {
			multi++
		}
	}
	c.note("%d of %d slots in more than one part", multi, len(e.slots))
	counts, err := q.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for kind, states := range counts {
		// A tick is tried once: the next one comes anyway.
		if n := states["discarded"]; n > 0 && kind != "tick" {
			t.Errorf("%d %s jobs discarded: they ran out of attempts", n, kind)
		}
	}
	if c.duplicates > 0 || c.lostSlots > 0 || c.lostArticles > 0 {
		t.Errorf("%d duplicate posts, %d lost slots, %d lost articles", c.duplicates, c.lostSlots, c.lostArticles)
	}
}

// dbfaultNewEnv is newFaultEnv on a PostgreSQL schema of its own, which
// the bot (its store, its job queue) reaches through a dbfaultProxy. The
// environment's store is then swapped for a direct one, so the test
// reads the database while the bot cannot.
func dbfaultNewEnv(t *testing.T, base string) (*faultEnv, *dbfaultProxy, *dbfaultLog) {
	t.Helper()
	direct := postgresSchema(t, base)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatalf("BRIEFBOT_TEST_DATABASE_URL: %v", err)
	}
	if u.Host == "" {
		t.Skip("BRIEFBOT_TEST_DATABASE_URL names no TCP host: the outage test proxies TCP")
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := dbfaultNewProxy(t, target, dbfaultOutageLength)
	u.Host = p.addr

	start := time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC)
	began := time.Now()
	se := newSchedEnv(t, schedOptions{db: u.String(), start: start, yaml: "fetch:\n  timeout: 1s\n  max_body_mb: 1\n"})
	t.Logf("environment ready in %s", time.Since(began).Round(time.Millisecond))
	e := &faultEnv{schedEnv: se, feeds: feedserver.New(t), spacing: 10 * time.Minute, base: start}
	ctx := t.Context()
	if err := e.store.RemoveSource(ctx, e.source.Name); err != nil {
		t.Fatal(err)
	}
	e.src, err = e.store.AddSource(ctx, digest.Source{Name: "feed", URL: e.feeds.URL + "/feed.xml", Interval: time.Minute, AllowPrivate: true, Origin: digest.OriginConfig})
	if err != nil {
		t.Fatal(err)
	}
	e.setFeed()
	e.sub = e.subscribe(faultChannel, "*/10 * * * *", "UTC", nothingNew)

	observer, err := sqlstore.Open(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { observer.Close() })
	observer.Now = e.clk.Now
	e.store = observer
	logs := &dbfaultLog{failed: map[string]int{}}
	return e, p, logs
}

// dbfaultStart starts the real job queue on the proxied database, as
// faultEnv.start does on SQLite.
func dbfaultStart(e *faultEnv, logs *dbfaultLog) *jobs.Queue {
	e.t.Helper()
	cfg := jobs.Config{
		Tick: time.Second, PollInterval: 200 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond,
		RescueAfter: faultRescueAfter, Log: slog.New(logs),
	}
	q, err := jobs.NewPostgres(e.t.Context(), e.cfg.Database, e.w, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := q.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { q.Stop(5 * time.Second) })
	e.mu.Lock()
	e.queue = q
	e.mu.Unlock()
	return q
}

// dbfaultPollsDone waits for the queue's polls to finish (the slot's
// stories stored with their topic matches, the feed's state saved), so
// that an outage meant for a build or a delivery meets that and not a
// poll (TestDBFaultUnavailableMidIngest has a poll meet its outages).
func dbfaultPollsDone(t *testing.T, q *jobs.Queue) {
	t.Helper()
	waitUntil(t, 20*time.Second, "the slot's poll to finish", func() bool {
		counts, err := q.Counts(t.Context())
		if err != nil {
			return false
		}
		polls := counts["poll_source"]
		return polls["running"]+polls["available"]+polls["retryable"]+polls["scheduled"]+polls["pending"] == 0
	})
}

// dbfaultTicks counts the queue's tick jobs completed.
func dbfaultTicks(t *testing.T, q *jobs.Queue) int {
	counts, err := q.Counts(t.Context())
	if err != nil {
		return -1 // the database is away: not yet
	}
	return counts["tick"]["completed"]
}

// dbfaultUnmatched counts the articles the feed served that are stored
// but not matched to the topic: no briefing can ever show them.
func dbfaultUnmatched(e *faultEnv) int {
	e.t.Helper()
	ctx := context.Background()
	arts, err := e.store.TopicArticles(ctx, e.topic.ID, time.Time{}, time.Time{}, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	matched := map[string]bool{}
	for _, a := range arts {
		matched[a.ID] = true
	}
	n := 0
	for _, u := range e.served {
		a, err := e.store.FindArticle(ctx, digest.ArticleKeys{URL: u})
		if err == nil && !matched[a.ID] {
			n++
			e.t.Errorf("article %s stored but never matched to topic %s: no briefing shows it", u, e.topic.Name)
		}
	}
	return n
}

// dbfaultReport logs the counts, as TestFaults' summary does, and each
// outage.
func dbfaultReport(t *testing.T, c *faultCounts, outages []dbfaultOutage, logs *dbfaultLog, took time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %6s %8s %5s %5s %10s %13s  %s\n", "class", "faults", "expected", "seen", "dups", "lost slots", "lost articles", "notes")
	fmt.Fprintf(&b, "%-16s %6d %8d %5d %5d %10d %13d  %s\n", c.class, c.faults, c.expected, c.seen, c.duplicates, c.lostSlots, c.lostArticles, strings.Join(c.notes, "; "))
	fmt.Fprintf(&b, "outages (each %s):\n", dbfaultOutageLength)
	for _, o := range outages {
		done := fmt.Sprintf("slot done %s after it", o.settled.Round(time.Millisecond))
		if o.settled < 0 {
			done = "slot done before it ended"
		}
		fmt.Fprintf(&b, "  %-38s %-10s cut %d open connections, black-holed %d; %2d new connections after; %s\n",
			o.name, o.mode, o.cut, o.held, o.reconnects, done)
	}
	failed, errs := logs.failures()
	fmt.Fprintf(&b, "failed job attempts (retried): %s; River warnings and errors: %d\n", failed, logs.riverCount())
	for _, e := range errs {
		fmt.Fprintf(&b, "  %.300s\n", e)
	}
	fmt.Fprintf(&b, "took %s", took.Round(100*time.Millisecond))
	t.Logf("database outage summary:\n%s", b.String())
	if t.Failed() {
		t.Logf("River's last warnings and errors:\n\t%s", strings.Join(logs.lastRiver(), "\n\t"))
	}
}

// dbfaultOutageLength is how long each outage lasts.
const dbfaultOutageLength = 3 * time.Second

// dbfaultMode is how the proxy treats new connections while the database
// is unavailable.
type dbfaultMode int

const (
	// dbfaultRefuse closes the listener (connection refused), as while
	// PostgreSQL restarts; open connections are closed with a FIN.
	dbfaultRefuse dbfaultMode = iota
	// dbfaultBlackHole accepts connections and never answers them, as in
	// a network partition, closing them when the outage ends; open
	// connections are reset.
	dbfaultBlackHole
)

func (m dbfaultMode) String() string {
	if m == dbfaultBlackHole {
		return "black-hole"
	}
	return "refuse"
}

// dbfaultTrigger starts an outage when a statement is sent: before it
// reaches the server, or, with afterCommit, once the COMMIT of its
// transaction is sent, with the server's answer lost (the transaction
// is committed; the bot hears an error). A trigger without a statement
// starts the outage at once.
type dbfaultTrigger struct {
	name        string
	at          dbfaultPhase
	stmt        string // a part of the statement's SQL
	afterCommit bool
	mode        dbfaultMode
}

// dbfaultPhase is when a trigger is armed in its slot.
type dbfaultPhase int

const (
	// dbfaultAtPoll arms it before the slot's stories are polled.
	dbfaultAtPoll dbfaultPhase = iota
	// dbfaultAtSlot arms it once they are stored, before the clock moves
	// past the slot and the test ticks.
	dbfaultAtSlot
	// dbfaultAtDue starts the outage once they are stored; the clock then
	// moves past the slot, and the test does not tick.
	dbfaultAtDue
)

// dbfaultOutage is one outage, as the proxy saw it.
type dbfaultOutage struct {
	name                            string
	mode                            dbfaultMode
	began, back                     time.Time
	cut, held                       int // connections cut as it began, and black-holed during it
	acceptedAtBegin, acceptedAtBack int // connections forwarded before it began, and before it ended
	err                             error

	// Set by the test.
	settled    time.Duration // from the end of the outage to the slot done
	reconnects int           // connections the bot opened after it, before the next
}

// dbfaultArmed is a trigger waiting for its statement.
type dbfaultArmed struct {
	dbfaultTrigger
	done chan dbfaultOutage
}

// dbfaultProxy is a TCP proxy in front of PostgreSQL that can take the
// database away (see dbfaultMode), reading the client side of the
// protocol to start an outage on a given statement.
type dbfaultProxy struct {
	t      *testing.T
	target string
	addr   string
	length time.Duration
	stop   chan struct{}

	mu       sync.Mutex
	ln       net.Listener
	closed   bool
	outage   *dbfaultOutage // while the database is unavailable
	pairs    map[*dbfaultPair]bool
	held     []net.Conn
	stmts    map[string]string // prepared statement name → SQL
	armed    *dbfaultArmed
	accepted int
	wg       sync.WaitGroup
}

// dbfaultPair is one proxied connection.
type dbfaultPair struct {
	client, server net.Conn
	buf            []byte // an incomplete client message
	started        bool   // the startup message is past
	commit         *dbfaultArmed
	cutReply       *dbfaultArmed // the next server bytes start its outage
}

func dbfaultNewProxy(t *testing.T, target string, length time.Duration) *dbfaultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbfaultProxy{t: t, target: target, addr: ln.Addr().String(), length: length, stop: make(chan struct{}),
		ln: ln, pairs: map[*dbfaultPair]bool{}, stmts: map[string]string{}}
	p.serve(ln)
	t.Cleanup(p.close)
	return p
}

// serve accepts connections on ln until it is closed. p.mu is held or
// the proxy not yet shared.
func (p *dbfaultProxy) serve(ln net.Listener) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			switch {
			case p.closed:
				c.Close()
			case p.outage != nil:
				p.held = append(p.held, c)
				p.outage.held++
			default:
				p.wg.Add(1)
				go p.forward(c)
			}
			p.mu.Unlock()
		}
	}()
}

// forward proxies one connection until either side closes it.
func (p *dbfaultProxy) forward(c net.Conn) {
	defer p.wg.Done()
	s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	pr := &dbfaultPair{client: c, server: s}
	p.mu.Lock()
	if p.closed || p.outage != nil {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.pairs[pr] = true
	p.accepted++
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		p.pipe(pr, pr.server, pr.client, p.reply)
	}()
	p.pipe(pr, pr.client, pr.server, p.request)
}

// pipe copies from src to dst, each read passed to inspect first, which
// may keep it from dst and end the connection.
func (p *dbfaultProxy) pipe(pr *dbfaultPair, src, dst net.Conn, inspect func(*dbfaultPair, []byte) bool) {
	b := make([]byte, 32<<10)
	for {
		n, err := src.Read(b)
		if n > 0 {
			if !inspect(pr, b[:n]) {
				break
			}
			if _, err := dst.Write(b[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	p.mu.Lock()
	delete(p.pairs, pr)
	p.mu.Unlock()
	pr.client.Close()
	pr.server.Close()
}

// request reads the client's messages, and reports whether the data may
// go on to the server.
func (p *dbfaultProxy) request(pr *dbfaultPair, data []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr.buf = append(pr.buf, data...)
	for {
		typ, body, ok := pr.next()
		if !ok {
			return true
		}
		var sql string
		switch typ {
		case 'P': // Parse: name, query
			name, rest := dbfaultCString(body)
			sql, _ = dbfaultCString(rest)
			if name != "" {
				p.stmts[name] = sql
			}
		case 'B': // Bind: portal, statement
			_, rest := dbfaultCString(body)
			name, _ := dbfaultCString(rest)
			sql = p.stmts[name]
		case 'Q': // a simple query
			sql, _ = dbfaultCString(body)
		default:
			continue
		}
		if a := pr.commit; a != nil && strings.EqualFold(strings.TrimSpace(sql), "commit") {
			pr.commit, pr.cutReply = nil, a
			continue
		}
		if a := p.armed; a != nil && a.stmt != "" && strings.Contains(sql, a.stmt) {
			p.armed = nil
			if a.afterCommit {
				pr.commit = a
				continue
			}
			p.begin(a)
			return false
		}
	}
}

// reply reports whether the server's data may go on to the client: not
// the answer to a COMMIT an outage waits for.
func (p *dbfaultProxy) reply(pr *dbfaultPair, data []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := pr.cutReply; a != nil {
		pr.cutReply = nil
		p.begin(a)
		return false
	}
	return true
}

// next takes the next complete message from the client's buffer: its
// type, 0 for the untyped startup packets, and its body.
func (pr *dbfaultPair) next() (typ byte, body []byte, ok bool) {
	hdr := 5
	if !pr.started {
		hdr = 4
	}
	if len(pr.buf) < hdr {
		return 0, nil, false
	}
	n := int(binary.BigEndian.Uint32(pr.buf[hdr-4 : hdr]))
	total := hdr - 4 + n
	if n < 4 || len(pr.buf) < total {
		return 0, nil, false
	}
	if pr.started {
		typ = pr.buf[0]
	} else if total >= 8 && binary.BigEndian.Uint32(pr.buf[4:8]) == 196608 { // protocol 3.0, after any SSL or GSS request
		pr.started = true
	}
	body = slices.Clone(pr.buf[hdr:total])
	pr.buf = slices.Clone(pr.buf[total:])
	return typ, body, true
}

// dbfaultCString splits a NUL-terminated string off b.
func dbfaultCString(b []byte) (string, []byte) {
	i := slices.Index(b, 0)
	if i < 0 {
		return string(b), nil
	}
	return string(b[:i]), b[i+1:]
}

// arm has the next statement matching tr (or, without one, the call
// itself) start an outage. The channel gets the outage once it is over.
func (p *dbfaultProxy) arm(tr dbfaultTrigger) <-chan dbfaultOutage {
	a := &dbfaultArmed{dbfaultTrigger: tr, done: make(chan dbfaultOutage, 1)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if tr.stmt == "" {
		p.begin(a) // at once
	} else {
		p.armed = a
	}
	return a.done
}

// disarm drops a trigger not met, and one waiting for its COMMIT.
func (p *dbfaultProxy) disarm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = nil
	for pr := range p.pairs {
		pr.commit = nil
	}
}

// connections counts the connections forwarded so far.
func (p *dbfaultProxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// begin makes the database unavailable for p.length: every open
// connection is cut, and new ones are refused or held. p.mu is held.
func (p *dbfaultProxy) begin(a *dbfaultArmed) {
	if p.closed || p.outage != nil {
		a.done <- dbfaultOutage{name: a.name, mode: a.mode, err: fmt.Errorf("the database is already unavailable")}
		return
	}
	o := &dbfaultOutage{name: a.name, mode: a.mode, began: time.Now(), cut: len(p.pairs), acceptedAtBegin: p.accepted}
	p.outage = o
	if a.mode == dbfaultRefuse {
		p.ln.Close()
	}
	for pr := range p.pairs {
		if tc, ok := pr.client.(*net.TCPConn); ok && a.mode == dbfaultBlackHole {
			tc.SetLinger(0) // a reset
		}
		pr.client.Close()
		pr.server.Close()
	}
	clear(p.pairs)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case <-time.After(p.length):
		case <-p.stop:
		}
		a.done <- p.end()
	}()
}

// end ends the outage: held connections are closed, and a closed
// listener opens again on the same address.
func (p *dbfaultProxy) end() dbfaultOutage {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.outage
	p.outage = nil
	for _, c := range p.held {
		c.Close()
	}
	p.held = nil
	if o.mode == dbfaultRefuse && !p.closed {
		var err error
		for range 100 {
			var ln net.Listener
			if ln, err = net.Listen("tcp", p.addr); err == nil {
				p.ln = ln
				p.serve(ln)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			o.err = fmt.Errorf("listen again on %s: %w", p.addr, err)
		}
	}
	o.back, o.acceptedAtBack = time.Now(), p.accepted
	return *o
}

func (p *dbfaultProxy) close() {
	p.mu.Lock()
	p.closed = true
	close(p.stop)
	p.ln.Close()
	for pr := range p.pairs {
		pr.client.Close()
		pr.server.Close()
	}
	for _, c := range p.held {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// dbfaultLog is the job queue's slog handler: it counts failed job
// attempts by kind, and River's own warnings and errors.
type dbfaultLog struct {
	mu     sync.Mutex
	failed map[string]int
	errors []string // of the failed attempts
	river  []string
}

// dbfaultRiverLog is dbfaultLog for River's logger (its records carry
// component=river).
type dbfaultRiverLog struct{ *dbfaultLog }

func (h *dbfaultLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *dbfaultLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "job failed" || r.Level < slog.LevelWarn {
		return nil
	}
	var kind, msg string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "job":
			kind = a.Value.String()
		case "error":
			msg = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.failed[kind]++
	h.errors = append(h.errors, r.Time.Format("15:04:05.000 ")+kind+": "+msg)
	h.mu.Unlock()
	return nil
}

func (h *dbfaultLog) WithAttrs(as []slog.Attr) slog.Handler {
	for _, a := range as {
		if a.Key == "component" && a.Value.String() == "river" {
			return dbfaultRiverLog{h}
		}
	}
	return h
}

func (h *dbfaultLog) WithGroup(string) slog.Handler { return h }

func (h dbfaultRiverLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h dbfaultRiverLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Time.Format("15:04:05.000 ") + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.river = append(h.river, b.String())
	h.mu.Unlock()
	return nil
}

func (h dbfaultRiverLog) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h dbfaultRiverLog) WithGroup(string) slog.Handler { return h }

// failures returns the failed attempts by kind, and their errors.
func (h *dbfaultLog) failures() (string, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for k, n := range h.failed {
		out = append(out, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(out)
	if len(out) == 0 {
		return "none", nil
	}
	return strings.Join(out, ", "), slices.Clone(h.errors)
}

func (h *dbfaultLog) riverCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.river)
}

func (h *dbfaultLog) lastRiver() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.river[max(0, len(h.river)-30):])
}

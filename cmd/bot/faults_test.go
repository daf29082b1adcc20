package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/internal/fakeopenai"
	"github.com/briefbot/briefbot/internal/feedserver"
	"github.com/briefbot/briefbot/jobs"
)

// TestFaults runs the whole scheduled pipeline (a feed polled into the
// store, a briefing built on the schedule, posted to the fake Discord)
// through the real job queue, once per class of fault, with the fault
// injected on the wire (fake Discord REST and gateway, fake language
// model, feed server) or in the database. Each class counts the faults it
// injected, the posts it expected and saw, duplicate posts, slots never
// posted and articles the feed served that were never stored; any
// duplicate or loss fails it. The table is logged at the end.
//
// The kill class kills the job queue at random moments of 20 multi-part
// deliveries; BRIEFBOT_FAULT_SEED repeats a run's kill points.
func TestFaults(t *testing.T) {
	var (
		mu   sync.Mutex
		rows []*faultCounts
	)
	t.Cleanup(func() {
		slices.SortFunc(rows, func(a, b *faultCounts) int { return strings.Compare(a.order, b.order) })
		var b strings.Builder
		fmt.Fprintf(&b, "%-16s %6s %8s %5s %5s %10s %13s  %s\n", "class", "faults", "expected", "seen", "dups", "lost slots", "lost articles", "notes")
		for _, r := range rows {
			fmt.Fprintf(&b, "%-16s %6d %8d %5d %5d %10d %13d  %s\n", r.class, r.faults, r.expected, r.seen, r.duplicates, r.lostSlots, r.lostArticles, strings.Join(r.notes, "; "))
		}
		t.Logf("fault injection summary:\n%s", b.String())
	})
	for i, fc := range faultClasses {
		t.Run(fc.name, func(t *testing.T) {
			t.Parallel()
			c := &faultCounts{class: fc.name, order: fmt.Sprintf("%02d", i)}
			mu.Lock()
			rows = append(rows, c)
			mu.Unlock()
			start := time.Now()
			fc.run(t, c)
			c.note("%.1fs", time.Since(start).Seconds())
			if c.duplicates > 0 || c.lostSlots > 0 || c.lostArticles > 0 {
				t.Errorf("%s: %d duplicate posts, %d lost slots, %d lost articles", fc.name, c.duplicates, c.lostSlots, c.lostArticles)
			}
			if c.faults == 0 {
				t.Errorf("%s: no fault was injected", fc.name)
			}
		})
	}
}

// faultClasses are the classes of TestFaults, in the order of its table.
var faultClasses = []struct {
	name string
	run  func(t *testing.T, c *faultCounts)
}{
	{"discord-429", testFaultDiscord429},
	{"discord-429-glob", testFaultDiscordGlobal429},
	{"discord-5xx", testFaultDiscord5xx},
	{"discord-slow", testFaultDiscordSlow},
	{"gateway", testFaultGateway},
	{"llm-429", testFaultLLM429},
	{"llm-500", testFaultLLM500},
	{"llm-hang", testFaultLLMHang},
	{"llm-truncated", testFaultLLMTruncated},
	{"llm-garbage", testFaultLLMGarbage},
	{"feed-hang", testFaultFeedHang},
	{"feed-reset", testFaultFeedReset},
	{"feed-endless", testFaultFeedEndless},
	{"db-locked", testFaultDBLocked},
	{"kill", testFaultKill},
}

// faultCounts is one row of the summary.
type faultCounts struct {
	class, order string
	faults       int // faults injected and met
	expected     int // posts expected: every part of every slot
	seen         int // posts seen in the channel
	duplicates   int // posts of a part already posted
	lostSlots    int // slots not posted whole
	lostArticles int // articles served, never stored
	notes        []string
}

func (c *faultCounts) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// faultEnv is a schedEnv with a feed on a local feed server, one
// subscription on a fixed schedule, and the real job queue.
type faultEnv struct {
	*schedEnv
	feeds   *feedserver.Server
	llm     *fakeopenai.Server
	src     digest.Source
	sub     digest.Subscription
	spacing time.Duration // between slots
	base    time.Time     // the first slot is base+spacing
	// directPolls polls in the test, not through the job queue.
	directPolls bool

	mu     sync.Mutex
	queue  *jobs.Queue
	kill   func()
	items  []feedItem // what the feed serves now
	served []string   // every article URL the feed has served
	slots  []time.Time
}

type faultOptions struct {
	spacing time.Duration // between slots: 10m unless set
	llm     bool          // summarize with the fake language model
}

const faultChannel = "200000000000000901"

func newFaultEnv(t *testing.T, opts faultOptions) *faultEnv {
	t.Helper()
	if opts.spacing == 0 {
		opts.spacing = 10 * time.Minute
	}
	base := time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC)
	yaml := "fetch:\n  timeout: 1s\n  max_body_mb: 1\n"
	var llm *fakeopenai.Server
	if opts.llm {
		llm = fakeopenai.New(t)
		llm.Otherwise(fakeopenai.Response{Func: fakeopenai.FirstSentence})
		yaml += fmt.Sprintf("llm:\n  base_url: %s\n  model: test-model\n  timeout: 1s\n", llm.URL())
	}
	began := time.Now()
	se := newSchedEnv(t, schedOptions{start: base, yaml: yaml})
	t.Logf("environment ready in %s", time.Since(began).Round(time.Millisecond))
	e := &faultEnv{schedEnv: se, feeds: feedserver.New(t), llm: llm, spacing: opts.spacing, base: base}
	ctx := t.Context()
	// The schedule tests' source is not fetchable: the feed server's is.
	if err := e.store.RemoveSource(ctx, e.source.Name); err != nil {
		t.Fatal(err)
	}
	var err error
	e.src, err = e.store.AddSource(ctx, digest.Source{Name: "feed", URL: e.feeds.URL + "/feed.xml", Interval: time.Minute, AllowPrivate: true, Origin: digest.OriginConfig})
	if err != nil {
		t.Fatal(err)
	}
	e.setFeed()
	spec := fmt.Sprintf("*/%d * * * *", int(opts.spacing.Minutes())) // spacing divides an hour
	e.sub = e.subscribe(faultChannel, spec, "UTC", nothingNew)
	return e
}

// faultRescueAfter is the queue's jobs.rescue_after. Every job's timeout
// is 90% of it: long enough for a build or a delivery on a loaded
// two-core machine under the race detector, short enough that a job a
// kill left running is rescued soon.
const faultRescueAfter = 5 * time.Second

// start starts the real job queue on the environment's SQLite database,
// as schedEnv.startJobs does but with faultRescueAfter, ticking every
// second on the injected clock (faultEnv.set ticks too) and looking for
// jobs every 200 ms (a quarter of the CPU of 50 ms under -race). Its
// kill func abandons it as kill -9 would, closing its connections first
// so nothing more is recorded.
func (e *faultEnv) start() {
	e.t.Helper()
	cfg := jobs.Config{
		Tick: time.Second, PollInterval: 200 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond,
		RescueAfter: faultRescueAfter, Log: slog.New(slog.DiscardHandler),
	}
	db, _, err := e.store.JobsDB(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	if err := jobs.Migrate(e.t.Context(), db); err != nil {
		e.t.Fatal(err)
	}
	q, err := jobs.New(db, e.w, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := q.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	var killed chan struct{}
	e.t.Cleanup(func() {
		if killed != nil {
			<-killed
			return
		}
		q.Stop(5 * time.Second)
	})
	e.mu.Lock()
	e.queue, e.kill = q, func() {
		db.Close()
		// Kill cancels the running jobs at once, then waits up to 5 s
		// for River to give up on its closed connections: the restart
		// does not wait for that, as a new process would not.
		killed = make(chan struct{})
		go func() {
			defer close(killed)
			q.Kill()
		}()
	}
	e.mu.Unlock()
}

// killAndRestart kills the queue as kill -9 would and starts another on
// the same database, as a restarted process does.
func (e *faultEnv) killAndRestart() {
	e.mu.Lock()
	kill := e.kill
	e.mu.Unlock()
	kill()
	e.start()
}

// set moves the clock and runs a tick on the live queue at once, besides
// the queue's own ticks (which stop while a killed queue held the lead).
func (e *faultEnv) set(at time.Time) {
	e.t.Helper()
	e.clk.Set(at)
	e.mu.Lock()
	q := e.queue
	e.mu.Unlock()
	if q == nil {
		return
	}
	if err := e.w.Tick(e.t.Context(), q); err != nil {
		e.t.Logf("tick at %s: %v", at.Format("15:04:05"), err)
	}
}

// feedItem is one item of the feed.
type feedItem struct {
	title, url, text string
	published        time.Time
}

// setFeed serves the current items.
func (e *faultEnv) setFeed() {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Fault Wire</title><link>https://wire.example/</link>`)
	for _, it := range e.items {
		fmt.Fprintf(&b, "<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate><description><![CDATA[<p>%s</p>]]></description></item>",
			it.title, it.url, it.url, it.published.Format(time.RFC1123Z), it.text)
	}
	b.WriteString("</channel></rss>")
	e.feeds.Set("/feed.xml", feedserver.Doc{Body: b.String()})
}

// syllables make up the made-up words of generated stories: random
// words keep stories apart, so each becomes a story of its own.
var syllables = strings.Fields("ba ko ri tan mel su vo ga ni pel dor ka lu fen zi ro mu tes ha bri no quo val sen ti ra mo plen dus wer")

// faultStory is a made-up story: random words keep stories apart, so
// each becomes a story of its own; each is long enough to be taken from
// the feed without fetching its page, with a long title and link, so
// that six of them need more than one message.
type faultStory struct{ title, url, text string }

// newFaultStories makes n stories for slot, the same for the same slot
// and seed.
func newFaultStories(slot time.Time, seed uint64, n int) []faultStory {
	r := rand.New(rand.NewPCG(uint64(slot.Unix()), seed))
	word := func() string {
		var w strings.Builder
		for range 2 + r.IntN(2) {
			w.WriteString(syllables[r.IntN(len(syllables))])
		}
		return w.String()
	}
	words := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			ws[i] = word()
		}
		return strings.Join(ws, " ")
	}
	out := make([]faultStory, n)
	for i := range out {
		slug := strings.ReplaceAll(words(14), " ", "-")
		st := faultStory{
			title: fmt.Sprintf("North Korea %s (%s %d)", words(22), slot.Format("15:04"), i+1),
			url:   fmt.Sprintf("https://wire.example/%s/%s-%d", slot.Format("2006/01/02/1504"), slug, i+1),
		}
		var text strings.Builder
		fmt.Fprintf(&text, "Envoys of North Korea met in %s on %s.", strings.ToUpper(word()[:1])+word()[1:], slot.Format("Monday"))
		for range 9 {
			s := words(15)
			fmt.Fprintf(&text, " %s%s.", strings.ToUpper(s[:1]), s[1:])
		}
		st.text = text.String()
		out[i] = st
	}
	return out
}

// newItems puts n new stories in the feed for slot (newFaultStories).
func (e *faultEnv) newItems(slot time.Time, n int) []string {
	var urls []string
	for _, st := range newFaultStories(slot, 7, n) {
		urls = append(urls, st.url)
		e.items = append(e.items, feedItem{title: st.title, url: st.url, text: st.text, published: slot.Add(-e.spacing / 2)})
	}
	if len(e.items) > 3*n {
		e.items = e.items[len(e.items)-3*n:]
	}
	e.served = append(e.served, urls...)
	e.setFeed()
	return urls
}

// stored reports whether every URL is an article in the store.
func (e *faultEnv) stored(urls []string) bool {
	for _, u := range urls {
		if _, err := e.store.FindArticle(context.Background(), digest.ArticleKeys{URL: u}); err != nil {
			return false
		}
	}
	return true
}

// pollUntilStored moves the clock a minute at a time over the minutes
// before slot, waiting at each step for the poll due then, until every
// URL is stored or slot is reached. It reports whether they were stored.
func (e *faultEnv) pollUntilStored(slot time.Time, urls []string) bool {
	e.t.Helper()
	for at := slot.Add(-e.spacing + 2*time.Minute); at.Before(slot); at = at.Add(time.Minute) {
		e.set(at)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if e.stored(urls) {
				return true
			}
			src, err := e.store.SourceByID(context.Background(), e.src.ID)
			if err != nil {
				e.t.Fatal(err)
			}
			if !src.State.LastPoll.Before(at) || src.State.NextPoll.After(at) {
				break // polled at this step, or not due
			}
			if e.directPolls {
				if err := e.w.Poll(e.t.Context(), digest.PollJob{SourceID: src.ID, Due: src.State.NextPoll}, e.schedEnv.q); err != nil {
					e.t.Fatalf("poll at %s: %v", at.Format("15:04"), err)
				}
				continue
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return e.stored(urls)
}

// slot returns the next slot, after putting its stories in the feed and
// polling them in (a fault may delay them to a later slot).
func (e *faultEnv) slot(stories int) time.Time {
	e.t.Helper()
	slot := e.base.Add(time.Duration(len(e.slots)+1) * e.spacing)
	e.slots = append(e.slots, slot)
	urls := e.newItems(slot, stories)
	if !e.pollUntilStored(slot, urls) {
		e.t.Logf("slot %s: its articles were not all stored before it", slot.Format("15:04"))
	}
	return slot
}

// key returns the delivery key of a slot.
func (e *faultEnv) key(slot time.Time) string { return slotKey(e.sub, slot) }

// settled reports whether the slot's delivery is recorded and finished.
func (e *faultEnv) settled(slot time.Time) bool {
	d, err := e.store.Delivery(context.Background(), e.key(slot))
	return err == nil && d.State != digest.DeliveryPending
}

// deliver moves the clock just past the slot and waits up to limit for
// its delivery to finish, reporting whether it did.
func (e *faultEnv) deliver(slot time.Time, limit time.Duration) bool {
	e.set(slot.Add(30 * time.Second))
	return e.waitSettled(limit, slot)
}

// waitSettled waits up to limit for the slots' deliveries to finish.
func (e *faultEnv) waitSettled(limit time.Duration, slots ...time.Time) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !slices.ContainsFunc(slots, func(s time.Time) bool { return !e.settled(s) }) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// catchUp lets the feed be polled once more after the last slot, so that
// articles a fault kept out are stored.
func (e *faultEnv) catchUp() {
	e.t.Helper()
	after := e.base.Add(time.Duration(len(e.slots)+1) * e.spacing)
	e.pollUntilStored(after, e.served)
}

var partTag = regexp.MustCompile(`ref ([0-9a-f]{8})-(\d+)`)

// ref is discord.deliveryRef: the tag of a delivery's parts.
func ref(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

// count fills c from the channel and the store: every slot should be
// done, with each of its parts posted once, and every article the feed
// served stored.
func (e *faultEnv) count(c *faultCounts) {
	e.t.Helper()
	ctx := context.Background()
	// A slot slower than its class waited for (on a loaded machine) is
	// late, not lost.
	if !e.waitSettled(time.Minute, e.slots...) {
		e.t.Logf("a slot is still not delivered a minute later")
	}
	tags := map[string]int{}
	for _, m := range e.srv.Messages(faultChannel) {
		if m.InteractionID != "" {
			continue // a /brief answer
		}
		c.seen++
		if tag := partTag.FindString(m.Content); tag != "" {
			tags[tag]++
		} else {
			e.t.Errorf("a post without a part tag: %.200q", m.Content)
		}
	}
	known := map[string]bool{}
	for _, slot := range e.slots {
		key := e.key(slot)
		d, err := e.store.Delivery(ctx, key)
		if err != nil || d.State != digest.DeliveryDone {
			c.lostSlots++
			c.expected++
			e.t.Errorf("slot %s: delivery %+v (%v), want done", slot.Format("15:04"), d, err)
			continue
		}
		c.expected += d.Parts
		for i := range d.Parts {
			tag := fmt.Sprintf("ref %s-%d", ref(key), i+1)
			known[tag] = true
			switch n := tags[tag]; {
			case n == 0:
				c.lostSlots++
				e.t.Errorf("slot %s: part %d of %d never posted", slot.Format("15:04"), i+1, d.Parts)
			case n > 1:
				c.duplicates += n - 1
				e.t.Errorf("slot %s: part %d posted %d times", slot.Format("15:04"), i+1, n)
			}
		}
		if len(d.MessageIDs) != d.Parts {
			e.t.Errorf("slot %s: %d of %d parts recorded", slot.Format("15:04"), len(d.MessageIDs), d.Parts)
		}
	}
	for tag, n := range tags {
		if !known[tag] {
			c.duplicates += n
			e.t.Errorf("%d posts tagged %s, a part of no slot's delivery", n, tag)
		}
	}
	for _, u := range e.served {
		if _, err := e.store.FindArticle(ctx, digest.ArticleKeys{URL: u}); err != nil {
			c.lostArticles++
			e.t.Errorf("article %s served but not stored: %v", u, err)
		}
	}
}

// posts returns the channel's posts (not /brief answers), as text.
func (e *faultEnv) posts() string {
	var b strings.Builder
	for _, m := range e.srv.Messages(faultChannel) {
		if m.InteractionID == "" {
			b.WriteString(m.Content)
			b.Write(m.Raw)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// runSlots runs n slots of stories stories each, calling inject before
// each delivery, and counts.
func (e *faultEnv) runSlots(c *faultCounts, n, stories int, limit time.Duration, inject func(i int, slot time.Time)) {
	e.t.Helper()
	for i := range n {
		start := time.Now()
		slot := e.slot(stories)
		polled := time.Since(start)
		if inject != nil {
			inject(i, slot)
		}
		if !e.deliver(slot, limit) {
			e.t.Logf("slot %s: not delivered within %s", slot.Format("15:04"), limit)
		}
		e.t.Logf("slot %s: polled in %s, delivered in %s", slot.Format("15:04"), polled.Round(time.Millisecond), (time.Since(start) - polled).Round(time.Millisecond))
	}
	began := time.Now()
	e.catchUp()
	e.count(c)
	e.t.Logf("caught up and counted in %s", time.Since(began).Round(time.Millisecond))
}

// discordFaults injects faults on posting messages and returns a func
// that counts those met.
func (e *faultEnv) discordFaults(route string, fs ...fakediscord.Fault) func() int {
	before := e.srv.PendingFaults()
	e.srv.Inject(route, fs...)
	return func() int { return before + len(fs) - e.srv.PendingFaults() }
}

const postRoute = "POST /channels/*/messages"

// testFaultDiscord429: each slot's first posts are rate limited on
// their route, with Retry-After and the bucket headers.
func testFaultDiscord429(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{})
	e.start()
	var met []func() int
	e.runSlots(c, 3, 7, 30*time.Second, func(i int, slot time.Time) {
		met = append(met, e.discordFaults(postRoute, fakediscord.Fault{Status: 429, RetryAfter: 0.2}, fakediscord.Fault{Status: 429, RetryAfter: 0.3}))
	})
	for _, m := range met {
		c.faults += m()
	}
}

// testFaultDiscordGlobal429: the global rate limit (X-RateLimit-Global).
func testFaultDiscordGlobal429(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{})
	e.start()
	var met []func() int
	e.runSlots(c, 3, 7, 30*time.Second, func(i int, slot time.Time) {
		met = append(met, e.discordFaults(postRoute, fakediscord.Fault{Status: 429, RetryAfter: 0.3, Global: true}, fakediscord.Fault{Status: 429, RetryAfter: 0.2, Global: true}))
	})
	for _, m := range met {
		c.faults += m()
	}
}

// testFaultDiscord5xx: 500, a Cloudflare 502 page and 503, more in a row
// than one attempt of a delivery retries, so the job is retried too.
func testFaultDiscord5xx(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{})
	e.start()
	var met []func() int
	e.runSlots(c, 3, 7, 30*time.Second, func(i int, slot time.Time) {
		met = append(met, e.discordFaults(postRoute,
			fakediscord.Fault{Status: 500},
			fakediscord.Fault{Status: 502, Body: "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"},
			fakediscord.Fault{Status: 503},
			fakediscord.Fault{Status: 503, RetryAfter: 1},
			fakediscord.Fault{Status: 500},
		))
	})
	for _, m := range met {
		c.faults += m()
	}
}

// testFaultDiscordSlow: a post answered after the delivery's timeout (the
// fake creates the message anyway, as Discord may), a slow one within
// it, and a slow read of the channel while looking for a part.
func testFaultDiscordSlow(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{})
	e.start()
	var met []func() int
	e.runSlots(c, 3, 7, 40*time.Second, func(i int, slot time.Time) {
		switch i {
		case 0:
			met = append(met, e.discordFaults(postRoute, fakediscord.Fault{Delay: 5 * time.Second}))
		case 1:
			met = append(met, e.discordFaults(postRoute, fakediscord.Fault{Delay: 700 * time.Millisecond}, fakediscord.Fault{Delay: 5 * time.Second}))
		case 2:
			met = append(met, e.discordFaults(postRoute, fakediscord.Fault{Delay: 5 * time.Second}))
			met = append(met, e.discordFaults("GET /channels/*/messages", fakediscord.Fault{Delay: 5 * time.Second}))
		}
	})
	for _, m := range met {
		c.faults += m()
	}
}

// testFaultGateway: the gateway closes with 4000 (resumable), drops
// without a close frame (1006), and invalidates the session (op 9) while
// a slot is being delivered; after each the bot answers /brief and the
// slot is posted.
func testFaultGateway(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{})
	e.start()
	faults := []struct {
		name string
		do   func()
	}{
		{"close 4000", func() { e.srv.CloseGateway(4000) }},
		{"drop (1006)", e.srv.DropGateway},
		{"invalid session", e.srv.InvalidateSession},
	}
	answered := 0
	for _, f := range faults {
		slot := e.slot(7)
		identifies, resumes := len(e.srv.Identifies()), len(e.srv.Resumes())
		e.set(slot.Add(30 * time.Second))
		f.do()
		c.faults++
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		waitUntil(t, 20*time.Second, "the gateway to come back after "+f.name, func() bool {
			return len(e.srv.Identifies())+len(e.srv.Resumes()) > identifies+resumes && e.srv.Connected()
		})
		sent, err := e.srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: schedGuild, ChannelID: faultChannel,
			Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks")}})
		if err != nil {
			t.Fatalf("after %s: %v", f.name, err)
		}
		var m fakediscord.Message
		for ctx.Err() == nil && len(m.Embeds) == 0 {
			if m, err = e.srv.WaitResponseMessage(ctx, sent.ID); len(m.Embeds) == 0 {
				time.Sleep(20 * time.Millisecond) // "Reading…" first
			}
		}
		cancel()
		if err != nil || len(m.Embeds) == 0 {
			t.Errorf("after %s: /brief answered %q with %d embeds (%v)", f.name, m.Content, len(m.Embeds), err)
		} else {
			answered++
		}
		if !e.waitSettled(30*time.Second, slot) {
			t.Logf("after %s: slot %s not delivered", f.name, slot.Format("15:04"))
		}
		c.note("%s: %d identify, %d resume", f.name, len(e.srv.Identifies())-identifies, len(e.srv.Resumes())-resumes)
	}
	c.note("/brief answered %d of %d", answered, len(faults))
	e.catchUp()
	e.count(c)
}

// llmFaults scripts the language model's next replies and returns a func
// that counts those met.
func (e *faultEnv) llmFaults(rs ...fakeopenai.Response) func() int {
	before := e.llm.Pending()
	e.llm.Enqueue(rs...)
	return func() int { return before + len(rs) - e.llm.Pending() }
}

// checkSummaries notes how the language model was used.
func (e *faultEnv) checkSummaries(c *faultCounts) {
	posts := e.posts()
	c.note("%d LLM calls, fallback noted in %d posts", e.llm.Calls(), strings.Count(posts, "without the language model"))
}

// testFaultLLM429: the language model rate limits with Retry-After.
func testFaultLLM429(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{llm: true})
	e.start()
	var met []func() int
	e.runSlots(c, 3, 6, 30*time.Second, func(i int, slot time.Time) {
		ra := fakeopenai.Response{Status: 429, Header: http.Header{"Retry-After": {"1"}}, Content: "Rate limit reached for requests"}
		met = append(met, e.llmFaults(ra, ra))
	})
	for _, m := range met {
		c.faults += m()
	}
	e.checkSummaries(c)
}

// testFaultLLM500: server errors, one story's all three attempts.
func testFaultLLM500(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{llm: true})
	e.start()
	var met []func() int
	e.runSlots(c, 3, 6, 30*time.Second, func(i int, slot time.Time) {
		met = append(met, e.llmFaults(fakeopenai.Response{Status: 500}, fakeopenai.Response{Status: 502}, fakeopenai.Response{Status: 503}))
	})
	for _, m := range met {
		c.faults += m()
	}
	e.checkSummaries(c)
}

// testFaultLLMHang: the language model accepts every request and never
// answers (longer than llm.timeout) for a whole slot: the briefing is
// posted anyway, by the extractive summarizer, and says so.
func testFaultLLMHang(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{llm: true})
	e.start()
	hang := fakeopenai.Response{Delay: time.Minute}
	e.runSlots(c, 2, 6, 30*time.Second, func(i int, slot time.Time) {
		if i == 0 {
			e.llm.Otherwise(hang)
		}
	})
	c.faults = e.llm.Calls()
	if n := strings.Count(e.posts(), "the language model timed out"); n < 2 {
		t.Errorf("%d posts say the language model timed out, want both briefings to", n)
	}
	e.checkSummaries(c)
}

// testFaultLLMTruncated: replies cut off mid-body.
func testFaultLLMTruncated(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{llm: true})
	e.start()
	var met []func() int
	e.runSlots(c, 3, 6, 30*time.Second, func(i int, slot time.Time) {
		cut := fakeopenai.Response{Func: func(r fakeopenai.Request) fakeopenai.Response {
			resp := fakeopenai.FirstSentence(r)
			resp.Truncate = true
			return resp
		}}
		met = append(met, e.llmFaults(cut, cut))
	})
	for _, m := range met {
		c.faults += m()
	}
	e.checkSummaries(c)
}

// inventedMarkers are in the garbage replies only: none may be posted.
var inventedMarkers = []string{"Zorblatt", "9999", "INVENTED"}

// testFaultLLMGarbage: a body that is not JSON, a reply that is not the
// schema, and a well-formed reply inventing names and numbers; the
// briefings are posted with none of it.
func testFaultLLMGarbage(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{llm: true})
	e.start()
	var met []func() int
	e.runSlots(c, 3, 6, 30*time.Second, func(i int, slot time.Time) {
		met = append(met, e.llmFaults(
			fakeopenai.Response{Body: "<html><body>INVENTED upstream error</body></html>"},
			fakeopenai.Response{Content: "Sure! Here is INVENTED text, not JSON at all { bullets: "},
			fakeopenai.Response{Content: `{"headline": "Envoys met", "bullets": [{"text": "Officials of Zorblatt counted 9999 delegates at the talks.", "citations": [1]}]}`},
			fakeopenai.Response{Content: `{"headline": "Envoys met", "bullets": [{"text": "Zorblatt said 9999 envoys met in North Korea.", "citations": [7]}]}`},
		))
	})
	for _, m := range met {
		c.faults += m()
	}
	posts := e.posts()
	for _, s := range inventedMarkers {
		if strings.Contains(posts, s) {
			t.Errorf("a post carries %q, which only a garbage reply had", s)
		}
	}
	e.checkSummaries(c)
}

// feedFaults injects faults on the feed and returns a func that counts
// those met.
func (e *faultEnv) feedFaults(fs ...feedserver.Fault) func() int {
	before := e.feeds.PendingFaults()
	e.feeds.Inject("/feed.xml", fs...)
	return func() int { return before + len(fs) - e.feeds.PendingFaults() }
}

// runFeedFaults runs three slots, injecting fs before each slot's
// stories are polled.
func (e *faultEnv) runFeedFaults(c *faultCounts, fs ...feedserver.Fault) {
	e.t.Helper()
	e.start()
	var met []func() int
	for range 3 {
		// The slot's poll meets the faults first.
		met = append(met, e.feedFaults(fs...))
		slot := e.slot(7)
		if !e.deliver(slot, 30*time.Second) {
			e.t.Logf("slot %s: not delivered", slot.Format("15:04"))
		}
	}
	e.catchUp()
	e.count(c)
	for _, m := range met {
		c.faults += m()
	}
	src, err := e.store.SourceByID(context.Background(), e.src.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if src.State.Disabled {
		e.t.Errorf("source disabled: %s", src.State.LastError)
	}
}

// testFaultFeedHang: the feed server accepts the request and sends
// nothing for longer than fetch.timeout.
func testFaultFeedHang(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{spacing: 20 * time.Minute})
	e.runFeedFaults(c, feedserver.Fault{Hang: 10 * time.Second})
}

// testFaultFeedReset: the connection is reset (twice, as net/http
// retries a GET once on a reused connection).
func testFaultFeedReset(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{spacing: 20 * time.Minute})
	e.runFeedFaults(c, feedserver.Fault{Reset: true}, feedserver.Fault{Reset: true})
}

// testFaultFeedEndless: a feed whose body never ends is cut at
// fetch.max_body_mb.
func testFaultFeedEndless(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{spacing: 20 * time.Minute})
	e.runFeedFaults(c, feedserver.Fault{Endless: true})
	c.note("%.1f MB of endless bodies sent", float64(e.feeds.EndlessBytes())/(1<<20))
}

// lockDB holds SQLite's write lock from a connection of its own, as
// another process would with BEGIN IMMEDIATE, for d; it returns at once
// and waits in the background.
func (e *faultEnv) lockDB(d time.Duration) (done <-chan struct{}) {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.cfg.Database+"?_pragma=busy_timeout(20000)")
	if err != nil {
		e.t.Fatal(err)
	}
	conn, err := db.Conn(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := conn.ExecContext(e.t.Context(), "BEGIN IMMEDIATE"); err != nil {
		e.t.Fatal(err)
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		time.Sleep(d)
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			e.t.Errorf("release the lock: %v", err)
		}
		conn.Close()
		db.Close()
	}()
	return ch
}

// testFaultDBLocked: another connection holds the database's write lock
// for 3 s while a slot is delivered, then while its stories are polled,
// then for 12 s (past the 10 s busy timeout: the database is unavailable
// to writers) while a slot is delivered.
func testFaultDBLocked(t *testing.T, c *faultCounts) {
	e := newFaultEnv(t, faultOptions{})
	e.start()
	// Slot 1: locked as it is delivered.
	slot := e.slot(7)
	e.set(slot.Add(30 * time.Second))
	<-e.lockDB(3 * time.Second)
	c.faults++
	if !e.waitSettled(30*time.Second, slot) {
		t.Logf("slot %s: not delivered after a 3 s lock", slot.Format("15:04"))
	}
	// Slot 2: locked as its stories are polled.
	next := e.base.Add(time.Duration(len(e.slots)+1) * e.spacing)
	released := e.lockDB(3 * time.Second)
	c.faults++
	slot = e.slot(7)
	<-released
	if !e.deliver(slot, 30*time.Second) {
		t.Logf("slot %s: not delivered after a lock during its poll", slot.Format("15:04"))
	}
	if !slot.Equal(next) {
		t.Fatalf("slot %s, want %s", slot, next)
	}
	// Slot 3: locked past the busy timeout as it is delivered.
	slot = e.slot(7)
	e.set(slot.Add(30 * time.Second))
	released = e.lockDB(12 * time.Second)
	c.faults++
	<-released
	if !e.waitSettled(60*time.Second, slot) {
		t.Logf("slot %s: not delivered after a 12 s lock", slot.Format("15:04"))
	}
	e.catchUp()
	e.count(c)
}

// faultSeed returns the seed of the kill points: BRIEFBOT_FAULT_SEED,
// else the time.
func faultSeed(t *testing.T) uint64 {
	if s := os.Getenv("BRIEFBOT_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BRIEFBOT_FAULT_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// testFaultKill kills the job queue at a random point of each of 20
// slots and starts a new queue on the same database at once, as a
// restarted process would. Each slot's briefing has two or three parts;
// the fake holds each post 300 ms, before creating the message or after
// (its answer late), at random. The kill point is drawn from a seeded
// RNG: a random moment in the 1.2 s after the slot falls due, the moment
// the delivery is recorded, the moment a part is on Discord but not
// recorded, the moment a part is recorded, or after the delivery is
// done, each but the first with a random delay of up to 50 ms. A job a
// kill leaves running is rescued after faultRescueAfter by the queue
// holding River's lead, which the kills keep taking away, so most
// interrupted deliveries finish together once they stop. Every slot ends
// up posted once, all its parts.
func testFaultKill(t *testing.T, c *faultCounts) {
	seed := faultSeed(t)
	t.Logf("kill points from seed %d (BRIEFBOT_FAULT_SEED=%d repeats them)", seed, seed)
	c.note("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	e := newFaultEnv(t, faultOptions{})
	// A poll job a kill leaves running holds its (source, due) until it
	// is rescued, so the next enqueue of that poll is a no-op: the slots'
	// stories are polled directly, and the kills hit builds and posts.
	e.directPolls = true
	e.start()
	points := []string{"at random", "on record", "on a part created", "on a part recorded", "after done"}
	phases := map[string]int{}
	for range 20 {
		began := time.Now()
		slot := e.slot(7)
		// Each post is held 300 ms by the fake, before the message is
		// created or after (its answer late), at random.
		hold, held := fakediscord.Fault{Delay: 300 * time.Millisecond}, "before"
		if rng.IntN(2) == 0 {
			hold, held = fakediscord.Fault{HoldAnswer: 300 * time.Millisecond}, "after"
		}
		for e.srv.PendingFaults() < 3 {
			e.srv.Inject(postRoute, hold)
		}
		point := rng.IntN(len(points))
		jitter := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		if point == 0 {
			jitter = time.Duration(rng.Int64N(int64(1200 * time.Millisecond)))
		}
		polled := time.Since(began)
		e.set(slot.Add(30 * time.Second))
		e.waitKillPoint(slot, point)
		time.Sleep(jitter)
		found := e.phase(slot)
		reached := time.Since(began)
		e.killAndRestart()
		c.faults++
		phases[points[point]+": "+found]++
		t.Logf("slot %s: polled in %s, posts held %s creation, killed %s (%s) after %s, restarted in %s", slot.Format("15:04"), polled.Round(time.Millisecond),
			held, points[point], found, (reached - polled).Round(time.Millisecond), (time.Since(began) - reached).Round(time.Millisecond))
	}
	began := time.Now()
	if !e.waitSettled(2*time.Minute, e.slots...) {
		t.Errorf("not every slot delivered 2 minutes after the last kill")
	}
	c.note("all settled %.0fs after the last kill", time.Since(began).Seconds())
	multi := 0
	for _, slot := range e.slots {
		if d, err := e.store.Delivery(context.Background(), e.key(slot)); err == nil && d.Parts > 1 {
			multi++
		}
	}
	if multi < len(e.slots)/2 {
		t.Errorf("%d of %d briefings in more than one part: the kills hit too few multi-part posts", multi, len(e.slots))
	}
	var ps []string
	for p, n := range phases {
		ps = append(ps, fmt.Sprintf("%s ×%d", p, n))
	}
	slices.Sort(ps)
	t.Logf("kill points (wanted: what the kill found):\n\t%s", strings.Join(ps, "\n\t"))
	c.note("%d multi-part; %d kill points", multi, len(phases))
	e.catchUp()
	e.count(c)
}

// waitKillPoint waits, for at most 10 s, for a slot's delivery to reach
// a kill point of testFaultKill (0, at random, returns at once).
func (e *faultEnv) waitKillPoint(slot time.Time, point int) {
	key := e.key(slot)
	tag := "ref " + ref(key) + "-"
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		d, err := e.store.Delivery(context.Background(), key)
		recorded := err == nil
		switch point {
		case 0:
			return
		case 1:
			if recorded {
				return
			}
		case 2:
			if recorded && e.onDiscord(tag) > len(d.MessageIDs) {
				return
			}
		case 3:
			if recorded && len(d.MessageIDs) > 0 {
				return
			}
		case 4:
			if recorded && d.State != digest.DeliveryPending {
				return
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// onDiscord counts the channel's posts carrying a delivery's tag.
func (e *faultEnv) onDiscord(tag string) int {
	n := 0
	for _, m := range e.srv.Messages(faultChannel) {
		if strings.Contains(m.Content, tag) {
			n++
		}
	}
	return n
}

// phase describes how far a slot's delivery had got.
func (e *faultEnv) phase(slot time.Time) string {
	key := e.key(slot)
	d, err := e.store.Delivery(context.Background(), key)
	switch {
	case err != nil:
		return "not recorded"
	case d.State == digest.DeliveryDone:
		return "done"
	default:
		return fmt.Sprintf("%d of %d parts recorded, %d on Discord", len(d.MessageIDs), d.Parts, e.onDiscord("ref "+ref(key)+"-"))
	}
}

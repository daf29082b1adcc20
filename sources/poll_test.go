package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/feedserver"
	"github.com/briefbot/briefbot/sqlstore"
)

// wireStory is a made-up wire story long enough to fingerprint.
const wireStory = `Negotiators from the two delegations met for a third consecutive day on Monday in a lakeside hotel, trying to revive talks that stalled after the summit in the spring ended without a joint statement. ` +
	`Officials familiar with the meetings said the sides exchanged written proposals on sanctions relief and inspections but did not narrow their differences on the sequencing of steps. ` +
	`A spokesperson for the host government said further rounds were planned for later in the month and urged both parties to show flexibility.`

type pollEnv struct {
	srv   *feedserver.Server
	store *sqlstore.Store
	now   time.Time
	p     *Poller
}

func newPollEnv(t *testing.T, opts PollOptions) *pollEnv {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &pollEnv{srv: feedserver.New(t), store: store, now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	f := NewFetcher(FetchOptions{Timeout: 2 * time.Second, MaxBodyBytes: 1 << 20, PerHost: 4, Version: "test"})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.p = NewPoller(store, f, f, log, func() time.Time { return e.now }, opts)
	return e
}

// addSource stores an operator source for a server path.
func (e *pollEnv) addSource(t *testing.T, name, path string) digest.Source {
	t.Helper()
	src, err := e.store.AddSource(context.Background(), digest.Source{
		Name: name, URL: e.srv.URL + path, Interval: 15 * time.Minute, AllowPrivate: true, Origin: digest.OriginConfig,
	})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// poll reloads the source (for its fetch state) and polls it.
func (e *pollEnv) poll(t *testing.T, name string, force bool) PollResult {
	t.Helper()
	src, err := e.store.Source(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return e.p.Poll(context.Background(), src, force)
}

func (e *pollEnv) articles(t *testing.T) []digest.Article {
	t.Helper()
	as, err := e.store.Articles(context.Background(), digest.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// rss builds an RSS document; each item is title, link, description.
func rss(title string, items ...[3]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>%s</title><link>https://site.example/</link>`, title)
	for _, it := range items {
		fmt.Fprintf(&b, "<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>Mon, 02 Mar 2026 08:00:00 +0000</pubDate><description><![CDATA[%s]]></description></item>", it[0], it[1], it[1], it[2])
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

func longText(lead string) string { return "<p>" + lead + "</p><p>" + wireStory + "</p>" }

func TestPollStoresThenNotModified(t *testing.T) {
	e := newPollEnv(t, PollOptions{})
	e.srv.Set("/feed", feedserver.Doc{Body: rss("Wire",
		[3]string{"Talks resume", "https://site.example/talks?utm_source=rss", longText("One.")},
		[3]string{"Markets calm", "https://site.example/markets", "<p>Markets were calm on Monday while traders waited for the central bank.</p><p>" + strings.Repeat("Trading volume was thin. ", 30) + "</p>"},
	)})
	e.addSource(t, "wire", "/feed")

	first := e.poll(t, "wire", false)
	if first.Status != StatusNew || first.New != 2 {
		t.Fatalf("first poll = %+v, want new with 2 articles", first)
	}
	arts := e.articles(t)
	if len(arts) != 2 {
		t.Fatalf("stored %d articles, want 2", len(arts))
	}
	for _, a := range arts {
		if strings.Contains(a.URL, "utm_") || a.TextOrigin != digest.TextFromFeed || a.Outlet != "Wire" {
			t.Errorf("article %+v: want canonical URL, feed text, outlet Wire", a)
		}
	}

	e.now = e.now.Add(time.Hour)
	second := e.poll(t, "wire", false)
	if second.Status != StatusUnchanged || second.New != 0 {
		t.Errorf("second poll = %+v, want unchanged", second)
	}
	if _, notMod := e.srv.Hits("/feed"); notMod != 1 {
		t.Errorf("server answered 304 %d times, want 1", notMod)
	}
	src, _ := e.store.Source(context.Background(), "wire")
	if src.State.ETag == "" || src.State.LastSuccess != e.now || !src.State.NextPoll.After(e.now) {
		t.Errorf("fetch state after success = %+v", src.State)
	}
}

func TestPollFailuresKeepArticlesAndBackOff(t *testing.T) {
	e := newPollEnv(t, PollOptions{DisableAfter: 3})
	e.srv.Set("/feed", feedserver.Doc{Body: rss("Wire", [3]string{"Talks resume", "https://site.example/talks", longText("One.")})})
	e.addSource(t, "wire", "/feed")
	if r := e.poll(t, "wire", false); r.New != 1 {
		t.Fatalf("first poll = %+v", r)
	}

	e.srv.Set("/feed", feedserver.Doc{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"7200"}}})
	r := e.poll(t, "wire", false)
	if r.Status != StatusFailed || !strings.Contains(r.Error, "429") {
		t.Fatalf("poll on 429 = %+v, want failed mentioning 429", r)
	}
	if min := e.now.Add(2 * time.Hour); r.NextPoll.Before(min) {
		t.Errorf("next poll %v is before Retry-After %v", r.NextPoll, min)
	}
	if w := e.poll(t, "wire", false); w.Status != StatusWaiting {
		t.Errorf("poll while backing off = %+v, want waiting", w)
	}

	e.srv.Set("/feed", feedserver.Doc{Body: "<html><body>maintenance</body></html>", ContentType: "text/html"})
	if r := e.poll(t, "wire", true); r.Status != StatusFailed || !strings.Contains(r.Error, "HTML") {
		t.Errorf("poll of HTML page = %+v", r)
	}
	e.srv.Set("/feed", feedserver.Doc{Status: http.StatusInternalServerError})
	r = e.poll(t, "wire", true)
	if r.Status != StatusFailed || !strings.Contains(r.Error, "disabled after 3") {
		t.Errorf("third failure = %+v, want failed and disabled", r)
	}
	if r := e.poll(t, "wire", true); r.Status != StatusDisabled {
		t.Errorf("poll of disabled source = %+v", r)
	}
	if n := len(e.articles(t)); n != 1 {
		t.Errorf("after failures %d articles stored, want the 1 from before", n)
	}
}

func TestPollBadInput(t *testing.T) {
	var many strings.Builder
	many.WriteString(`<rss version="2.0"><channel><title>Many</title><link>https://many.example/</link>`)
	for i := range 5000 {
		fmt.Fprintf(&many, "<item><title>Headline number %d about topic %d</title><link>https://many.example/%d</link></item>", i, i%13, i)
	}
	many.WriteString("</channel></rss>")

	tests := []struct {
		name       string
		doc        feedserver.Doc
		wantStatus Status
		wantNew    int
		wantErr    string
	}{
		{"not found", feedserver.Doc{Status: 404}, StatusFailed, 0, "404"},
		{"gone", feedserver.Doc{Status: 410}, StatusFailed, 0, "410"},
		{"server error", feedserver.Doc{Status: 503}, StatusFailed, 0, "503"},
		{"empty body", feedserver.Doc{Body: ""}, StatusFailed, 0, "empty"},
		{"html page", feedserver.Doc{Body: "<!doctype html><html><p>hi</p></html>", ContentType: "text/html"}, StatusFailed, 0, "HTML page"},
		{"invalid xml", feedserver.Doc{Body: "<rss><channel><item><title>x</ti"}, StatusFailed, 0, "XML syntax error"},
		{"invalid utf-8", feedserver.Doc{Body: rss("Bad \xff\xfe bytes", [3]string{"Caf\xe9 \xff", "https://bad.example/1", "Body \xc3\x28 text"})}, StatusNew, 1, ""},
		{"items without links or dates", feedserver.Doc{Body: `<rss version="2.0"><channel><title>Bare</title><item><title>Only a title</title></item><item><description>Only text here.</description></item><item></item></channel></rss>`}, StatusNew, 2, ""},
		{"5000 items", feedserver.Doc{Body: many.String()}, StatusNew, 5000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPollEnv(t, PollOptions{MaxPageFetches: 1})
			e.srv.Set("/feed", tt.doc)
			e.addSource(t, "src", "/feed")
			r := e.poll(t, "src", false)
			if r.Status != tt.wantStatus || r.New != tt.wantNew || !strings.Contains(r.Error, tt.wantErr) {
				t.Errorf("poll = %+v; want %s, %d, error containing %q", r, tt.wantStatus, tt.wantNew, tt.wantErr)
			}
		})
	}
}

func TestPollAllOneFailureDoesNotStopOthers(t *testing.T) {
	e := newPollEnv(t, PollOptions{})
	e.srv.Set("/a", feedserver.Doc{Body: rss("A", [3]string{"Story A", "https://a.example/1", longText("A.")})})
	e.srv.Set("/b", feedserver.Doc{Status: 500})
	e.srv.Set("/c", feedserver.Doc{Body: rss("C", [3]string{"Story C", "https://c.example/1", "<p>Completely different text about a football match in the rain.</p>"})})
	srcs := []digest.Source{e.addSource(t, "a", "/a"), e.addSource(t, "b", "/b"), e.addSource(t, "c", "/c")}
	var mu sync.Mutex
	var done int
	results := e.p.PollAll(context.Background(), srcs, false, func(PollResult) { mu.Lock(); done++; mu.Unlock() })
	got := map[string]Status{}
	for _, r := range results {
		got[r.Source] = r.Status
	}
	if got["a"] != StatusNew || got["b"] != StatusFailed || got["c"] != StatusNew || done != 3 {
		t.Errorf("statuses = %v, callbacks = %d", got, done)
	}
}

func TestPollDuplicates(t *testing.T) {
	e := newPollEnv(t, PollOptions{})
	e.srv.Set("/a", feedserver.Doc{Body: rss("Agency", [3]string{"Talks resume at lakeside hotel", "https://agency.example/talks", longText("DATELINE (Agency) -")})})
	// The same wire story, lightly edited by a second outlet.
	edited := strings.Replace(longText("DATELINE (Agency) -"), "further rounds", "more rounds", 1)
	e.srv.Set("/b", feedserver.Doc{Body: rss("Paper", [3]string{"Talks resume at lakeside hotel, officials say", "https://paper.example/world/talks", edited})})
	// An exact copy under another URL.
	e.srv.Set("/c", feedserver.Doc{Body: rss("Mirror", [3]string{"Talks resume at lakeside hotel", "https://mirror.example/copy", longText("DATELINE (Agency) -")})})
	e.addSource(t, "agency", "/a")
	e.addSource(t, "paper", "/b")
	e.addSource(t, "mirror", "/c")

	if r := e.poll(t, "agency", false); r.New != 1 {
		t.Fatalf("agency poll = %+v", r)
	}
	if r := e.poll(t, "paper", false); r.New != 1 || r.Linked != 1 {
		t.Fatalf("paper poll = %+v, want 1 new linked as near-duplicate", r)
	}
	if r := e.poll(t, "mirror", false); r.New != 0 || r.Duplicates != 1 {
		t.Fatalf("mirror poll = %+v, want 1 exact duplicate, not stored", r)
	}
	arts := e.articles(t)
	if len(arts) != 2 {
		t.Fatalf("stored %d articles, want 2", len(arts))
	}
	var first, copy digest.Article
	for _, a := range arts {
		if strings.Contains(a.URL, "agency") {
			first = a
		} else {
			copy = a
		}
	}
	if copy.DuplicateOf != first.ID || first.DuplicateOf != "" {
		t.Errorf("copy.DuplicateOf = %q, want first copy %q", copy.DuplicateOf, first.ID)
	}

	// The agency re-dates and lightly edits its item: an update, not new.
	e.srv.Set("/a", feedserver.Doc{Body: strings.Replace(rss("Agency", [3]string{"Talks resume at lakeside hotel", "https://agency.example/talks", strings.Replace(longText("DATELINE (Agency) -"), "Monday", "Tuesday", 1)}), "08:00:00", "09:30:00", 1)})
	e.now = e.now.Add(time.Hour)
	if r := e.poll(t, "agency", false); r.Status != StatusUpdated || r.New != 0 || r.Updated != 1 {
		t.Errorf("poll after edit = %+v, want updated", r)
	}
	if n := len(e.articles(t)); n != 2 {
		t.Errorf("after an edit %d articles stored, want 2", n)
	}
}

func TestPollFetchesPageForExcerpts(t *testing.T) {
	e := newPollEnv(t, PollOptions{})
	page := `<!doctype html><html><head><title>Talks</title><link rel="canonical" href="` + e.srv.URL + `/articles/talks"></head><body>
<nav>Home | World | Sport</nav><article><h1>Talks resume</h1>` + longText("Full story.") + `<figure><img src="x.jpg"><figcaption>Delegates arrive. Credit: Someone via AP</figcaption></figure><p>` + strings.Repeat("Diplomats described the atmosphere as businesslike and calm. ", 12) + `</p></article>
<footer>Leave a Reply. Your email address will not be published.</footer></body></html>`
	e.srv.Set("/articles/talks", feedserver.Doc{Body: page, ContentType: "text/html; charset=utf-8"})
	e.srv.Set("/feed", feedserver.Doc{Body: rss("Wire", [3]string{"Talks resume", e.srv.URL + "/articles/talks?utm_campaign=x&from=rss", "Negotiators met again…"})})
	e.addSource(t, "wire", "/feed")

	r := e.poll(t, "wire", false)
	if r.New != 1 {
		t.Fatalf("poll = %+v", r)
	}
	a := e.articles(t)[0]
	if a.TextOrigin != digest.TextFromPage {
		t.Fatalf("text origin = %q, want page; text %q", a.TextOrigin, a.Text)
	}
	if a.URL != e.srv.URL+"/articles/talks" {
		t.Errorf("URL = %q, want the page's canonical link", a.URL)
	}
	for _, junk := range []string{"Credit:", "Leave a Reply", "Home | World"} {
		if strings.Contains(a.Text, junk) {
			t.Errorf("text contains %q:\n%s", junk, a.Text)
		}
	}
	if !strings.Contains(a.Text, "lakeside hotel") {
		t.Errorf("text lacks the story:\n%s", a.Text)
	}
}

func TestPollRefusesPrivateForChatSources(t *testing.T) {
	e := newPollEnv(t, PollOptions{})
	e.srv.Set("/feed", feedserver.Doc{Body: rss("Wire", [3]string{"Talks", "https://site.example/t", longText("x")})})
	src, err := e.store.AddSource(context.Background(), digest.Source{
		Name: "chat", URL: e.srv.URL + "/feed", Interval: time.Hour, AllowPrivate: true, Origin: digest.OriginChat,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := e.p.Poll(context.Background(), src, false)
	if r.Status != StatusFailed || !strings.Contains(r.Error, "refusing") {
		t.Errorf("poll of a chat source on loopback = %+v, want refused by the SSRF guard", r)
	}
}

func TestPollNeverRewritesAnotherSourcesArticle(t *testing.T) {
	e := newPollEnv(t, PollOptions{})
	e.srv.Set("/a", feedserver.Doc{Body: rss("Agency", [3]string{"Talks resume at lakeside hotel", "https://agency.example/talks", longText("Agency copy.")})})
	e.srv.Set("/b", feedserver.Doc{Body: rss("Hostile", [3]string{"FAKE: talks collapse", "https://agency.example/talks?utm_source=x", "<p>Invented text.</p>"})})
	e.addSource(t, "agency", "/a")
	e.addSource(t, "hostile", "/b")
	e.poll(t, "agency", false)
	if r := e.poll(t, "hostile", false); r.Updated != 0 || r.Duplicates != 1 {
		t.Errorf("hostile poll = %+v, want 1 duplicate and no update", r)
	}
	arts := e.articles(t)
	if len(arts) != 1 || arts[0].Title != "Talks resume at lakeside hotel" {
		t.Errorf("articles = %+v", arts)
	}
}

func TestPollKeepsDistinctItems(t *testing.T) {
	e := newPollEnv(t, PollOptions{})
	// Title-only items with the same headline from two outlets, and a
	// second, lightly edited version of a story under a new GUID and URL.
	e.srv.Set("/a", feedserver.Doc{Body: rss("A",
		[3]string{"Live updates", "https://a.example/live-1", ""},
		[3]string{"Talks resume", "https://a.example/talks", longText("First.")},
	)})
	e.srv.Set("/b", feedserver.Doc{Body: rss("B", [3]string{"Live updates", "https://b.example/live", ""})})
	e.addSource(t, "a", "/a")
	e.addSource(t, "b", "/b")
	e.poll(t, "a", false)
	if r := e.poll(t, "b", false); r.New != 1 {
		t.Errorf("b's title-only item: %+v, want stored", r)
	}
	e.srv.Set("/a", feedserver.Doc{Body: rss("A",
		[3]string{"Live updates", "https://a.example/live-1", ""},
		[3]string{"Talks resume", "https://a.example/talks", longText("First.")},
		[3]string{"UPDATE 1-Talks resume", "https://a.example/talks-update", longText("Second.")},
	)})
	e.now = e.now.Add(time.Hour)
	r := e.poll(t, "a", false)
	if r.New != 1 || r.Linked != 1 {
		t.Errorf("new version under a new GUID: %+v, want stored as a new article linked to the first", r)
	}
	e.now = e.now.Add(time.Hour)
	if r := e.poll(t, "a", true); r.Updated != 0 || r.New != 0 {
		t.Errorf("repeat poll = %+v, want nothing changed", r)
	}
}

func TestPollIgnoresCanonicalToHomePage(t *testing.T) {
	e := newPollEnv(t, PollOptions{})
	page := func(title string) string {
		return `<!doctype html><html><head><link rel="canonical" href="` + e.srv.URL + `/"></head><body><article><h1>` + title + `</h1>` + longText(title) + `<p>` + strings.Repeat(title+" details follow here. ", 20) + `</p></article></body></html>`
	}
	e.srv.Set("/one", feedserver.Doc{Body: page("Harbour flood"), ContentType: "text/html"})
	e.srv.Set("/two", feedserver.Doc{Body: page("Budget vote"), ContentType: "text/html"})
	e.srv.Set("/feed", feedserver.Doc{Body: rss("Site", [3]string{"Harbour flood", e.srv.URL + "/one", "Short."}, [3]string{"Budget vote", e.srv.URL + "/two", "Short."})})
	e.addSource(t, "site", "/feed")
	if r := e.poll(t, "site", false); r.New != 2 {
		t.Errorf("poll = %+v, want 2 new articles (a home-page canonical is ignored)", r)
	}
}

// TestNextPollSpreadsSources: sources with one interval are polled at
// their own phases across it, each exactly one interval apart when on
// time, and never sooner than half an interval.
func TestNextPollSpreadsSources(t *testing.T) {
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	const n = 200
	iv := 15 * time.Minute
	minutes := map[int]bool{}
	for i := range n {
		src := digest.Source{URL: fmt.Sprintf("https://feeds.example/%d.xml", i), Interval: iv}
		next := NextPoll(start, src)
		if next.Before(start.Add(iv/2)) || !next.Before(start.Add(iv*3/2)) {
			t.Fatalf("source %d: next poll %v, want within [%v, %v)", i, next, start.Add(iv/2), start.Add(iv*3/2))
		}
		if again := NextPoll(next, src); again.Sub(next) != iv {
			t.Errorf("source %d: polled on time at %v, next %v; want one interval later", i, next, again)
		}
		if late := NextPoll(next.Add(3*time.Minute), src); late.Sub(next) != iv {
			t.Errorf("source %d: polled 3m late, next %v; want back on its phase", i, late)
		}
		minutes[next.Minute()%15] = true
	}
	if len(minutes) < 14 {
		t.Errorf("%d sources fell on %d of the interval's 15 minutes, want them spread over all", n, len(minutes))
	}
}

// switchableMatcher matches articles to the store's topics, or fails with
// err while it is set, as when the topics cannot be loaded.
type switchableMatcher struct {
	store *sqlstore.Store
	err   error
}

func (m *switchableMatcher) match(ctx context.Context, a digest.Article) ([]int64, error) {
	if m.err != nil {
		return nil, m.err
	}
	topics, err := m.store.Topics(ctx)
	if err != nil {
		return nil, err
	}
	set, err := digest.NewTopicSet(topics)
	if err != nil {
		return nil, err
	}
	return set.Match(a), nil
}

// TestPollStoresArticlesWithTheirTopics polls new and then edited items
// while the matcher fails, then works: a failed match fails the poll,
// which stores neither the article nor its change and keeps the old
// validators, so the retry reads the items again and stores them matched.
func TestPollStoresArticlesWithTheirTopics(t *testing.T) {
	m := &switchableMatcher{}
	e := newPollEnv(t, PollOptions{MatchTopics: m.match})
	m.store = e.store
	ctx := context.Background()
	var topicIDs []int64
	for _, name := range []string{"talks", "markets"} {
		tp, err := e.store.AddTopic(ctx, digest.Topic{Name: name, Query: name, Origin: digest.OriginConfig})
		if err != nil {
			t.Fatal(err)
		}
		topicIDs = append(topicIDs, tp.ID)
	}
	talks, markets := topicIDs[0], topicIDs[1]
	marketsText := "<p>Markets were calm on Monday while traders waited for the central bank.</p><p>" + strings.Repeat("Trading volume was thin. ", 30) + "</p>"
	e.srv.Set("/feed", feedserver.Doc{Body: rss("Wire",
		[3]string{"Talks resume", "https://site.example/talks", longText("One.")},
		[3]string{"Calm day", "https://site.example/calm", marketsText},
	)})
	e.addSource(t, "wire", "/feed")

	// check compares the stored titles and each topic's articles (by title).
	check := func(step string, wantTitles []string, wantTopics map[int64][]string) {
		t.Helper()
		var titles []string
		for _, a := range e.articles(t) {
			titles = append(titles, a.Title)
		}
		slices.Sort(titles)
		if diff := cmp.Diff(titles, wantTitles); diff != "" {
			t.Errorf("%s: stored titles (-got +want):\n%s", step, diff)
		}
		got := map[int64][]string{}
		for _, id := range topicIDs {
			as, err := e.store.TopicArticles(ctx, id, time.Time{}, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			got[id] = []string{}
			for _, a := range as {
				got[id] = append(got[id], a.Title)
			}
			slices.Sort(got[id])
		}
		if diff := cmp.Diff(got, wantTopics); diff != "" {
			t.Errorf("%s: articles of topics (-got +want):\n%s", step, diff)
		}
	}
	// failedPoll polls while the matcher fails, and returns the source's
	// validators after it.
	failedPoll := func(step string) digest.FetchState {
		t.Helper()
		m.err = errors.New("topics: injected failure")
		defer func() { m.err = nil }()
		r := e.poll(t, "wire", true)
		if r.Status != StatusFailed || !strings.Contains(r.Error, "match article") || !strings.Contains(r.Error, "injected failure") {
			t.Errorf("%s: poll = %+v, want failed on the match", step, r)
		}
		src, err := e.store.Source(ctx, "wire")
		if err != nil {
			t.Fatal(err)
		}
		return src.State
	}

	if st := failedPoll("new items"); st.ETag != "" || st.LastModified != "" {
		t.Errorf("new items: failed poll saved validators %q, %q", st.ETag, st.LastModified)
	}
	check("new items, match failed", nil, map[int64][]string{talks: {}, markets: {}})
	e.now = e.now.Add(time.Hour)
	if r := e.poll(t, "wire", true); r.Status != StatusNew || r.New != 2 {
		t.Fatalf("new items, retried: poll = %+v, want 2 new", r)
	}
	check("new items, retried", []string{"Calm day", "Talks resume"}, map[int64][]string{talks: {"Talks resume"}, markets: {"Calm day"}})
	src, err := e.store.Source(ctx, "wire")
	if err != nil {
		t.Fatal(err)
	}
	stored := src.State

	// The outlet retitles the talks story: it now matches both topics.
	e.srv.Set("/feed", feedserver.Doc{Body: rss("Wire",
		[3]string{"Markets rattled as talks stall", "https://site.example/talks", longText("One.")},
		[3]string{"Calm day", "https://site.example/calm", marketsText},
	)})
	e.now = e.now.Add(time.Hour)
	if st := failedPoll("edited item"); st.ETag != stored.ETag || st.LastModified != stored.LastModified {
		t.Errorf("edited item: failed poll saved validators %q, %q, want the old %q, %q", st.ETag, st.LastModified, stored.ETag, stored.LastModified)
	}
	check("edited item, match failed", []string{"Calm day", "Talks resume"}, map[int64][]string{talks: {"Talks resume"}, markets: {"Calm day"}})
	e.now = e.now.Add(time.Hour)
	if r := e.poll(t, "wire", true); r.Status != StatusUpdated || r.Updated != 1 {
		t.Fatalf("edited item, retried: poll = %+v, want 1 updated", r)
	}
	check("edited item, retried", []string{"Calm day", "Markets rattled as talks stall"},
		map[int64][]string{talks: {"Markets rattled as talks stall"}, markets: {"Calm day", "Markets rattled as talks stall"}})
	if _, notMod := e.srv.Hits("/feed"); notMod != 0 {
		t.Errorf("the server answered 304 %d times: a retry after a failed poll must read the items again", notMod)
	}
}

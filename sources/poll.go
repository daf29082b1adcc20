package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"codeberg.org/readeck/go-readability/v2"
	"github.com/briefbot/briefbot/digest"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// Status is the outcome of polling one source.
type Status string

// The statuses `briefbot fetch` reports.
const (
	StatusNew       Status = "new"       // at least one new article stored
	StatusUpdated   Status = "updated"   // no new article, but stored ones changed
	StatusUnchanged Status = "unchanged" // 304, or nothing new in the feed
	StatusFailed    Status = "failed"    // fetch or parse failed; see Error
	StatusDisabled  Status = "disabled"  // not polled until re-enabled; see Error
	StatusWaiting   Status = "waiting"   // backing off after failures or Retry-After
)

// PollResult says what one poll of one source did.
type PollResult struct {
	Source     string        `json:"source"`
	Status     Status        `json:"status"`
	Items      int           `json:"items"`      // items in the feed
	New        int           `json:"new"`        // articles stored
	Updated    int           `json:"updated"`    // stored articles changed
	Duplicates int           `json:"duplicates"` // exact copies of stored articles, not stored
	Linked     int           `json:"linked"`     // new articles that are near-duplicates of another outlet's
	Skipped    int           `json:"skipped"`    // items unusable (see Skips)
	Skips      []string      `json:"skips,omitempty"`
	Error      string        `json:"error,omitempty"`
	NextPoll   time.Time     `json:"next_poll"`
	Duration   time.Duration `json:"duration_ns"`
}

// PollOptions tunes a Poller. Zero fields take the documented defaults.
type PollOptions struct {
	// DisableAfter consecutive failures disable a source (default 10).
	DisableAfter int
	// MinFeedWords: feed text shorter than this is an excerpt, and the
	// article page is fetched for the full text (default 120).
	MinFeedWords int
	// MaxPageFetches bounds article-page fetches per source per poll
	// (default 30); further items keep their feed text.
	MaxPageFetches int
	// PageConcurrency bounds article pages fetched at once per source (default 4).
	PageConcurrency int
	// Concurrency bounds sources polled at once by PollAll (default 32).
	Concurrency int
	// DuplicateWindow is how far back near-duplicates are searched (default 7 days).
	DuplicateWindow time.Duration
	// MaxBackoff caps the delay after repeated failures (default 24h).
	MaxBackoff time.Duration
	// MatchTopics, if set, returns the IDs of the topics an article
	// matches. Each new or changed article is stored with its matches in
	// one transaction, so none is ever stored unmatched. An error fails
	// the article's storing, and so the poll, which keeps its validators
	// and is retried.
	MatchTopics func(ctx context.Context, a digest.Article) ([]int64, error)
}

func (o PollOptions) withDefaults() PollOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.DisableAfter, 10)
	def(&o.MinFeedWords, 120)
	def(&o.MaxPageFetches, 30)
	def(&o.PageConcurrency, 4)
	def(&o.Concurrency, 32)
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = 7 * 24 * time.Hour
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 24 * time.Hour
	}
	return o
}

// Poller polls sources, turns their items into clean articles and stores
// those not already stored.
type Poller struct {
	store digest.Store
	feeds *Fetcher // feed documents
	pages *Fetcher // article pages, with their own limits
	log   *slog.Logger
	now   func() time.Time
	opts  PollOptions
}

// NewPoller returns a Poller. feeds fetches feed documents and pages
// fetches article pages; they may be the same Fetcher.
func NewPoller(store digest.Store, feeds, pages *Fetcher, log *slog.Logger, now func() time.Time, opts PollOptions) *Poller {
	return &Poller{store: store, feeds: feeds, pages: pages, log: log, now: now, opts: opts.withDefaults()}
}

// PollAll polls the given sources, several at once, and calls done (if not
// nil) as each finishes. One source's failure never stops the others.
// Sources backing off after failures are skipped unless force is set.
func (p *Poller) PollAll(ctx context.Context, srcs []digest.Source, force bool, done func(PollResult)) []PollResult {
	results := make([]PollResult, len(srcs))
	sem := make(chan struct{}, p.opts.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				results[i] = p.Poll(ctx, src, force)
			case <-ctx.Done():
				results[i] = PollResult{Source: src.Name, Status: StatusFailed, Error: ctx.Err().Error()}
			}
			if done != nil {
				mu.Lock()
				done(results[i])
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
}

// Poll polls one source now and records the outcome in its fetch state.
// Unless force is set, a source backing off after failures is not polled
// and reports StatusWaiting. A panic inside is turned into a failure.
func (p *Poller) Poll(ctx context.Context, src digest.Source, force bool) (res PollResult) {
	start := p.now()
	res = PollResult{Source: src.Name}
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("poll panicked", "source_url", fetchRedactRaw(src.URL), "error", r)
			res = p.fail(ctx, src, src.State, PollResult{Source: src.Name}, fmt.Errorf("internal error: %v", r))
		}
		res.Duration = p.now().Sub(start)
	}()
	st := src.State
	if st.Disabled {
		res.Status, res.Error, res.NextPoll = StatusDisabled, st.LastError, st.NextPoll
		return res
	}
	if !force && st.Failures > 0 && st.NextPoll.After(start) {
		res.Status, res.NextPoll = StatusWaiting, st.NextPoll
		res.Error = fmt.Sprintf("backing off after %d failure(s) until %s; last error: %s",
			st.Failures, st.NextPoll.Local().Format("15:04"), st.LastError)
		return res
	}

	st.LastPoll = start
	resp, err := p.feeds.Fetch(ctx, Request{
		URL:          src.URL,
		ETag:         st.ETag,
		LastModified: st.LastModified,
		AllowPrivate: src.AllowPrivate && src.Origin == digest.OriginConfig,
		Accept:       "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
	})
	var feed *Feed
	switch {
	case errors.Is(err, digest.ErrNotModified):
		res.Status = StatusUnchanged
	case err != nil:
		return p.fail(ctx, src, st, res, err)
	default:
		feed, err = Parse(resp.URL, resp.ContentType, bytes.NewReader(resp.Body))
		if err != nil {
			return p.fail(ctx, src, st, res, fmt.Errorf("parse %s: %w", fetchRedactRaw(src.URL), err))
		}
		st.ETag, st.LastModified = resp.ETag, resp.LastModified
		res.Items = len(feed.Items)
		if err := p.ingest(ctx, src, feed, &res); err != nil {
			// Storage failed: keep the old validators so the next poll
			// fetches the items again instead of getting a 304.
			st.ETag, st.LastModified = src.State.ETag, src.State.LastModified
			return p.fail(ctx, src, st, res, err)
		}
		switch {
		case res.New > 0:
			res.Status = StatusNew
		case res.Updated > 0:
			res.Status = StatusUpdated
		default:
			res.Status = StatusUnchanged
		}
	}
	st.Failures, st.LastError, st.LastSuccess = 0, "", start
	st.NextPoll = NextPoll(start, src)
	res.NextPoll = st.NextPoll
	if err := p.store.SaveFetchState(ctx, src.ID, st); err != nil {
		res.Status, res.Error = StatusFailed, err.Error()
	}
	return res
}

// fail records a failed poll: backoff, Retry-After, and auto-disable.
func (p *Poller) fail(ctx context.Context, src digest.Source, st digest.FetchState, res PollResult, cause error) PollResult {
	now := p.now()
	st.Failures++
	st.LastError = cause.Error()
	delay := backoff(src.Interval, st.Failures, p.opts.MaxBackoff)
	var ra *RetryAfterError
	if errors.As(cause, &ra) && ra.After > delay {
		delay = ra.After
	}
	st.NextPoll = now.Add(delay)
	res.Status, res.Error, res.NextPoll = StatusFailed, st.LastError, st.NextPoll
	if st.Failures >= p.opts.DisableAfter {
		st.Disabled = true
		st.LastError = fmt.Sprintf("disabled after %d consecutive failures; last error: %s", st.Failures, cause)
		res.Error = st.LastError + fmt.Sprintf(" (fix the source, then run `briefbot sources enable %s`)", src.Name)
	}
	if err := p.store.SaveFetchState(ctx, src.ID, st); err != nil {
		res.Error += "; also failed to save fetch state: " + err.Error()
	}
	return res
}

// NextPoll returns when a source polled successfully at start is due
// again: the first instant at least half an interval after start that
// falls on the source's phase, a stable offset within its interval derived
// from its URL. Sources sharing an interval are so spread over it rather
// than all polled at :00, and each keeps its rhythm (exactly one interval
// between polls made on time) across restarts.
func NextPoll(start time.Time, src digest.Source) time.Time {
	iv := src.Interval
	if iv <= 0 {
		iv = 15 * time.Minute
	}
	h := fnv.New64a()
	h.Write([]byte(src.URL))
	phase := int64(h.Sum64() % uint64(iv))
	earliest := start.Add(iv/2).UnixNano() - phase
	k := earliest / int64(iv)
	if earliest%int64(iv) > 0 {
		k++ // round up to the next slot of the phase
	}
	return time.Unix(0, k*int64(iv)+phase).In(start.Location())
}

// backoff returns interval·2^(failures-1), capped, with ±20% jitter.
func backoff(interval time.Duration, failures int, maxDelay time.Duration) time.Duration {
	if interval <= 0 {
		interval = 15 * time.Minute
	}
	d := interval
	for i := 1; i < failures && d < maxDelay; i++ {
		d *= 2
	}
	return min(jitter(d, 0.2), maxDelay)
}

// jitter spreads d uniformly over ±frac.
func jitter(d time.Duration, frac float64) time.Duration {
	return time.Duration(float64(d) * (1 - frac + 2*frac*rand.Float64()))
}

// candidate is a feed item on its way to becoming an article.
type candidate struct {
	item     Item
	article  digest.Article
	existing *digest.Article
	fetch    bool // fetch the article page for the full text
}

// ingest turns feed items into articles and stores the new ones.
func (p *Poller) ingest(ctx context.Context, src digest.Source, feed *Feed, res *PollResult) error {
	now := p.now()
	var cands []*candidate
	seen := make(map[string]bool) // a feed listing an item twice
	for _, it := range feed.Items {
		c, reason := p.prepare(src, feed, it, now)
		if c == nil {
			res.Skipped++
			res.Skips = appendSkip(res.Skips, reason)
			continue
		}
		if seen[c.article.ID] {
			continue
		}
		seen[c.article.ID] = true
		old, err := p.store.FindArticle(ctx, digest.ArticleKeys{URL: c.article.URL, SourceID: src.ID, GUID: c.article.GUID})
		switch {
		case err == nil:
			c.existing = &old
		case !errors.Is(err, digest.ErrNotFound):
			return fmt.Errorf("look up article %s: %w", c.article.ID, err)
		}
		cands = append(cands, c)
	}

	p.fetchPages(ctx, src, cands)

	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.store1(ctx, src, c, res); err != nil {
			return err
		}
	}
	return nil
}

// prepare builds the article for an item from the feed alone, or says why
// the item is unusable.
func (p *Poller) prepare(src digest.Source, feed *Feed, it Item, now time.Time) (*candidate, string) {
	a := digest.Article{
		SourceID:   src.ID,
		Outlet:     src.Name,
		GUID:       it.GUID,
		Title:      CleanTitle(it.Title),
		Published:  it.Published,
		Fetched:    now,
		Updated:    now,
		TextOrigin: digest.TextFromFeed,
	}
	if t := CleanTitle(feed.Title); t != "" {
		a.Outlet = t
	}
	if it.Link != "" {
		u, err := CanonicalURL(it.Link)
		if err != nil {
			return nil, "bad link: " + err.Error()
		}
		a.URL = u
	}
	a.Text = Clean(TextFromHTML(it.HTML))
	if a.Title == "" && a.Text == "" {
		return nil, "no title or text"
	}
	if a.Title == "" {
		a.Title = firstWords(a.Text, 12)
	}
	if a.Text == "" {
		a.TextOrigin = digest.TextTitleOnly
	}
	if a.Published.IsZero() || a.Published.After(now.Add(24*time.Hour)) {
		a.Published = now // undated, or dated in the future
	}
	a.ContentHash = digest.ContentHash(a.Title, a.Text)
	a.ID = digest.ArticleID(a.URL, src.URL, a.GUID, a.ContentHash)
	c := &candidate{item: it, article: a}
	c.fetch = a.URL != "" && len(digest.Words(a.Text)) < p.opts.MinFeedWords
	return c, ""
}

// fetchPages fetches the article pages of new items whose feed text is an
// excerpt, a few at a time, within the per-poll budget. Failures keep the
// feed text.
func (p *Poller) fetchPages(ctx context.Context, src digest.Source, cands []*candidate) {
	budget := p.opts.MaxPageFetches
	sem := make(chan struct{}, p.opts.PageConcurrency)
	var wg sync.WaitGroup
	for _, c := range cands {
		if c.existing != nil || !c.fetch {
			continue
		}
		if budget == 0 {
			break
		}
		budget--
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				if r := recover(); r != nil {
					p.log.Error("page extraction panicked", "source_url", fetchRedactRaw(c.article.URL), "error", r)
				}
			}()
			p.fetchPage(ctx, src, c)
		}()
	}
	wg.Wait()
}

func (p *Poller) fetchPage(ctx context.Context, src digest.Source, c *candidate) {
	resp, err := p.pages.Fetch(ctx, Request{
		URL:          c.article.URL,
		AllowPrivate: src.AllowPrivate && src.Origin == digest.OriginConfig,
		Accept:       "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
	})
	if err != nil {
		p.log.Debug("article page not fetched", "source_url", fetchRedactRaw(c.article.URL), "error", err)
		return
	}
	page, err := ExtractPage(resp.URL, resp.ContentType, resp.Body)
	if err != nil {
		p.log.Debug("article page not extracted", "source_url", fetchRedactRaw(c.article.URL), "error", err)
		return
	}
	a := &c.article
	if sameSite(page.Canonical, resp.URL) {
		a.URL = page.Canonical
	}
	if len(digest.Words(page.Text)) > len(digest.Words(a.Text)) {
		a.Text, a.TextOrigin = page.Text, digest.TextFromPage
	}
	a.ContentHash = digest.ContentHash(a.Title, a.Text)
}

// store1 stores one candidate: an update of a stored article, an exact
// duplicate (not stored), a near-duplicate (stored, linked to the first
// copy) or a new article.
func (p *Poller) store1(ctx context.Context, src digest.Source, c *candidate, res *PollResult) error {
	a := c.article
	if c.existing == nil && a.URL != c.item.Link {
		// The page named another canonical URL: it may be stored under it.
		old, err := p.store.FindArticle(ctx, digest.ArticleKeys{URL: a.URL})
		if err == nil {
			c.existing = &old
		} else if !errors.Is(err, digest.ErrNotFound) {
			return fmt.Errorf("look up article %s: %w", a.URL, err)
		}
	}
	if c.existing != nil {
		if c.existing.SourceID != src.ID {
			// Another source's article under the same URL: never let one
			// feed rewrite another's article.
			res.Duplicates++
			return nil
		}
		if p.update(c.existing, a) {
			if err := p.updateArticle(ctx, *c.existing); err != nil {
				return err
			}
			res.Updated++
		}
		return nil
	}

	// Equal content is a duplicate only when there is content: two
	// title-only "Live updates" items are different articles.
	substantial := len(digest.Words(a.Text)) >= digest.MinSignatureWords
	if dup, err := p.store.FindArticle(ctx, digest.ArticleKeys{ContentHash: a.ContentHash}); err == nil && substantial {
		if dup.SourceID == src.ID && dup.URL == a.URL && p.update(&dup, a) {
			if err := p.updateArticle(ctx, dup); err != nil {
				return err
			}
			res.Updated++
			return nil
		}
		res.Duplicates++
		return nil
	} else if err != nil && !errors.Is(err, digest.ErrNotFound) {
		return fmt.Errorf("look up content hash: %w", err)
	}

	a.Signature = digest.Sign(a.Text)
	near, err := p.store.NearDuplicateCandidates(ctx, a.Signature, a.Fetched.Add(-p.opts.DuplicateWindow), 50)
	if err != nil {
		return fmt.Errorf("find near-duplicates: %w", err)
	}
	for _, n := range near {
		if !digest.IsNearDuplicate(a.Signature, n.Signature) {
			continue
		}
		if n.SourceID == src.ID && n.GUID != "" && n.GUID == a.GUID {
			// The same item, lightly edited and re-linked by its outlet.
			if p.update(&n, a) {
				if err := p.updateArticle(ctx, n); err != nil {
					return err
				}
				res.Updated++
			}
			return nil
		}
		a.DuplicateOf = n.ID
		if n.DuplicateOf != "" {
			a.DuplicateOf = n.DuplicateOf
		}
		res.Linked++
		break
	}
	a.ID = digest.ArticleID(a.URL, src.URL, a.GUID, a.ContentHash)
	if err := p.insertArticle(ctx, a); err != nil {
		if errors.Is(err, digest.ErrExists) {
			res.Duplicates++ // stored meanwhile, e.g. by another source polled at once
			return nil
		}
		return err
	}
	res.New++
	return nil
}

// insertArticle stores a new article with its topic matches, if the
// poller matches topics, in one transaction.
func (p *Poller) insertArticle(ctx context.Context, a digest.Article) error {
	if p.opts.MatchTopics == nil {
		if err := p.store.InsertArticle(ctx, a); err != nil {
			return fmt.Errorf("store article %s: %w", a.ID, err)
		}
		return nil
	}
	ids, err := p.opts.MatchTopics(ctx, a)
	if err != nil {
		return fmt.Errorf("match article %s to topics: %w", a.ID, err)
	}
	if err := p.store.InsertMatchedArticle(ctx, a, ids); err != nil {
		return fmt.Errorf("store article %s: %w", a.ID, err)
	}
	return nil
}

// updateArticle stores a changed article, matched to topics again if the
// poller matches topics, in one transaction: a poll that fails here is
// retried, and finds the article unchanged only once both are stored.
func (p *Poller) updateArticle(ctx context.Context, a digest.Article) error {
	if p.opts.MatchTopics == nil {
		if err := p.store.UpdateArticle(ctx, a); err != nil {
			return fmt.Errorf("update article %s: %w", a.ID, err)
		}
		return nil
	}
	ids, err := p.opts.MatchTopics(ctx, a)
	if err != nil {
		return fmt.Errorf("match article %s to topics: %w", a.ID, err)
	}
	if err := p.store.UpdateMatchedArticle(ctx, a, ids); err != nil {
		return fmt.Errorf("update article %s: %w", a.ID, err)
	}
	return nil
}

// update applies a re-dated or edited version of a stored article and
// reports whether anything changed. Page text is not replaced by shorter
// feed text.
func (p *Poller) update(old *digest.Article, fresh digest.Article) bool {
	changed := false
	if fresh.Title != "" && fresh.Title != old.Title {
		old.Title, changed = fresh.Title, true
	}
	if !fresh.Published.IsZero() && !fresh.Published.Equal(old.Published) && !fresh.Published.Equal(fresh.Fetched) {
		old.Published, changed = fresh.Published, true
	}
	longerText := len(digest.Words(fresh.Text)) >= len(digest.Words(old.Text))
	if fresh.Text != "" && fresh.Text != old.Text && (old.TextOrigin != digest.TextFromPage || longerText) {
		old.Text, old.TextOrigin, changed = fresh.Text, fresh.TextOrigin, true
	}
	if changed {
		old.ContentHash = digest.ContentHash(old.Title, old.Text)
		old.Signature = digest.Sign(old.Text)
		old.Updated = fresh.Fetched
	}
	return changed
}

// sameSite reports whether a page's canonical URL may replace its
// address: same host, and not the site's home page (consent walls and
// misconfigured sites point every page there).
func sameSite(canonical, pageURL string) bool {
	c, err1 := url.Parse(canonical)
	p, err2 := url.Parse(pageURL)
	if canonical == "" || err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(c.Hostname(), p.Hostname()) && strings.Trim(c.Path, "/") != ""
}

// Page is the main text of an article page.
type Page struct {
	Title string
	Text  string
	// Canonical is the page's <link rel=canonical>, canonicalized; empty
	// when absent or unusable.
	Canonical string
}

// ExtractPage extracts the main text of an HTML article page with
// readability and cleans it. It never touches the network.
func ExtractPage(pageURL, contentType string, body []byte) (*Page, error) {
	// A page that declares no charset (or declares one in a tag the
	// sniffer does not reach) but is valid UTF-8 is UTF-8, not the
	// windows-1252 HTML5 falls back to.
	var r io.Reader = bytes.NewReader(body)
	if _, _, certain := charset.DetermineEncoding(body, contentType); certain || !utf8.Valid(body) {
		var err error
		if r, err = charset.NewReader(bytes.NewReader(body), contentType); err != nil {
			return nil, fmt.Errorf("sources: decode page %s: %w", fetchRedactRaw(pageURL), err)
		}
	}
	doc, err := html.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("sources: parse page %s: %w", fetchRedactRaw(pageURL), err)
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, fmt.Errorf("sources: bad page URL: %w", err)
	}
	page := &Page{Canonical: canonicalLink(doc, base)}
	art, err := readability.FromDocument(doc, base)
	if err != nil {
		return nil, fmt.Errorf("sources: extract %s: %w", fetchRedactRaw(pageURL), err)
	}
	page.Title = oneLine(art.Title())
	if art.Node != nil {
		page.Text = Clean(TextFromNode(art.Node))
	}
	if page.Text == "" {
		return nil, fmt.Errorf("sources: extract %s: no article text found", fetchRedactRaw(pageURL))
	}
	return page, nil
}

// canonicalLink finds <link rel="canonical" href> in the document head.
func canonicalLink(doc *html.Node, base *url.URL) string {
	var found string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if found != "" {
			return
		}
		if n.Type == html.ElementNode && n.Data == "link" {
			var rel, href string
			for _, a := range n.Attr {
				switch strings.ToLower(a.Key) {
				case "rel":
					rel = strings.ToLower(a.Val)
				case "href":
					href = a.Val
				}
			}
			if rel == "canonical" && href != "" {
				if u, err := CanonicalURL(resolveLink(base, href)); err == nil {
					found = u
				}
				return
			}
		}
		if n.Type == html.ElementNode && n.Data == "body" {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return found
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) <= n {
		return strings.Join(f, " ")
	}
	return strings.Join(f[:n], " ") + "…"
}

// appendSkip keeps at most a few distinct skip reasons.
func appendSkip(skips []string, reason string) []string {
	for _, s := range skips {
		if s == reason {
			return skips
		}
	}
	if len(skips) < 5 {
		skips = append(skips, reason)
	}
	return skips
}

// Check fetches and parses a feed without storing anything, to vet a
// source before it is added. Chat-added sources pass allowPrivate false.
func (p *Poller) Check(ctx context.Context, feedURL string, allowPrivate bool) (*Feed, error) {
	resp, err := p.feeds.Fetch(ctx, Request{URL: feedURL, AllowPrivate: allowPrivate})
	if err != nil {
		return nil, err
	}
	feed, err := Parse(resp.URL, resp.ContentType, bytes.NewReader(resp.Body))
	if err != nil {
		return nil, err
	}
	if len(feed.Items) == 0 {
		return nil, fmt.Errorf("%w: the feed has no items", ErrNotFeed)
	}
	return feed, nil
}

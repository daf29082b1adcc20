package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sqlstore"
)

// Briefing from a big store (issue 7): `briefbot brief --no-fetch` with
// the extractive summarizer, on stores of 10,000 and 100,000 articles of
// which the same 500 match the topic in the briefing's window. The rest
// match other topics (500 in all), or none, or were published before the
// window. Target: at most 1 s at 100,000 articles, and at most 1.5 times
// the time at 10,000.
//
// The stores are built once per run of the benchmark, as ingest would
// leave them: articles with band keys and full-text rows, and the topic
// matches of a real TopicSet, through the schema's own indexes and
// triggers, but in one transaction (sqlstore.InsertArticles).

// The topic briefed, as the config file names it.
const (
	bigBriefTopic = "korea-talks"
	bigBriefQuery = `"north korea" OR pyongyang OR "kim jong un" OR denuclearization -football`
)

const (
	bigInWindow    = 500 // articles matching bigBriefTopic in the window
	bigSources     = 25
	bigTopics      = 500  // bigBriefTopic and the others
	bigKoreaEvents = 60   // stories among the bigInWindow articles
	bigBatch       = 2000 // articles made up at a time
)

func BenchmarkBriefBigStore(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if testing.Short() {
		sizes = sizes[:1]
	}
	start := time.Now()
	stores := buildBigStores(b, sizes)
	setup := time.Since(start).Round(100 * time.Millisecond)
	logged := false
	for _, st := range stores {
		b.Run(fmt.Sprintf("articles=%d", st.articles), func(b *testing.B) {
			if !logged {
				b.Logf("built the stores of %v articles in %v", sizes, setup)
				logged = true
			}
			for b.Loop() {
				bigBrief(b, st.config, io.Discard)
			}
		})
	}
	if len(stores) < 2 {
		return
	}
	// Both in turn, small, big, big, small, so that a change in the
	// machine's load meanwhile moves both alike: ns/op is the four.
	small, big := stores[0], stores[len(stores)-1]
	b.Run("growth", func(b *testing.B) {
		var ts, tb time.Duration
		timed := func(config string) time.Duration {
			start := time.Now()
			bigBrief(b, config, io.Discard)
			return time.Since(start)
		}
		for b.Loop() {
			ts += timed(small.config)
			tb += timed(big.config)
			tb += timed(big.config)
			ts += timed(small.config)
		}
		b.ReportMetric(float64(tb)/float64(ts), fmt.Sprintf("%dk/%dk", big.articles/1000, small.articles/1000))
	})
}

// bigBrief runs `briefbot brief korea-talks --no-fetch` on the store of
// config, writing the briefing to stdout.
func bigBrief(b *testing.B, config string, stdout io.Writer, flags ...string) {
	var stderr bytes.Buffer
	args := append([]string{"--config", config, "brief", bigBriefTopic, "--no-fetch"}, flags...)
	err := runAt(b.Context(), args, func(string) string { return "" }, strings.NewReader(""), stdout, &stderr,
		func() time.Time { return fixtureNow })
	if err != nil {
		b.Fatalf("brief: %v\n%s", err, stderr.String())
	}
}

// bigStore is one built store.
type bigStore struct {
	articles int
	config   string // the config file naming its database
}

// buildBigStores builds a store of each size (ascending) under
// b.TempDir(): the first from scratch, each next one from a copy of the
// one before, with the next articles of the same sequence added.
func buildBigStores(b *testing.B, sizes []int) []bigStore {
	ctx := b.Context()
	dir := b.TempDir()
	start := time.Now()
	g := newBigGen()
	var stores []bigStore
	var prev string
	for _, n := range sizes {
		db := filepath.Join(dir, fmt.Sprintf("articles-%d.db", n))
		config := filepath.Join(dir, fmt.Sprintf("articles-%d.yaml", n))
		if err := os.WriteFile(config, []byte(g.config(db)), 0o600); err != nil {
			b.Fatal(err)
		}
		from := 0
		if prev != "" {
			if err := copyFile(prev, db); err != nil {
				b.Fatal(err)
			}
			from = stores[len(stores)-1].articles
		} else {
			// The command adds the config's sources and topics, as a
			// first `briefbot sources list` would.
			var stderr bytes.Buffer
			err := runAt(ctx, []string{"--config", config, "sources", "list"}, func(string) string { return "" },
				strings.NewReader(""), io.Discard, &stderr, func() time.Time { return fixtureNow.Add(-90 * 24 * time.Hour) })
			if err != nil {
				b.Fatalf("sources list: %v\n%s", err, stderr.String())
			}
		}
		if err := g.fill(ctx, db, from, n); err != nil {
			b.Fatal(err)
		}
		stores = append(stores, bigStore{articles: n, config: config})
		prev = db
		b.Logf("built a store of %d articles in %v", n, time.Since(start).Round(100*time.Millisecond))
	}

	// Each briefing covers what it should.
	for _, st := range stores {
		var out bytes.Buffer
		bigBrief(b, st.config, &out, "--format", "json")
		var br struct {
			Matched int               `json:"matched_articles"`
			Stories []json.RawMessage `json:"stories"`
		}
		if err := json.Unmarshal(out.Bytes(), &br); err != nil {
			b.Fatal(err)
		}
		if br.Matched != bigInWindow || len(br.Stories) == 0 {
			b.Fatalf("store of %d articles: briefing of %d stories from %d articles, want some from %d",
				st.articles, len(br.Stories), br.Matched, bigInWindow)
		}
	}
	return stores
}

// copyFile copies a closed SQLite database, with its write-ahead log if
// it has one.
func copyFile(from, to string) error {
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(from + suffix)
		if suffix != "" && os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(to+suffix, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// bigGen makes up the articles of the big stores: article i is the same
// in every store, so a bigger store holds a smaller one. Words are made
// up and drawn by Zipf's law; stories share names and words of their own.
type bigGen struct {
	common []string   // the vocabulary, most frequent first
	themes [][]string // the words of each other topic's theme
	events [][]string // the names, words and numbers of each korea story
	story  []int      // the story of each korea article in the window
}

func newBigGen() *bigGen {
	r := rand.New(rand.NewPCG(7, 7))
	reserved := map[string]bool{"north": true, "korea": true, "pyongyang": true, "jong": true, "football": true}
	seen := map[string]bool{}
	word := func() string {
		for {
			n := 4 + r.IntN(7)
			w := make([]byte, n)
			for i := range w {
				w[i] = "etaoinshrdlucmfwypvbgk"[r.IntN(22)]
			}
			if s := string(w); !seen[s] && !reserved[s] {
				seen[s] = true
				return s
			}
		}
	}
	g := &bigGen{common: make([]string, 8000)}
	for i := range g.common {
		g.common[i] = word()
	}
	for range bigTopics - 1 {
		g.themes = append(g.themes, []string{word(), word(), word(), word()})
	}
	for range bigKoreaEvents + 300 {
		var ev []string
		for k := range 12 {
			w := word()
			if k < 4 {
				w = strings.ToUpper(w[:1]) + w[1:] // a name
			}
			ev = append(ev, w)
		}
		ev = append(ev, fmt.Sprint(10+r.IntN(990)), fmt.Sprintf("%d.%d", 1+r.IntN(20), r.IntN(10)))
		g.events = append(g.events, ev)
	}
	// A few big stories in the window, many small ones.
	zipf := rand.NewZipf(r, 1.3, 1, bigKoreaEvents-1)
	for range bigInWindow {
		g.story = append(g.story, int(zipf.Uint64()))
	}
	return g
}

// config returns the config file of a store in database db.
func (g *bigGen) config(db string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "database: %s\nsources:\n", db)
	for i := range bigSources {
		fmt.Fprintf(&b, "  - name: outlet-%02d\n    url: https://outlet%02d.example/feed.xml\n", i, i)
	}
	fmt.Fprintf(&b, "topics:\n  - name: %s\n    query: '%s'\n", bigBriefTopic, bigBriefQuery)
	return b.String()
}

// fill adds articles [from, to) to the store in db, with their topic
// matches, adding the other topics first if the store has none.
func (g *bigGen) fill(ctx context.Context, db string, from, to int) error {
	store, err := sqlstore.Open(ctx, db)
	if err != nil {
		return err
	}
	defer store.Close()
	topics, err := store.Topics(ctx)
	if err != nil {
		return err
	}
	if len(topics) < bigTopics {
		for k, th := range g.themes {
			t := digest.Topic{Name: fmt.Sprintf("theme-%03d", k), Query: themeQuery(k, th), Origin: digest.OriginChat,
				GuildID: fmt.Sprint(1000 + k%7), CreatedAt: fixtureNow.Add(-90 * 24 * time.Hour)}
			if _, err := store.AddTopic(ctx, t); err != nil {
				return err
			}
		}
		if topics, err = store.Topics(ctx); err != nil {
			return err
		}
	}
	set, err := digest.NewTopicSet(topics)
	if err != nil {
		return err
	}
	srcs, err := store.Sources(ctx)
	if err != nil {
		return err
	}
	if len(srcs) != bigSources {
		return fmt.Errorf("%d sources, want %d", len(srcs), bigSources)
	}

	// Articles are made up and matched a batch at a time, on every core,
	// while the previous batch is stored, all in one transaction.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type batch struct {
		articles []digest.Article
		topics   [][]int64
	}
	batches := make(chan batch, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(batches)
		for lo := from; lo < to; lo += bigBatch {
			hi := min(lo+bigBatch, to)
			bt := batch{make([]digest.Article, hi-lo), make([][]int64, hi-lo)}
			// The window's korea articles may copy earlier ones: in order.
			for i := lo; i < min(hi, bigInWindow); i++ {
				bt.articles[i-lo] = g.article(i, srcs, bt.articles[:i-lo])
			}
			var workers sync.WaitGroup
			procs := runtime.GOMAXPROCS(0)
			for w := range procs {
				workers.Go(func() {
					for i := lo + w; i < hi; i += procs {
						if i >= bigInWindow {
							bt.articles[i-lo] = g.article(i, srcs, nil)
						}
						bt.topics[i-lo] = set.Match(bt.articles[i-lo])
					}
				})
			}
			workers.Wait()
			select {
			case batches <- bt:
			case <-ctx.Done():
				return
			}
		}
	})
	defer wg.Wait()
	err = store.InsertArticles(ctx, func(yield func(digest.Article, []int64) bool) {
		for bt := range batches {
			for i, a := range bt.articles {
				if !yield(a, bt.topics[i]) {
					return
				}
			}
		}
	})
	cancel()
	for range batches {
	}
	return err
}

// themeQuery is the query of the other topic k, on its theme's words, in
// the shapes people write.
func themeQuery(k int, w []string) string {
	switch k % 5 {
	case 0:
		return w[0] + " OR " + w[1]
	case 1:
		return w[0] + " " + w[1]
	case 2:
		return fmt.Sprintf(`"%s %s" OR %s -%s`, w[0], w[1], w[2], w[3])
	case 3:
		return w[2]
	default:
		return fmt.Sprintf("(%s OR %s) (%s OR %s)", w[0], w[3], w[1], w[2])
	}
}

// article makes up article i. The first bigInWindow are korea articles in
// the window, in stories, some of them wire copies of earlier ones in
// before (articles 0 to i-1); of the rest, one in 19 is in the window and the others spread
// over the 60 days before it, one in 50 of them about korea.
func (g *bigGen) article(i int, srcs []digest.Source, before []digest.Article) digest.Article {
	r := rand.New(rand.NewPCG(11, uint64(i)))
	src := srcs[r.IntN(len(srcs))]
	windowStart := fixtureNow.Add(-24 * time.Hour)
	var published time.Time
	var words int
	var extra []string
	share := 0.0
	theme := g.themes[int(rand.NewZipf(r, 1.05, 3, uint64(len(g.themes)-1)).Uint64())]
	korea := i < bigInWindow
	switch {
	case korea:
		published = windowStart.Add(10*time.Minute + time.Duration(r.Int64N(int64(23*time.Hour+40*time.Minute))))
	case r.IntN(19) == 0:
		published = windowStart.Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
	default:
		published = windowStart.Add(-time.Duration(r.Int64N(int64(60 * 24 * time.Hour))))
		korea = r.IntN(50) == 0
	}
	if korea {
		ev := g.events[bigKoreaEvents+r.IntN(len(g.events)-bigKoreaEvents)]
		if i < bigInWindow {
			ev = g.events[g.story[i]]
		}
		words, share = 300+r.IntN(400), 0.25
		extra = append(append(extra, ev...), ev[:4]...) // names twice as often
		extra = append(extra, "North Korea", "Pyongyang", "Kim Jong Un", "denuclearization", theme[0])
	} else {
		// Mostly feed summaries; longer texts cost the full-text
		// index more time to build than anything else.
		words, share = 30+r.IntN(150), 0.05
		extra = []string{theme[0], theme[0], theme[1], theme[1], theme[2], theme[3]}
	}
	a := digest.Article{
		SourceID:   src.ID,
		Outlet:     src.Name,
		Title:      g.prose(r, 6+r.IntN(7), extra, 3*share),
		Text:       g.prose(r, words, extra, share),
		TextOrigin: digest.TextFromPage,
		Published:  published,
		Fetched:    published.Add(time.Duration(1+r.IntN(9)) * time.Minute),
	}
	if words < 150 {
		a.TextOrigin = digest.TextFromFeed
	}
	a.Title = strings.ReplaceAll(strings.TrimSuffix(a.Title, "."), ". ", " ") // one sentence
	if len(before) > 0 && r.IntN(7) == 0 {
		// A wire copy of an earlier article of the story, lightly edited.
		for j, orig := range before {
			if g.story[j] == g.story[i] && orig.SourceID != a.SourceID {
				f := strings.Fields(orig.Text)
				f[len(f)/2], f[len(f)/3] = g.common[r.IntN(100)], g.common[r.IntN(100)]
				a.Title, a.Text = "UPDATE: "+orig.Title, strings.Join(f, " ")
				if sig := digest.Sign(a.Text); digest.IsNearDuplicate(sig, orig.Signature) {
					a.DuplicateOf = orig.ID
					if orig.DuplicateOf != "" {
						a.DuplicateOf = orig.DuplicateOf
					}
				}
				break
			}
		}
	}
	a.URL = fmt.Sprintf("https://outlet%s.example/%s/%d", strings.TrimPrefix(src.Name, "outlet-"), published.Format("2006/01/02"), i)
	a.GUID = a.URL
	a.ContentHash = digest.ContentHash(a.Title, a.Text)
	a.ID = digest.ArticleID(a.URL, src.URL, a.GUID, a.ContentHash)
	a.Signature = digest.Sign(a.Text)
	return a
}

// prose makes up n words of sentences, each word from extra with
// probability share, else from the vocabulary.
func (g *bigGen) prose(r *rand.Rand, n int, extra []string, share float64) string {
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(g.common)-1))
	var b strings.Builder
	for written, s := 0, 0; written < n; s++ {
		k := min(8+r.IntN(20), n-written)
		for j := range k {
			w := g.common[zipf.Uint64()]
			if len(extra) > 0 && r.Float64() < share {
				w = extra[r.IntN(len(extra))]
			}
			if j == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			} else {
				b.WriteByte(' ')
			}
			b.WriteString(w)
			if j < k-1 && r.IntN(12) == 0 {
				b.WriteByte(',')
			}
		}
		b.WriteByte('.')
		written += k
		switch {
		case written >= n:
		case s%4 == 3:
			b.WriteString("\n\n")
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

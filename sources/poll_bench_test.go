package sources

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/feedserver"
	"github.com/briefbot/briefbot/sqlstore"
)

// BenchmarkPollIngest polls a feed of 20 new articles per op, each long
// enough to keep its feed text (no page fetch) and matched to one of 20
// topics, into SQLite in b.TempDir(): ns/article is the cost of ingesting
// one new article, fetch, parse and topic matching included.
func BenchmarkPollIngest(b *testing.B) {
	const perPoll = 20
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	for i := range 20 {
		if _, err := store.AddTopic(ctx, digest.Topic{Name: fmt.Sprint("topic", i), Query: fmt.Sprintf("topicword%d OR \"phrase %d\"", i, i), Origin: digest.OriginConfig}); err != nil {
			b.Fatal(err)
		}
	}
	topics, err := store.Topics(ctx)
	if err != nil {
		b.Fatal(err)
	}
	set, err := digest.NewTopicSet(topics)
	if err != nil {
		b.Fatal(err)
	}
	srv := feedserver.New(b)
	_, err = store.AddSource(ctx, digest.Source{Name: "wire", URL: srv.URL + "/feed", Interval: 15 * time.Minute, AllowPrivate: true, Origin: digest.OriginConfig})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second, MaxBodyBytes: 4 << 20, PerHost: 4, Version: "bench"})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := NewPoller(store, f, f, log, func() time.Time { return now }, PollOptions{
		MatchTopics: func(ctx context.Context, a digest.Article) ([]int64, error) { return set.Match(a), nil },
	})

	r := rand.New(rand.NewPCG(1, 2))
	n := 0
	for b.Loop() {
		b.StopTimer()
		items := make([][3]string, perPoll)
		for i := range items {
			var text strings.Builder
			fmt.Fprintf(&text, "<p>Story %d about topicword%d.", n, n%20)
			for range 150 {
				fmt.Fprintf(&text, " w%d", r.IntN(5000))
			}
			text.WriteString("</p>")
			items[i] = [3]string{fmt.Sprint("Story ", n), fmt.Sprint("https://site.example/story/", n), text.String()}
			n++
		}
		srv.Set("/feed", feedserver.Doc{Body: rss("Wire", items...)})
		now = now.Add(time.Hour)
		src, err := store.Source(ctx, "wire")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res := p.Poll(ctx, src, true)
		if res.Status != StatusNew || res.New != perPoll {
			b.Fatalf("poll = %+v, want %d new", res, perPoll)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/article")
}

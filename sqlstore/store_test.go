package sqlstore

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/briefbot/briefbot/digest"
)

// t0 is the tests' reference time, at millisecond precision as stored.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// openSQLite returns a Store on a new SQLite database in t.TempDir().
func openSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "briefbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestSQLite(t *testing.T) {
	testStore(t, openSQLite)
}

// testStore runs the digest.Store, digest.TopicStore, digest.SummaryCache
// and digest.SubscriptionStore suite against stores made by open, each test
// on an empty database of its own.
func testStore(t *testing.T, open func(t *testing.T) *Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store)
	}{
		{"add and get source", testAddSource},
		{"add source errors", testAddSourceErrors},
		{"sources ordered by name", testSourcesOrder},
		{"update source", testUpdateSource},
		{"remove source", testRemoveSource},
		{"fetch state round trip", testFetchState},
		{"article round trip", testArticleRoundTrip},
		{"insert article errors", testInsertArticleErrors},
		{"find article", testFindArticle},
		{"update article", testUpdateArticle},
		{"remove source keeps articles", testRemoveSourceKeepsArticles},
		{"near-duplicate candidates", testNearDuplicateCandidates},
		{"articles filter", testArticlesFilter},
		{"count articles", testCountArticles},
		{"concurrent inserts", testConcurrentInserts},
		{"concurrent add source", testConcurrentAddSource},
		{"add and get topic", testAddTopic},
		{"topic errors", testTopicErrors},
		{"topics ordered by name", testTopicsOrder},
		{"update topic", testUpdateTopic},
		{"remove topic removes its matches", testRemoveTopic},
		{"set article topics", testSetArticleTopics},
		{"insert articles with topics", testInsertArticles},
		{"insert matched article", testInsertMatchedArticle},
		{"update matched article", testUpdateMatchedArticle},
		{"match of a topic removed meanwhile", testMatchTopicRemovedMeanwhile},
		{"topic articles", testTopicArticles},
		{"search articles", testSearchArticles},
		{"search after update", testSearchAfterUpdate},
		{"search agrees with queries", testSearchAgreesWithQueries},
		{"summary cache", testSummaryCache},
		{"add and get subscription", testAddSubscription},
		{"subscription errors", testSubscriptionErrors},
		{"subscriptions by guild", testSubscriptionsByGuild},
		{"update subscription", testUpdateSubscription},
		{"remove subscription", testRemoveSubscription},
		{"remove topic pauses its subscriptions", testRemoveTopicSubscriptions},
		{"advance and pause subscription", testAdvanceAndPauseSubscription},
		{"seen articles and last delivered", testSeenArticles},
		{"due subscriptions", testDueSubscriptions},
		{"start delivery", testStartDelivery},
		{"record parts", testRecordPart},
		{"finish delivery", testFinishDelivery},
		{"delivery errors", testDeliveryErrors},
		{"concurrent start delivery", testConcurrentStartDelivery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

// Made-up texts for signatures: a story, a lightly edited copy of it (new
// opening words, one word changed, last clause trimmed) and an unrelated one.
const (
	storyText = `The regional water authority said on Thursday that reservoir levels had fallen to their lowest point in eleven years ` +
		`after a dry winter and an unusually warm spring, and asked households in the northern districts to cut their use ` +
		`by a fifth until the autumn rains arrive. Farmers in the valley warned that irrigation limits would hurt the harvest, ` +
		`while the authority promised to publish weekly figures and to review the restrictions at the end of every month.`
	editedText = `UPDATED: The regional water authority said on Thursday that reservoir levels had fallen to their lowest point in eleven years ` +
		`after a dry winter and an unusually hot spring, and asked households in the northern districts to cut their use ` +
		`by a fifth until the autumn rains arrive. Farmers in the valley warned that irrigation limits would hurt the harvest, ` +
		`while the authority promised to publish weekly figures.`
	neverStoredText = `The national football team named three uncapped players in its squad for next month's qualifiers, ` +
		`including a nineteen year old goalkeeper who has yet to start a league match. The coach said injuries to senior ` +
		`defenders had forced his hand and that the young players had impressed him in training camps over the summer.`
	unrelatedText = `A small museum on the harbour front reopened its doors on Saturday after a two year renovation that restored the ` +
		`original glass roof and added a gallery for the ship models donated by a retired captain. Visitors queued along the quay ` +
		`before opening time, and the director said school groups would be admitted free of charge for the rest of the season ` +
		`as a thank you to the town for its patience during the building work.`
)

// extremeSignature is a valid signature of the smallest and largest values.
func extremeSignature() digest.Signature {
	sig := make(digest.Signature, digest.SignatureBands*digest.SignatureRows)
	for i := range sig {
		if i%2 == 1 {
			sig[i] = math.MaxUint32
		}
	}
	return sig
}

// newSource returns a source named name, not yet stored.
func newSource(name string) digest.Source {
	return digest.Source{
		Name:      name,
		URL:       "https://" + name + ".example/feed.xml",
		Interval:  15 * time.Minute,
		Origin:    digest.OriginConfig,
		CreatedAt: t0,
	}
}

// mustAddSource stores newSource(name) and returns it.
func mustAddSource(t *testing.T, s *Store, name string) digest.Source {
	t.Helper()
	src, err := s.AddSource(t.Context(), newSource(name))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// newArticle returns an article of source sourceID, fetched at fetched,
// not yet stored.
func newArticle(id string, sourceID int64, fetched time.Time) digest.Article {
	return digest.Article{
		ID:          id,
		SourceID:    sourceID,
		Outlet:      "Example News",
		GUID:        "guid-" + id,
		URL:         "https://news.example/" + id,
		Title:       "Title " + id,
		Text:        "Text of " + id + ".",
		TextOrigin:  digest.TextFromFeed,
		Published:   fetched.Add(-time.Hour),
		Fetched:     fetched,
		ContentHash: "hash-" + id,
	}
}

// mustInsert stores articles, failing the test on error.
func mustInsert(t *testing.T, s *Store, articles ...digest.Article) {
	t.Helper()
	for _, a := range articles {
		if err := s.InsertArticle(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
}

// ids returns the IDs of articles, in order.
func ids(articles []digest.Article) []string {
	out := []string{}
	for _, a := range articles {
		out = append(out, a.ID)
	}
	return out
}

func testAddSource(t *testing.T, s *Store) {
	ctx := t.Context()
	s.Now = func() time.Time { return t0.Add(time.Hour) }
	tests := []struct {
		name string
		src  digest.Source
		want digest.Source
	}{
		{
			name: "every field",
			src: digest.Source{
				Name: "bbc", URL: "https://feeds.bbci.co.uk/news/rss.xml", Interval: 10 * time.Minute,
				AllowPrivate: true, Origin: digest.OriginCLI, GuildID: "1234", CreatedAt: t0,
				State: digest.FetchState{ETag: `"abc"`, Failures: 2, NextPoll: t0.Add(time.Minute)},
			},
			want: digest.Source{
				Name: "bbc", URL: "https://feeds.bbci.co.uk/news/rss.xml", Interval: 10 * time.Minute,
				AllowPrivate: true, Origin: digest.OriginCLI, GuildID: "1234", CreatedAt: t0,
				State: digest.FetchState{ETag: `"abc"`, Failures: 2, NextPoll: t0.Add(time.Minute)},
			},
		},
		{
			name: "zero created at is now",
			src:  digest.Source{Name: "npr", URL: "https://feeds.npr.org/1001/rss.xml", Origin: digest.OriginChat},
			want: digest.Source{Name: "npr", URL: "https://feeds.npr.org/1001/rss.xml", Origin: digest.OriginChat, CreatedAt: t0.Add(time.Hour)},
		},
		{
			name: "sub-millisecond times and sub-second intervals are cut",
			src: digest.Source{
				Name: "ap", URL: "https://ap.example/feed", Interval: 90*time.Second + 500*time.Millisecond,
				CreatedAt: t0.Add(1500 * time.Microsecond).In(time.FixedZone("UTC+9", 9*3600)),
			},
			want: digest.Source{Name: "ap", URL: "https://ap.example/feed", Interval: 90 * time.Second, CreatedAt: t0.Add(time.Millisecond)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, err := s.AddSource(ctx, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if added.ID == 0 {
				t.Error("AddSource returned ID 0")
			}
			tt.want.ID = added.ID
			if diff := cmp.Diff(added, tt.want); diff != "" {
				t.Errorf("AddSource returned (-got +want):\n%s", diff)
			}
			got, err := s.Source(ctx, tt.src.Name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Source(%q) (-got +want):\n%s", tt.src.Name, diff)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt location: got %v, want UTC", got.CreatedAt.Location())
			}
		})
	}
}

func testAddSourceErrors(t *testing.T, s *Store) {
	ctx := t.Context()
	mustAddSource(t, s, "bbc")
	tests := []struct {
		name    string
		src     digest.Source
		wantErr error // nil: any error
	}{
		{"same name", digest.Source{Name: "bbc", URL: "https://other.example/feed"}, digest.ErrExists},
		{"same url", digest.Source{Name: "bbc-world", URL: newSource("bbc").URL}, digest.ErrExists},
		{"same name and url", newSource("bbc"), digest.ErrExists},
		{"empty name", digest.Source{URL: "https://empty.example/feed"}, nil},
		{"empty url", digest.Source{Name: "empty"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddSource(ctx, tt.src)
			if err == nil {
				t.Fatalf("AddSource(%+v): got no error", tt.src)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("AddSource: got %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "sqlstore: ") {
				t.Errorf("AddSource: error %q lacks the sqlstore prefix", err)
			}
		})
	}
	if _, err := s.Source(ctx, "missing"); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("Source(missing): got %v, want %v", err, digest.ErrNotFound)
	}
	got, err := s.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("after failed adds: got %d sources, want 1", len(got))
	}
}

func testSourcesOrder(t *testing.T, s *Store) {
	got, err := s.Sources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("empty store: got %d sources, want 0", len(got))
	}
	for _, name := range []string{"zeit", "apnews", "lemonde"} {
		mustAddSource(t, s, name)
	}
	got, err = s.Sources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, src := range got {
		names = append(names, src.Name)
	}
	if diff := cmp.Diff(names, []string{"apnews", "lemonde", "zeit"}); diff != "" {
		t.Errorf("Sources names (-got +want):\n%s", diff)
	}
}

func testUpdateSource(t *testing.T, s *Store) {
	ctx := t.Context()
	bbc := mustAddSource(t, s, "bbc")
	other := mustAddSource(t, s, "other")
	state := digest.FetchState{ETag: `"v1"`, LastPoll: t0, Failures: 1}
	if err := s.SaveFetchState(ctx, bbc.ID, state); err != nil {
		t.Fatal(err)
	}

	change := bbc
	change.Name = "renamed" // not changed by UpdateSource
	change.URL = "https://bbc.example/new.xml"
	change.Interval = time.Hour
	change.AllowPrivate = true
	change.Origin = digest.OriginChat
	change.GuildID = "42"
	change.CreatedAt = t0.Add(time.Hour) // not changed either
	change.State = digest.FetchState{}   // nor is the fetch state
	if err := s.UpdateSource(ctx, change); err != nil {
		t.Fatal(err)
	}
	got, err := s.Source(ctx, "bbc")
	if err != nil {
		t.Fatal(err)
	}
	want := bbc
	want.URL, want.Interval, want.AllowPrivate, want.Origin, want.GuildID =
		change.URL, change.Interval, change.AllowPrivate, change.Origin, change.GuildID
	want.State = state
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("after UpdateSource (-got +want):\n%s", diff)
	}

	tests := []struct {
		name    string
		src     digest.Source
		wantErr error
	}{
		{"unknown id", digest.Source{ID: 999, URL: "https://x.example/feed"}, digest.ErrNotFound},
		{"url of another source", digest.Source{ID: bbc.ID, URL: other.URL}, digest.ErrExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.UpdateSource(ctx, tt.src)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("UpdateSource: got %v, want %v", err, tt.wantErr)
			}
		})
	}
	if err := s.UpdateSource(ctx, want); err != nil {
		t.Errorf("UpdateSource keeping its own url: %v", err)
	}
}

func testRemoveSource(t *testing.T, s *Store) {
	ctx := t.Context()
	mustAddSource(t, s, "bbc")
	mustAddSource(t, s, "npr")
	if err := s.RemoveSource(ctx, "bbc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Source(ctx, "bbc"); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("Source after remove: got %v, want %v", err, digest.ErrNotFound)
	}
	if err := s.RemoveSource(ctx, "bbc"); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("RemoveSource twice: got %v, want %v", err, digest.ErrNotFound)
	}
	if _, err := s.Source(ctx, "npr"); err != nil {
		t.Errorf("Source of the other source: %v", err)
	}
	// The name and URL are free again.
	if _, err := s.AddSource(ctx, newSource("bbc")); err != nil {
		t.Errorf("AddSource after remove: %v", err)
	}
}

func testFetchState(t *testing.T, s *Store) {
	ctx := t.Context()
	src := mustAddSource(t, s, "bbc")
	tests := []struct {
		name  string
		state digest.FetchState
		want  digest.FetchState
	}{
		{"zero", digest.FetchState{}, digest.FetchState{}},
		{
			name: "success",
			state: digest.FetchState{
				ETag: `W/"5e1f"`, LastModified: "Sat, 01 Mar 2025 11:58:00 GMT",
				NextPoll: t0.Add(15 * time.Minute), LastPoll: t0, LastSuccess: t0,
			},
			want: digest.FetchState{
				ETag: `W/"5e1f"`, LastModified: "Sat, 01 Mar 2025 11:58:00 GMT",
				NextPoll: t0.Add(15 * time.Minute), LastPoll: t0, LastSuccess: t0,
			},
		},
		{
			name: "failing and disabled, times in another zone",
			state: digest.FetchState{
				NextPoll:    t0.Add(time.Hour).In(time.FixedZone("EST", -5*3600)),
				LastPoll:    t0.Add(time.Minute),
				LastSuccess: time.Time{},
				Failures:    10, LastError: "sources: GET https://bbc.example/feed.xml: 503 Service Unavailable",
				Disabled: true,
			},
			want: digest.FetchState{
				NextPoll: t0.Add(time.Hour), LastPoll: t0.Add(time.Minute),
				Failures: 10, LastError: "sources: GET https://bbc.example/feed.xml: 503 Service Unavailable",
				Disabled: true,
			},
		},
		{"back to zero", digest.FetchState{}, digest.FetchState{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SaveFetchState(ctx, src.ID, tt.state); err != nil {
				t.Fatal(err)
			}
			got, err := s.Source(ctx, "bbc")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got.State, tt.want); diff != "" {
				t.Errorf("State (-got +want):\n%s", diff)
			}
			want := src
			want.State = tt.want
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("Source (-got +want):\n%s", diff)
			}
		})
	}
	if err := s.SaveFetchState(ctx, 999, digest.FetchState{}); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("SaveFetchState(999): got %v, want %v", err, digest.ErrNotFound)
	}
}

func testArticleRoundTrip(t *testing.T, s *Store) {
	ctx := t.Context()
	src := mustAddSource(t, s, "bbc")
	s.Now = func() time.Time { return t0.Add(2 * time.Hour) }
	tests := []struct {
		name string
		a    digest.Article
		want digest.Article
	}{
		{
			name: "every field",
			a: digest.Article{
				ID: "a1", SourceID: src.ID, Outlet: "BBC News", GUID: "urn:bbc:1", URL: "https://www.bbc.co.uk/news/1",
				Title: "Talks resume", Text: "Full text.", TextOrigin: digest.TextFromPage,
				Published: t0.Add(-time.Hour), Fetched: t0, Updated: t0.Add(time.Minute),
				ContentHash: "c1", Signature: digest.Sign(storyText), DuplicateOf: "a0",
			},
			want: digest.Article{
				ID: "a1", SourceID: src.ID, Outlet: "BBC News", GUID: "urn:bbc:1", URL: "https://www.bbc.co.uk/news/1",
				Title: "Talks resume", Text: "Full text.", TextOrigin: digest.TextFromPage,
				Published: t0.Add(-time.Hour), Fetched: t0, Updated: t0.Add(time.Minute),
				ContentHash: "c1", Signature: digest.Sign(storyText), DuplicateOf: "a0",
			},
		},
		{
			name: "zero times, no source, no url, no signature, fetched now",
			a:    digest.Article{ID: "a2", Title: "Headline", TextOrigin: digest.TextTitleOnly, ContentHash: "c2"},
			want: digest.Article{ID: "a2", Title: "Headline", TextOrigin: digest.TextTitleOnly, ContentHash: "c2", Fetched: t0.Add(2 * time.Hour)},
		},
		{
			name: "signature of extreme values",
			a:    digest.Article{ID: "a3", URL: "https://x.example/3", Fetched: t0, Signature: extremeSignature()},
			want: digest.Article{ID: "a3", URL: "https://x.example/3", Fetched: t0, Signature: extremeSignature()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.InsertArticle(ctx, tt.a); err != nil {
				t.Fatal(err)
			}
			got, err := s.FindArticle(ctx, digest.ArticleKeys{ContentHash: tt.a.ContentHash, URL: tt.a.URL})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("FindArticle (-got +want):\n%s", diff)
			}
		})
	}
}

func testInsertArticleErrors(t *testing.T, s *Store) {
	ctx := t.Context()
	src := mustAddSource(t, s, "bbc")
	first := newArticle("a1", src.ID, t0)
	noURL := newArticle("nourl1", src.ID, t0)
	noURL.URL = ""
	mustInsert(t, s, first, noURL)

	sameURL := newArticle("a2", src.ID, t0)
	sameURL.URL = first.URL
	otherNoURL := newArticle("nourl2", src.ID, t0)
	otherNoURL.URL = ""
	tests := []struct {
		name    string
		a       digest.Article
		wantErr error // nil: no error
		anyErr  bool  // some error, not a sentinel
	}{
		{name: "same id", a: first, wantErr: digest.ErrExists},
		{name: "same url", a: sameURL, wantErr: digest.ErrExists},
		{name: "unknown source", a: newArticle("a3", 999, t0), wantErr: digest.ErrNotFound},
		{name: "empty id", a: newArticle("", src.ID, t0), anyErr: true},
		{name: "signature of the wrong size", a: func() digest.Article {
			a := newArticle("a5", src.ID, t0)
			a.Signature = digest.Signature{1, 2, 3}
			return a
		}(), anyErr: true},
		{name: "second article without url", a: otherNoURL},
		{name: "same guid and hash, other url", a: func() digest.Article {
			a := newArticle("a4", src.ID, t0)
			a.GUID, a.ContentHash = first.GUID, first.ContentHash
			return a
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.InsertArticle(ctx, tt.a)
			switch {
			case tt.anyErr:
				if err == nil {
					t.Error("InsertArticle: got no error")
				}
			case !errors.Is(err, tt.wantErr):
				t.Errorf("InsertArticle: got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func testFindArticle(t *testing.T, s *Store) {
	ctx := t.Context()
	bbc := mustAddSource(t, s, "bbc")
	npr := mustAddSource(t, s, "npr")
	a1 := newArticle("a1", bbc.ID, t0)
	a2 := newArticle("a2", npr.ID, t0.Add(time.Minute))
	// a3 is a later exact copy of a1 under another URL.
	a3 := newArticle("a3", npr.ID, t0.Add(2*time.Minute))
	a3.ContentHash = a1.ContentHash
	mustInsert(t, s, a3, a1, a2)

	tests := []struct {
		name    string
		keys    digest.ArticleKeys
		want    string // article ID; "" for ErrNotFound
		wantErr error
	}{
		{name: "url", keys: digest.ArticleKeys{URL: a2.URL}, want: "a2"},
		{name: "guid in its source", keys: digest.ArticleKeys{SourceID: bbc.ID, GUID: a1.GUID}, want: "a1"},
		{name: "guid in another source", keys: digest.ArticleKeys{SourceID: npr.ID, GUID: a1.GUID}, wantErr: digest.ErrNotFound},
		{name: "guid without source", keys: digest.ArticleKeys{GUID: a1.GUID}, wantErr: digest.ErrNotFound},
		{name: "content hash, first fetched wins", keys: digest.ArticleKeys{ContentHash: a1.ContentHash}, want: "a1"},
		{name: "url before guid and hash", keys: digest.ArticleKeys{URL: a2.URL, SourceID: bbc.ID, GUID: a1.GUID, ContentHash: a1.ContentHash}, want: "a2"},
		{name: "guid before hash", keys: digest.ArticleKeys{SourceID: npr.ID, GUID: a2.GUID, ContentHash: a1.ContentHash}, want: "a2"},
		{name: "unknown url falls back to hash", keys: digest.ArticleKeys{URL: "https://unknown.example/", ContentHash: a2.ContentHash}, want: "a2"},
		{name: "nothing matches", keys: digest.ArticleKeys{URL: "https://unknown.example/", SourceID: bbc.ID, GUID: "nope", ContentHash: "nope"}, wantErr: digest.ErrNotFound},
		{name: "no keys", keys: digest.ArticleKeys{}, wantErr: digest.ErrNotFound},
		{name: "source id alone", keys: digest.ArticleKeys{SourceID: bbc.ID}, wantErr: digest.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.FindArticle(ctx, tt.keys)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("FindArticle(%+v): got %v, %v; want %v", tt.keys, got.ID, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindArticle(%+v): %v", tt.keys, err)
			}
			if got.ID != tt.want {
				t.Errorf("FindArticle(%+v): got %q, want %q", tt.keys, got.ID, tt.want)
			}
		})
	}
}

func testUpdateArticle(t *testing.T, s *Store) {
	ctx := t.Context()
	src := mustAddSource(t, s, "bbc")
	oldSig, newSig := digest.Sign(storyText), digest.Sign(unrelatedText)
	a := newArticle("a1", src.ID, t0)
	a.Signature = oldSig
	other := newArticle("a2", src.ID, t0)
	mustInsert(t, s, a, other)

	a.URL = "https://news.example/a1-canonical"
	a.Title, a.Text, a.TextOrigin = "New title", "New text.", digest.TextFromPage
	a.Updated = t0.Add(time.Hour)
	a.Signature = newSig
	a.DuplicateOf = "a0"
	a.Fetched = time.Time{} // keeps the stored fetch time
	if err := s.UpdateArticle(ctx, a); err != nil {
		t.Fatal(err)
	}
	want := a
	want.Fetched = t0
	got, err := s.FindArticle(ctx, digest.ArticleKeys{URL: a.URL})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("after UpdateArticle (-got +want):\n%s", diff)
	}
	if _, err := s.FindArticle(ctx, digest.ArticleKeys{URL: "https://news.example/a1"}); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("FindArticle(old url): got %v, want %v", err, digest.ErrNotFound)
	}
	wrongSize := a
	wrongSize.Signature = digest.Signature{1}
	if err := s.UpdateArticle(ctx, wrongSize); err == nil {
		t.Error("UpdateArticle with a signature of the wrong size: got no error")
	}

	tests := []struct {
		name string
		sig  digest.Signature
		want []string
	}{
		{"new signature finds it", newSig, []string{"a1"}},
		{"old signature does not", oldSig, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cands, err := s.NearDuplicateCandidates(ctx, tt.sig, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids(cands), tt.want); diff != "" {
				t.Errorf("candidates (-got +want):\n%s", diff)
			}
		})
	}

	sameURL := a
	sameURL.URL = other.URL
	missing := newArticle("missing", src.ID, t0)
	unknownSource := a
	unknownSource.SourceID = 999
	errTests := []struct {
		name    string
		a       digest.Article
		wantErr error
	}{
		{"unknown id", missing, digest.ErrNotFound},
		{"url of another article", sameURL, digest.ErrExists},
		{"unknown source", unknownSource, digest.ErrNotFound},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.UpdateArticle(ctx, tt.a); !errors.Is(err, tt.wantErr) {
				t.Errorf("UpdateArticle: got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func testRemoveSourceKeepsArticles(t *testing.T, s *Store) {
	ctx := t.Context()
	bbc := mustAddSource(t, s, "bbc")
	npr := mustAddSource(t, s, "npr")
	mustInsert(t, s,
		newArticle("b1", bbc.ID, t0),
		newArticle("b2", bbc.ID, t0.Add(time.Minute)),
		newArticle("n1", npr.ID, t0.Add(2*time.Minute)),
	)
	if err := s.RemoveSource(ctx, "bbc"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Articles(ctx, digest.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]int64{}
	for _, a := range got {
		sources[a.ID] = a.SourceID
	}
	want := map[string]int64{"b1": 0, "b2": 0, "n1": npr.ID}
	if diff := cmp.Diff(sources, want); diff != "" {
		t.Errorf("article source IDs after RemoveSource (-got +want):\n%s", diff)
	}
	a, err := s.FindArticle(ctx, digest.ArticleKeys{URL: "https://news.example/b1"})
	if err != nil {
		t.Fatal(err)
	}
	if a.SourceID != 0 {
		t.Errorf("FindArticle after RemoveSource: SourceID %d, want 0", a.SourceID)
	}
}

func testNearDuplicateCandidates(t *testing.T, s *Store) {
	ctx := t.Context()
	story, edited, unrelated := digest.Sign(storyText), digest.Sign(editedText), digest.Sign(unrelatedText)
	if !digest.IsNearDuplicate(story, edited) || digest.IsNearDuplicate(story, unrelated) {
		t.Fatalf("test texts: similarity %.2f to the edit, %.2f to the unrelated text",
			story.Similarity(edited), story.Similarity(unrelated))
	}
	// oneBand shares band 3 of the story's signature and nothing else: a
	// candidate, but not a near-duplicate.
	oneBand := make(digest.Signature, len(story))
	for i := range oneBand {
		oneBand[i] = 0x9e3779b9 * uint32(i+1)
	}
	r := digest.SignatureRows
	copy(oneBand[3*r:4*r], story[3*r:4*r])
	articles := []struct {
		id      string
		sig     digest.Signature
		fetched time.Time
	}{
		{"old-copy", story, t0.Add(-48 * time.Hour)},
		{"copy", story, t0},
		{"band3-only", oneBand, t0.Add(time.Minute)},
		{"unrelated", unrelated, t0},
		{"no-signature", nil, t0},
	}
	for _, a := range articles {
		stored := newArticle(a.id, 0, a.fetched)
		stored.Signature = a.sig
		mustInsert(t, s, stored)
	}

	tests := []struct {
		name  string
		sig   digest.Signature
		since time.Time
		limit int
		want  []string
	}{
		{"lightly edited copy", edited, t0.Add(-time.Hour), 0, []string{"copy"}},
		{"lightly edited copy, any time", edited, time.Time{}, 0, []string{"old-copy", "copy"}},
		{"one shared band is enough", story, t0.Add(-time.Hour), 0, []string{"copy", "band3-only"}},
		{"limit keeps the first fetched", story, time.Time{}, 2, []string{"old-copy", "copy"}},
		{"since is inclusive", story, t0, 0, []string{"copy", "band3-only"}},
		{"edited unrelated text finds only it", digest.Sign(strings.Replace(unrelatedText, "museum", "library", 1)), time.Time{}, 0, []string{"unrelated"}},
		{"text never stored", digest.Sign(neverStoredText), time.Time{}, 0, []string{}},
		{"nil signature", nil, time.Time{}, 0, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.NearDuplicateCandidates(ctx, tt.sig, tt.since, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids(got), tt.want); diff != "" {
				t.Errorf("NearDuplicateCandidates (-got +want):\n%s", diff)
			}
		})
	}

	got, err := s.NearDuplicateCandidates(ctx, story, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var near []string
	for _, a := range got {
		if digest.IsNearDuplicate(a.Signature, edited) {
			near = append(near, a.ID)
		}
	}
	if diff := cmp.Diff(near, []string{"copy"}); diff != "" {
		t.Errorf("confirmed near-duplicates (-got +want):\n%s", diff)
	}
}

func testArticlesFilter(t *testing.T, s *Store) {
	ctx := t.Context()
	bbc := mustAddSource(t, s, "bbc")
	npr := mustAddSource(t, s, "npr")
	mustInsert(t, s,
		newArticle("b1", bbc.ID, t0),
		newArticle("n1", npr.ID, t0.Add(time.Minute)),
		newArticle("b2", bbc.ID, t0.Add(2*time.Minute)),
		newArticle("n2", npr.ID, t0.Add(3*time.Minute)),
		newArticle("b3", bbc.ID, t0.Add(3*time.Minute)), // same fetch time as n2: ID breaks the tie
	)
	tests := []struct {
		name   string
		filter digest.ArticleFilter
		want   []string
	}{
		{"all, newest first", digest.ArticleFilter{}, []string{"b3", "n2", "b2", "n1", "b1"}},
		{"one source", digest.ArticleFilter{SourceID: bbc.ID}, []string{"b3", "b2", "b1"}},
		{"since is inclusive", digest.ArticleFilter{Since: t0.Add(2 * time.Minute)}, []string{"b3", "n2", "b2"}},
		{"limit", digest.ArticleFilter{Limit: 2}, []string{"b3", "n2"}},
		{"every filter", digest.ArticleFilter{SourceID: npr.ID, Since: t0.Add(time.Minute), Limit: 1}, []string{"n2"}},
		{"unknown source", digest.ArticleFilter{SourceID: 999}, []string{}},
		{"since after everything", digest.ArticleFilter{Since: t0.Add(time.Hour)}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Articles(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids(got), tt.want); diff != "" {
				t.Errorf("Articles(%+v) (-got +want):\n%s", tt.filter, diff)
			}
		})
	}
}

func testCountArticles(t *testing.T, s *Store) {
	ctx := t.Context()
	for i := range 4 {
		got, err := s.CountArticles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != i {
			t.Errorf("CountArticles: got %d, want %d", got, i)
		}
		mustInsert(t, s, newArticle(fmt.Sprint("a", i), 0, t0))
	}
}

func testConcurrentInserts(t *testing.T, s *Store) {
	ctx := t.Context()
	const writers, perWriter = 8, 25
	src := mustAddSource(t, s, "bbc")
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				a := newArticle(fmt.Sprintf("w%d-%d", w, i), src.ID, t0.Add(time.Duration(i)*time.Second))
				a.Signature = digest.Sign(fmt.Sprintf("writer %d article %d: %s", w, i, storyText))
				if err := s.InsertArticle(ctx, a); err != nil {
					errs <- err
				}
				if _, err := s.Articles(ctx, digest.ArticleFilter{Limit: 5}); err != nil {
					errs <- err
				}
				if err := s.SaveFetchState(ctx, src.ID, digest.FetchState{Failures: i}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.CountArticles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != writers*perWriter {
		t.Errorf("CountArticles: got %d, want %d", got, writers*perWriter)
	}
}

func testConcurrentAddSource(t *testing.T, s *Store) {
	ctx := t.Context()
	const tries = 8
	var wg sync.WaitGroup
	errs := make(chan error, tries)
	for range tries {
		wg.Go(func() {
			_, err := s.AddSource(ctx, newSource("bbc"))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	var added, exists int
	for err := range errs {
		switch {
		case err == nil:
			added++
		case errors.Is(err, digest.ErrExists):
			exists++
		default:
			t.Error(err)
		}
	}
	if added != 1 || exists != tries-1 {
		t.Errorf("concurrent AddSource: %d added, %d already existing; want 1, %d", added, exists, tries-1)
	}
}

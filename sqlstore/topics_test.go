package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/briefbot/briefbot/digest"
)

// The digest.TopicStore and digest.SummaryCache part of the store suite
// (testStore runs them).

// newTopic returns a topic named name with query, not yet stored.
func newTopic(name, query string) digest.Topic {
	return digest.Topic{Name: name, Query: query, Origin: digest.OriginConfig, CreatedAt: t0}
}

// mustAddTopic stores newTopic(name, query) and returns it.
func mustAddTopic(t *testing.T, s *Store, name, query string) digest.Topic {
	t.Helper()
	tp, err := s.AddTopic(t.Context(), newTopic(name, query))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// mustSetTopics records the topics of an article, failing the test on error.
func mustSetTopics(t *testing.T, s *Store, articleID string, topicIDs ...int64) {
	t.Helper()
	if err := s.SetArticleTopics(t.Context(), articleID, topicIDs); err != nil {
		t.Fatal(err)
	}
}

// publishedArticle returns an article published at published and fetched a
// minute later, with a title and text, not yet stored.
func publishedArticle(id string, published time.Time, title, text string) digest.Article {
	a := newArticle(id, 0, published.Add(time.Minute))
	a.Published = published
	a.Title, a.Text = title, text
	return a
}

func testAddTopic(t *testing.T, s *Store) {
	ctx := t.Context()
	s.Now = func() time.Time { return t0.Add(time.Hour) }
	tests := []struct {
		name  string
		topic digest.Topic
		want  digest.Topic
	}{
		{
			name: "every field",
			topic: digest.Topic{
				ID: 99, Name: "korea-talks", Query: `"north korea" OR pyongyang -sport`,
				Origin: digest.OriginChat, GuildID: "1234", CreatedAt: t0,
			},
			want: digest.Topic{
				Name: "korea-talks", Query: `"north korea" OR pyongyang -sport`,
				Origin: digest.OriginChat, GuildID: "1234", CreatedAt: t0,
			},
		},
		{
			name:  "zero created at is now",
			topic: digest.Topic{Name: "climate", Query: "climate"},
			want:  digest.Topic{Name: "climate", Query: "climate", CreatedAt: t0.Add(time.Hour)},
		},
		{
			name:  "sub-millisecond time in another zone",
			topic: digest.Topic{Name: "ai", Query: "ai", CreatedAt: t0.Add(1500 * time.Microsecond).In(time.FixedZone("UTC+9", 9*3600))},
			want:  digest.Topic{Name: "ai", Query: "ai", CreatedAt: t0.Add(time.Millisecond)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, err := s.AddTopic(ctx, tt.topic)
			if err != nil {
				t.Fatal(err)
			}
			if added.ID == 0 || added.ID == 99 {
				t.Errorf("AddTopic returned ID %d, want a new one", added.ID)
			}
			tt.want.ID = added.ID
			if diff := cmp.Diff(added, tt.want); diff != "" {
				t.Errorf("AddTopic returned (-got +want):\n%s", diff)
			}
			got, err := s.Topic(ctx, tt.topic.Name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Topic(%q) (-got +want):\n%s", tt.topic.Name, diff)
			}
		})
	}
}

func testTopicErrors(t *testing.T, s *Store) {
	ctx := t.Context()
	kept := mustAddTopic(t, s, "korea", "korea")
	tests := []struct {
		name    string
		call    func() error
		wantErr error // nil: any error
	}{
		{"add same name", func() error { _, err := s.AddTopic(ctx, newTopic("korea", "seoul")); return err }, digest.ErrExists},
		{"add empty name", func() error { _, err := s.AddTopic(ctx, newTopic("", "seoul")); return err }, nil},
		{"add empty query", func() error { _, err := s.AddTopic(ctx, newTopic("seoul", "")); return err }, nil},
		{"get missing", func() error { _, err := s.Topic(ctx, "missing"); return err }, digest.ErrNotFound},
		{"update unknown id", func() error { return s.UpdateTopic(ctx, digest.Topic{ID: 999, Query: "x"}) }, digest.ErrNotFound},
		{"update empty query", func() error { return s.UpdateTopic(ctx, digest.Topic{ID: kept.ID}) }, nil},
		{"remove missing", func() error { return s.RemoveTopic(ctx, "missing") }, digest.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "sqlstore: ") {
				t.Errorf("error %q lacks the sqlstore prefix", err)
			}
		})
	}
	got, err := s.Topics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []digest.Topic{kept}); diff != "" {
		t.Errorf("after failed calls, Topics (-got +want):\n%s", diff)
	}
}

func testTopicsOrder(t *testing.T, s *Store) {
	got, err := s.Topics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("empty store: got %d topics, want 0", len(got))
	}
	for _, name := range []string{"zimbabwe", "africa", "korea"} {
		mustAddTopic(t, s, name, name)
	}
	got, err = s.Topics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tp := range got {
		names = append(names, tp.Name)
	}
	if diff := cmp.Diff(names, []string{"africa", "korea", "zimbabwe"}); diff != "" {
		t.Errorf("Topics names (-got +want):\n%s", diff)
	}
}

func testUpdateTopic(t *testing.T, s *Store) {
	ctx := t.Context()
	tp := mustAddTopic(t, s, "korea", "korea")
	change := tp
	change.Name = "renamed"              // not changed by UpdateTopic
	change.CreatedAt = t0.Add(time.Hour) // nor is this
	change.Query = `"north korea" OR pyongyang`
	change.Origin = digest.OriginChat
	change.GuildID = "42"
	if err := s.UpdateTopic(ctx, change); err != nil {
		t.Fatal(err)
	}
	got, err := s.Topic(ctx, "korea")
	if err != nil {
		t.Fatal(err)
	}
	want := tp
	want.Query, want.Origin, want.GuildID = change.Query, change.Origin, change.GuildID
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("after UpdateTopic (-got +want):\n%s", diff)
	}
}

func testRemoveTopic(t *testing.T, s *Store) {
	ctx := t.Context()
	korea := mustAddTopic(t, s, "korea", "korea")
	japan := mustAddTopic(t, s, "japan", "japan")
	mustInsert(t, s, publishedArticle("a1", t0, "Korea and Japan", ""))
	mustSetTopics(t, s, "a1", korea.ID, japan.ID)

	if err := s.RemoveTopic(ctx, "korea"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Topic(ctx, "korea"); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("Topic after remove: got %v, want %v", err, digest.ErrNotFound)
	}
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM article_topics WHERE topic_id = $1`, korea.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("removed topic keeps %d article matches", rows)
	}
	got, err := s.TopicArticles(ctx, japan.ID, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(got), []string{"a1"}); diff != "" {
		t.Errorf("the other topic's articles (-got +want):\n%s", diff)
	}
	if n, err := s.CountArticles(ctx); err != nil || n != 1 {
		t.Errorf("articles after removing a topic: got %d, %v; want 1", n, err)
	}
	again := mustAddTopic(t, s, "korea", "korea")
	if again.ID == korea.ID {
		t.Errorf("re-added topic reuses ID %d", korea.ID)
	}
	got, err = s.TopicArticles(ctx, again.ID, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("re-added topic inherits articles %v", ids(got))
	}
}

func testSetArticleTopics(t *testing.T, s *Store) {
	ctx := t.Context()
	var topics []int64
	for _, name := range []string{"t1", "t2", "t3"} {
		topics = append(topics, mustAddTopic(t, s, name, name).ID)
	}
	t1, t2, t3 := topics[0], topics[1], topics[2]
	mustInsert(t, s,
		publishedArticle("a1", t0, "one", ""),
		publishedArticle("a2", t0.Add(time.Hour), "two", ""),
	)
	mustSetTopics(t, s, "a2", t1)

	// topicsOf returns, for each topic, the IDs of its articles.
	topicsOf := func() map[int64][]string {
		out := map[int64][]string{}
		for _, id := range topics {
			got, err := s.TopicArticles(ctx, id, time.Time{}, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = ids(got)
		}
		return out
	}
	steps := []struct {
		name   string
		topics []int64
		want   map[int64][]string
	}{
		{"first set", []int64{t2, t1}, map[int64][]string{t1: {"a2", "a1"}, t2: {"a1"}, t3: {}}},
		{"replaced", []int64{t3, t2}, map[int64][]string{t1: {"a2"}, t2: {"a1"}, t3: {"a1"}}},
		{"duplicates", []int64{t3, t3, t1}, map[int64][]string{t1: {"a2", "a1"}, t2: {}, t3: {"a1"}}},
		{"none", nil, map[int64][]string{t1: {"a2"}, t2: {}, t3: {}}},
		{"again", []int64{t2}, map[int64][]string{t1: {"a2"}, t2: {"a1"}, t3: {}}},
	}
	for _, st := range steps {
		if err := s.SetArticleTopics(ctx, "a1", st.topics); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if diff := cmp.Diff(topicsOf(), st.want); diff != "" {
			t.Errorf("%s: articles of topics (-got +want):\n%s", st.name, diff)
		}
	}

	before := topicsOf()
	tests := []struct {
		name      string
		articleID string
		topics    []int64
		mention   string
	}{
		{"unknown article", "missing", []int64{t1}, `"missing"`},
		{"unknown topic", "a1", []int64{t1, 999}, "topic id 999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetArticleTopics(ctx, tt.articleID, tt.topics)
			if !errors.Is(err, digest.ErrNotFound) {
				t.Fatalf("got %v, want %v", err, digest.ErrNotFound)
			}
			if !strings.HasPrefix(err.Error(), "sqlstore: ") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q: want the sqlstore prefix and %s", err, tt.mention)
			}
			if diff := cmp.Diff(topicsOf(), before); diff != "" {
				t.Errorf("a failed call changed matches (-got +want):\n%s", diff)
			}
		})
	}
}

func testInsertArticles(t *testing.T, s *Store) {
	ctx := t.Context()
	src := mustAddSource(t, s, "bbc")
	t1 := mustAddTopic(t, s, "t1", "one").ID
	t2 := mustAddTopic(t, s, "t2", "two").ID
	s.Now = func() time.Time { return t0.Add(5 * time.Hour) }
	a1 := publishedArticle("a1", t0, "one", storyText)
	a1.SourceID, a1.Signature = src.ID, digest.Sign(storyText)
	a2 := publishedArticle("a2", t0.Add(time.Hour), "two", "")
	a2.Fetched = time.Time{} // fetched now
	a3 := newArticle("a3", 0, t0.Add(2*time.Hour))
	a3.Published = time.Time{} // counts as published when fetched
	if err := s.InsertArticles(ctx, withTopics([]digest.Article{a1, a2, a3}, [][]int64{{t2, t1, t2}, nil, {t1}})); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindArticle(ctx, digest.ArticleKeys{URL: a2.URL})
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(5 * time.Hour); !got.Fetched.Equal(want) {
		t.Errorf("a2 fetched %v, want %v (Now)", got.Fetched, want)
	}
	for _, tt := range []struct {
		topic int64
		want  []string
	}{{t1, []string{"a3", "a1"}}, {t2, []string{"a1"}}} {
		arts, err := s.TopicArticles(ctx, tt.topic, t0, t0.Add(3*time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ids(arts), tt.want); diff != "" {
			t.Errorf("articles of topic id %d (-got +want):\n%s", tt.topic, diff)
		}
	}
	near, err := s.NearDuplicateCandidates(ctx, digest.Sign(editedText), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(near), []string{"a1"}); diff != "" {
		t.Errorf("near-duplicate candidates (-got +want):\n%s", diff)
	}
	found, err := s.SearchArticles(ctx, []string{"reservoir"}, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(found), []string{"a1"}); diff != "" {
		t.Errorf("search (-got +want):\n%s", diff)
	}

	// A failure stores nothing of the batch.
	fresh := func(id string) digest.Article { return newArticle(id, 0, t0) }
	tests := []struct {
		name     string
		articles []digest.Article
		topics   [][]int64
		want     error
		mention  string
	}{
		{"stored ID", []digest.Article{fresh("b1"), fresh("a1")}, nil, digest.ErrExists, `"a1"`},
		{"ID twice", []digest.Article{fresh("b1"), fresh("b1")}, nil, digest.ErrExists, `"b1"`},
		{"unknown topic", []digest.Article{fresh("b1"), fresh("b2")}, [][]int64{{t1}, {999}}, digest.ErrNotFound, "topic id 999"},
		{"unknown source", []digest.Article{fresh("b1"), newArticle("b2", 999, t0)}, nil, digest.ErrNotFound, "source id 999"},
		{"empty ID", []digest.Article{fresh("b1"), fresh("")}, nil, nil, "empty id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.InsertArticles(ctx, withTopics(tt.articles, tt.topics))
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "sqlstore: ") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q: want the sqlstore prefix and %s", err, tt.mention)
			}
			if n, err := s.CountArticles(ctx); err != nil || n != 3 {
				t.Errorf("after the failed batch: %d articles (%v), want 3", n, err)
			}
		})
	}
	t.Run("caller cancels", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		err := s.InsertArticles(cctx, func(yield func(digest.Article, []int64) bool) {
			if yield(fresh("b1"), []int64{t1}) {
				cancel()
				yield(fresh("b2"), nil)
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want %v", err, context.Canceled)
		}
		if n, err := s.CountArticles(ctx); err != nil || n != 3 {
			t.Errorf("after the cancelled batch: %d articles (%v), want 3", n, err)
		}
	})
}

// topicArticleIDs returns, for each topic, the IDs of its articles, newest
// first.
func topicArticleIDs(t *testing.T, s *Store, topicIDs ...int64) map[int64][]string {
	t.Helper()
	out := map[int64][]string{}
	for _, id := range topicIDs {
		got, err := s.TopicArticles(t.Context(), id, time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = ids(got)
	}
	return out
}

// failMatches makes every insert into article_topics fail, as a database
// gone in the middle of a transaction would, until the returned function
// is called.
func failMatches(t *testing.T, s *Store) (restore func()) {
	t.Helper()
	ctx := t.Context()
	create := []string{`CREATE TRIGGER fail_matches BEFORE INSERT ON article_topics
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	drop := []string{`DROP TRIGGER fail_matches`}
	if s.dialect.name == "postgres" {
		create = []string{
			`CREATE FUNCTION fail_matches() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			`CREATE TRIGGER fail_matches BEFORE INSERT ON article_topics
			FOR EACH ROW EXECUTE FUNCTION fail_matches()`,
		}
		drop = []string{`DROP TRIGGER fail_matches ON article_topics`, `DROP FUNCTION fail_matches()`}
	}
	for _, q := range create {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		for _, q := range drop {
			if _, err := s.db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func testInsertMatchedArticle(t *testing.T, s *Store) {
	ctx := t.Context()
	src := mustAddSource(t, s, "bbc")
	t1 := mustAddTopic(t, s, "t1", "one").ID
	t2 := mustAddTopic(t, s, "t2", "two").ID
	gone := mustAddTopic(t, s, "gone", "gone").ID
	if err := s.RemoveTopic(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return t0.Add(5 * time.Hour) }
	a1 := publishedArticle("a1", t0, "one", storyText)
	a1.SourceID, a1.Signature = src.ID, digest.Sign(storyText)
	a2 := newArticle("a2", src.ID, time.Time{}) // fetched now
	a2.Published = time.Time{}                  // counts as published when fetched
	a3 := newArticle("a3", src.ID, t0)
	for _, st := range []struct {
		a      digest.Article
		topics []int64
	}{
		// A topic removed since the caller loaded its topics is no match.
		{a1, []int64{t2, t1, t2, gone}},
		{a2, []int64{t1}},
		{a3, nil},
	} {
		if err := s.InsertMatchedArticle(ctx, st.a, st.topics); err != nil {
			t.Fatalf("insert %s: %v", st.a.ID, err)
		}
	}
	want := map[int64][]string{t1: {"a2", "a1"}, t2: {"a1"}, gone: {}}
	if diff := cmp.Diff(topicArticleIDs(t, s, t1, t2, gone), want); diff != "" {
		t.Errorf("articles of topics (-got +want):\n%s", diff)
	}
	if got, err := s.FindArticle(ctx, digest.ArticleKeys{URL: a2.URL}); err != nil || !got.Fetched.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("a2 fetched %v (%v), want %v (Now)", got.Fetched, err, t0.Add(5*time.Hour))
	}
	near, err := s.NearDuplicateCandidates(ctx, digest.Sign(editedText), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(near), []string{"a1"}); diff != "" {
		t.Errorf("near-duplicate candidates (-got +want):\n%s", diff)
	}

	// A failure stores neither the article nor its matches.
	tests := []struct {
		name    string
		a       digest.Article
		fail    bool // the matches fail to store
		want    error
		mention string
	}{
		{"stored ID", newArticle("a1", src.ID, t0), false, digest.ErrExists, `"a1"`},
		{"unknown source", newArticle("b1", 999, t0), false, digest.ErrNotFound, "source id 999"},
		{"empty ID", newArticle("", src.ID, t0), false, nil, "empty id"},
		{"matches fail", newArticle("b1", src.ID, t0), true, nil, "injected failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fail {
				defer failMatches(t, s)()
			}
			err := s.InsertMatchedArticle(ctx, tt.a, []int64{t1, t2})
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "sqlstore: ") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q: want the sqlstore prefix and %s", err, tt.mention)
			}
			if n, err := s.CountArticles(ctx); err != nil || n != 3 {
				t.Errorf("after the failed insert: %d articles (%v), want 3", n, err)
			}
			if diff := cmp.Diff(topicArticleIDs(t, s, t1, t2, gone), want); diff != "" {
				t.Errorf("a failed insert changed matches (-got +want):\n%s", diff)
			}
		})
	}
	// What failed for the matches alone succeeds when tried again.
	if err := s.InsertMatchedArticle(ctx, newArticle("b1", src.ID, t0), []int64{t2}); err != nil {
		t.Fatalf("insert b1 again: %v", err)
	}
	if got := topicArticleIDs(t, s, t2)[t2]; !slices.Contains(got, "b1") {
		t.Errorf("articles of t2 after the retry = %v, want b1 among them", got)
	}
}

func testUpdateMatchedArticle(t *testing.T, s *Store) {
	ctx := t.Context()
	src := mustAddSource(t, s, "bbc")
	t1 := mustAddTopic(t, s, "t1", "one").ID
	t2 := mustAddTopic(t, s, "t2", "two").ID
	gone := mustAddTopic(t, s, "gone", "gone").ID
	if err := s.RemoveTopic(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	a := publishedArticle("a1", t0, "one", storyText)
	a.SourceID, a.Signature = src.ID, digest.Sign(storyText)
	if err := s.InsertMatchedArticle(ctx, a, []int64{t1}); err != nil {
		t.Fatal(err)
	}

	// An edit re-dated two hours later now matches t2 alone; the match
	// takes the new publish time, the row keeps its fetch time.
	a.Title, a.Text, a.Signature = "two", unrelatedText, digest.Sign(unrelatedText)
	a.Published, a.Fetched = t0.Add(2*time.Hour), time.Time{}
	if err := s.UpdateMatchedArticle(ctx, a, []int64{t2, gone, t2}); err != nil {
		t.Fatal(err)
	}
	check := func(step string, title string, want map[int64][]string) {
		t.Helper()
		got, err := s.FindArticle(ctx, digest.ArticleKeys{URL: a.URL})
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != title || !got.Fetched.Equal(t0.Add(time.Minute)) {
			t.Errorf("%s: article title %q fetched %v, want %q fetched %v", step, got.Title, got.Fetched, title, t0.Add(time.Minute))
		}
		if diff := cmp.Diff(topicArticleIDs(t, s, t1, t2, gone), want); diff != "" {
			t.Errorf("%s: articles of topics (-got +want):\n%s", step, diff)
		}
	}
	check("updated", "two", map[int64][]string{t1: {}, t2: {"a1"}, gone: {}})
	in, err := s.TopicArticles(ctx, t2, t0.Add(2*time.Hour), t0.Add(3*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(in), []string{"a1"}); diff != "" {
		t.Errorf("t2's articles published in the new hour (-got +want):\n%s", diff)
	}
	near, err := s.NearDuplicateCandidates(ctx, digest.Sign(unrelatedText), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(near), []string{"a1"}); diff != "" {
		t.Errorf("near-duplicate candidates of the new text (-got +want):\n%s", diff)
	}

	// A failure to store the matches leaves the article as it was.
	edited := a
	edited.Title = "three"
	restore := failMatches(t, s)
	err = s.UpdateMatchedArticle(ctx, edited, []int64{t1})
	restore()
	if err == nil || !strings.HasPrefix(err.Error(), "sqlstore: ") || !strings.Contains(err.Error(), "injected failure") {
		t.Errorf("update with failing matches: got %v, want the injected failure", err)
	}
	check("failed update", "two", map[int64][]string{t1: {}, t2: {"a1"}, gone: {}})

	// No topics: no matches. The plain UpdateArticle keeps them.
	if err := s.UpdateMatchedArticle(ctx, edited, nil); err != nil {
		t.Fatal(err)
	}
	check("matches none", "three", map[int64][]string{t1: {}, t2: {}, gone: {}})
	if err := s.UpdateMatchedArticle(ctx, edited, []int64{t1}); err != nil {
		t.Fatal(err)
	}
	edited.Title = "four"
	if err := s.UpdateArticle(ctx, edited); err != nil {
		t.Fatal(err)
	}
	check("plain update", "four", map[int64][]string{t1: {"a1"}, t2: {}, gone: {}})

	missing := newArticle("missing", src.ID, t0)
	if err := s.UpdateMatchedArticle(ctx, missing, []int64{t1}); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("update of an unknown article: got %v, want %v", err, digest.ErrNotFound)
	}
	check("unknown article", "four", map[int64][]string{t1: {"a1"}, t2: {}, gone: {}})
}

// testMatchTopicRemovedMeanwhile stores an article matched to a topic
// whose removal commits while the insert waits for it: the article is
// stored without that match, rather than failing on the missing topic.
func testMatchTopicRemovedMeanwhile(t *testing.T, s *Store) {
	ctx := t.Context()
	t1 := mustAddTopic(t, s, "t1", "one").ID
	gone := mustAddTopic(t, s, "gone", "gone").ID
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM topics WHERE id = $1`, gone); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.InsertMatchedArticle(ctx, newArticle("a1", 0, t0), []int64{t1, gone}) }()
	select {
	case err := <-done:
		t.Fatalf("insert did not wait for the removal: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("insert: %v", err)
	}
	want := map[int64][]string{t1: {"a1"}, gone: {}}
	if diff := cmp.Diff(topicArticleIDs(t, s, t1, gone), want); diff != "" {
		t.Errorf("articles of topics (-got +want):\n%s", diff)
	}
}

// withTopics yields each article with the topics of the same index (none
// past the end of topics).
func withTopics(articles []digest.Article, topics [][]int64) iter.Seq2[digest.Article, []int64] {
	return func(yield func(digest.Article, []int64) bool) {
		for i, a := range articles {
			var ids []int64
			if i < len(topics) {
				ids = topics[i]
			}
			if !yield(a, ids) {
				return
			}
		}
	}
}

func testTopicArticles(t *testing.T, s *Store) {
	ctx := t.Context()
	topic := mustAddTopic(t, s, "korea", "korea")
	other := mustAddTopic(t, s, "other", "other")
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	// a0 ... a4 published an hour apart, "tie" at the same time as a2, and
	// "unpublished" without a publish time, fetched at h(3)+30m.
	for i := range 5 {
		mustInsert(t, s, publishedArticle(fmt.Sprint("a", i), h(i), "Korea", ""))
	}
	mustInsert(t, s, publishedArticle("tie", h(2), "Korea", ""))
	unpublished := newArticle("unpublished", 0, h(3).Add(30*time.Minute))
	unpublished.Published = time.Time{}
	mustInsert(t, s, unpublished, publishedArticle("unmatched", h(2), "Korea", ""))
	for _, id := range []string{"a0", "a1", "a2", "a3", "a4", "tie", "unpublished"} {
		mustSetTopics(t, s, id, topic.ID)
	}
	mustSetTopics(t, s, "unmatched", other.ID)

	tests := []struct {
		name     string
		from, to time.Time
		limit    int
		want     []string
	}{
		{"everything", time.Time{}, time.Time{}, 0, []string{"a4", "unpublished", "a3", "tie", "a2", "a1", "a0"}},
		{"from is inclusive, to exclusive", h(1), h(3), 0, []string{"tie", "a2", "a1"}},
		{"limit", h(1), time.Time{}, 2, []string{"a4", "unpublished"}},
		{"no lower bound", time.Time{}, h(2), 0, []string{"a1", "a0"}},
		{"fetch time stands in for publish time", h(3).Add(time.Minute), h(4), 0, []string{"unpublished"}},
		{"empty window", h(2).Add(time.Minute), h(3), 0, nil},
		{"window in the future", h(10), h(20), 0, nil},
		{"negative limit is no limit", h(3), time.Time{}, -1, []string{"a4", "unpublished", "a3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.TopicArticles(ctx, topic.ID, tt.from, tt.to, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids(got), append([]string{}, tt.want...)); diff != "" {
				t.Errorf("TopicArticles (-got +want):\n%s", diff)
			}
		})
	}

	// Articles come back whole, as stored.
	got, err := s.TopicArticles(ctx, topic.ID, h(3), h(4), 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.FindArticle(ctx, digest.ArticleKeys{URL: unpublished.URL})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []digest.Article{want, mustFind(t, s, "a3")}); diff != "" {
		t.Errorf("TopicArticles articles (-got +want):\n%s", diff)
	}

	// A changed publish time moves the article in the window.
	moved := mustFind(t, s, "a0")
	moved.Published = h(10)
	if err := s.UpdateArticle(ctx, moved); err != nil {
		t.Fatal(err)
	}
	got, err = s.TopicArticles(ctx, topic.ID, h(5), time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(got), []string{"a0"}); diff != "" {
		t.Errorf("after moving a0's publish time (-got +want):\n%s", diff)
	}

	if got, err := s.TopicArticles(ctx, 999, time.Time{}, time.Time{}, 0); err != nil || len(got) != 0 {
		t.Errorf("unknown topic: got %v, %v; want no articles", ids(got), err)
	}
}

// mustFind returns the stored article with the given ID, as made by
// newArticle.
func mustFind(t *testing.T, s *Store, id string) digest.Article {
	t.Helper()
	a, err := s.FindArticle(t.Context(), digest.ArticleKeys{URL: "https://news.example/" + id})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testSearchArticles(t *testing.T, s *Store) {
	ctx := t.Context()
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	mustInsert(t, s,
		publishedArticle("pyongyang", h(0), "Envoy arrives in Pyŏngyang", "The visit lasted two days."),
		publishedArticle("kim", h(1), "Talks", "Kim Jong-un met the envoy. Officials said: no comment."),
		publishedArticle("kimberly", h(2), "Profile", "Kimberly Smith leads the Seoul office; kim chi is her favourite."),
		publishedArticle("korea", h(3), "NORTH KOREA", "Missiles were tested near the coast."),
		publishedArticle("reversed", h(4), "Korea, north and south", "A report."),
		publishedArticle("cafe", h(5), "Café culture", "Or not: the star of the show near Seoul."),
	)
	unpublished := newArticle("unpublished", 0, h(6))
	unpublished.Published = time.Time{}
	unpublished.Title, unpublished.Text = "Envoy leaves", "Quietly."
	mustInsert(t, s, unpublished)

	tests := []struct {
		name     string
		terms    []string
		from, to time.Time
		limit    int
		want     []string
	}{
		{"word", []string{"envoy"}, time.Time{}, time.Time{}, 0, []string{"unpublished", "kim", "pyongyang"}},
		{"stored with accent, searched without", []string{"pyongyang"}, time.Time{}, time.Time{}, 0, []string{"pyongyang"}},
		{"searched with accent and capitals", []string{"PYŎNGYANG"}, time.Time{}, time.Time{}, 0, []string{"pyongyang"}},
		{"stored with capitals", []string{"north"}, time.Time{}, time.Time{}, 0, []string{"reversed", "korea"}},
		{"accent in stored word", []string{"cafe"}, time.Time{}, time.Time{}, 0, []string{"cafe"}},
		{"phrase", []string{"north korea"}, time.Time{}, time.Time{}, 0, []string{"korea"}},
		{"phrase across a hyphen", []string{"kim jong un"}, time.Time{}, time.Time{}, 0, []string{"kim"}},
		{"hyphenated term", []string{"jong-un"}, time.Time{}, time.Time{}, 0, []string{"kim"}},
		{"whole words only", []string{"kim"}, time.Time{}, time.Time{}, 0, []string{"kimberly", "kim"}},
		{"any of the terms", []string{"missiles", "visit"}, time.Time{}, time.Time{}, 0, []string{"korea", "pyongyang"}},
		{"window", []string{"envoy", "north"}, h(1), h(4), 0, []string{"korea", "kim"}},
		{"fetch time stands in for publish time", []string{"envoy"}, h(6), h(7), 0, []string{"unpublished"}},
		{"limit", []string{"envoy", "north"}, time.Time{}, time.Time{}, 2, []string{"unpublished", "reversed"}},
		{"no terms", nil, time.Time{}, time.Time{}, 0, nil},
		{"blank terms", []string{"", "  "}, time.Time{}, time.Time{}, 0, nil},
		{"not found", []string{"zebra"}, time.Time{}, time.Time{}, 0, nil},
		// Hostile terms are words, never FTS5 syntax.
		{"quote", []string{`"`}, time.Time{}, time.Time{}, 0, nil},
		{"quotes around a word", []string{`"envoy"`}, h(6), time.Time{}, 0, []string{"unpublished"}},
		{"unbalanced quote in a phrase", []string{`north" korea`}, time.Time{}, time.Time{}, 0, []string{"korea"}},
		{"star", []string{"*"}, time.Time{}, time.Time{}, 0, nil},
		{"prefix star is not a prefix", []string{"kim*"}, time.Time{}, time.Time{}, 0, []string{"kimberly", "kim"}},
		{"NEAR( is the word near", []string{"NEAR("}, time.Time{}, time.Time{}, 0, []string{"cafe", "korea"}},
		{"NEAR group", []string{"NEAR(kim envoy)"}, time.Time{}, time.Time{}, 0, nil},
		{"OR is the word or", []string{"OR"}, time.Time{}, time.Time{}, 0, []string{"cafe"}},
		{"AND NOT are words", []string{"zebra AND NOT"}, time.Time{}, time.Time{}, 0, nil},
		{"minus", []string{"-"}, time.Time{}, time.Time{}, 0, nil},
		{"minus word", []string{"-seoul"}, time.Time{}, time.Time{}, 0, []string{"cafe", "kimberly"}},
		{"column filter", []string{"title:envoy"}, time.Time{}, time.Time{}, 0, nil},
		{"colon", []string{":"}, time.Time{}, time.Time{}, 0, nil},
		{"caret and braces", []string{"^{title}", "(", ")"}, time.Time{}, time.Time{}, 0, nil},
		{"NUL", []string{"envoy\x00north"}, time.Time{}, time.Time{}, 0, nil},
		{"hostile mixed with good", []string{`"`, "*", "missiles"}, time.Time{}, time.Time{}, 0, []string{"korea"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.SearchArticles(ctx, tt.terms, tt.from, tt.to, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids(got), append([]string{}, tt.want...)); diff != "" {
				t.Errorf("SearchArticles(%q) (-got +want):\n%s", tt.terms, diff)
			}
		})
	}

	got, err := s.SearchArticles(ctx, []string{"missiles"}, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, []digest.Article{mustFind(t, s, "korea")}); diff != "" {
		t.Errorf("SearchArticles articles (-got +want):\n%s", diff)
	}
}

// The index follows article updates: old words are no longer found, new
// ones are, and unrelated updates keep the article findable.
func testSearchAfterUpdate(t *testing.T, s *Store) {
	ctx := t.Context()
	a := publishedArticle("a1", t0, "Drought warning", "Reservoirs are low.")
	mustInsert(t, s, a, publishedArticle("a2", t0, "Reservoirs", "Other text."))
	steps := []struct {
		name   string
		change func(a *digest.Article)
		found  []string // terms that find a1
		gone   []string // terms that do not
	}{
		{"inserted", func(*digest.Article) {}, []string{"drought", "reservoirs are low"}, []string{"floods"}},
		{"text changed", func(a *digest.Article) { a.Text = "Floods after the storm." },
			[]string{"drought", "floods", "after the storm"}, []string{"reservoirs are low", "low"}},
		{"title changed", func(a *digest.Article) { a.Title = "Storm damage" },
			[]string{"storm damage", "floods"}, []string{"drought", "warning"}},
		{"other fields changed", func(a *digest.Article) { a.Outlet, a.Published = "Other Outlet", t0.Add(time.Hour) },
			[]string{"storm damage", "floods"}, []string{"drought"}},
	}
	for _, st := range steps {
		st.change(&a)
		if err := s.UpdateArticle(ctx, a); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for _, term := range st.found {
			got, err := s.SearchArticles(ctx, []string{term}, time.Time{}, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(ids(got), " "), "a1") {
				t.Errorf("%s: %q does not find a1 (found %v)", st.name, term, ids(got))
			}
		}
		for _, term := range st.gone {
			got, err := s.SearchArticles(ctx, []string{term}, time.Time{}, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.Join(ids(got), " "), "a1") {
				t.Errorf("%s: %q still finds a1", st.name, term)
			}
		}
	}
	// The other article is untouched.
	got, err := s.SearchArticles(ctx, []string{"other text"}, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(got), []string{"a2"}); diff != "" {
		t.Errorf("other article (-got +want):\n%s", diff)
	}
}

// Every article a digest.Query matches is found by searching for the
// query's terms: the full-text index and the query language agree on
// words, case and accents, in several scripts.
func testSearchAgreesWithQueries(t *testing.T, s *Store) {
	ctx := t.Context()
	texts := []string{
		"Kim Jong-un visited Pyŏngyang's new hospital.",
		"Tin tức Việt Nam: Hà Nội đón khách.",
		"İSTANBUL'da seçim; Ankara sessiz.",
		"한국 정부는 월요일 발표했다.",
		"ΑΘΗΝΑ: η κυβέρνηση ανακοίνωσε μέτρα.",
		"Москва и Киев: переговоры продолжаются; мой ответ.",
		"हिन्दी समाचार: दिल्ली में बारिश।",
		"がっこうの ニュース です。",
		"Cafe\u0301 owners in Zürich and Malmö; naïve coöperation; façade.",
		"Straße, Łódź, Ørsted and Æsir.",
		"R&D spend rose 40% to $3.2bn in Q3 (x² growth).",
	}
	for i, text := range texts {
		mustInsert(t, s, publishedArticle(fmt.Sprint("a", i), t0.Add(time.Duration(i)*time.Minute), "", text))
	}
	queries := []string{
		"pyongyang", `"kim jong un"`, "jong-un", "viet nam", `"ha noi"`, "hà", "istanbul", "İstanbul'da",
		"한국", "ΑΘΗΝΑ", "αθηνα", "κυβέρνηση", "москва", "МОЙ", "хиндх OR हिन्दी", "दिल्ली",
		"がっこうの", "ニュース", "café", "zurich", "malmo", "naive", "cooperation", "facade",
		"straße", "łódź", "ørsted", "æsir", "r d", "40", "3 2bn", "x²", "q3",
	}
	for _, qs := range queries {
		q, err := digest.ParseQuery(qs)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i, text := range texts {
			if q.Match(digest.NewQueryDoc("", text)) {
				want = append(want, fmt.Sprint("a", i))
			}
		}
		if len(want) == 0 {
			t.Errorf("query %q matches no text: fix the test", qs)
			continue
		}
		got, err := s.SearchArticles(ctx, q.Terms(), time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, a := range got {
			found[a.ID] = true
		}
		for _, id := range want {
			if !found[id] {
				t.Errorf("query %q (terms %q) matches %s, which SearchArticles does not find", qs, q.Terms(), id)
			}
		}
	}
}

func testSummaryCache(t *testing.T, s *Store) {
	ctx := t.Context()
	now := t0
	s.Now = func() time.Time { return now }
	first := digest.Summary{
		Headline: "Talks resume",
		Bullets: []digest.Bullet{
			{Text: "Envoys met in Pyŏngyang on Monday.", Citations: []int{0, 2}},
			{Text: `A spokesperson said "progress".`, Citations: []int{1}},
		},
		Dropped: 1,
	}
	second := digest.Summary{Headline: "Talks stall", Bullets: []digest.Bullet{{Text: "No meeting.", Citations: []int{}}}}

	if _, err := s.CachedSummary(ctx, "k1", 0); !errors.Is(err, digest.ErrNotFound) {
		t.Fatalf("empty cache: got %v, want %v", err, digest.ErrNotFound)
	}
	if err := s.CacheSummary(ctx, "k1", first); err != nil {
		t.Fatal(err)
	}
	if err := s.CacheSummary(ctx, "k2", digest.Summary{}); err != nil {
		t.Fatal(err)
	}
	if err := s.CacheSummary(ctx, "", first); err == nil {
		t.Error("CacheSummary with an empty key: got no error")
	}

	steps := []struct {
		name    string
		advance time.Duration
		put     *digest.Summary // stored under k1 first, if set
		maxAge  time.Duration
		want    *digest.Summary // nil: ErrNotFound
	}{
		{name: "fresh", maxAge: time.Hour, want: &first},
		{name: "no age limit", maxAge: 0, want: &first},
		{name: "exactly max age", advance: time.Hour, maxAge: time.Hour, want: &first},
		{name: "too old", advance: time.Millisecond, maxAge: time.Hour},
		{name: "too old, no age limit", maxAge: -1, want: &first},
		{name: "replaced, and fresh again", put: &second, maxAge: time.Hour, want: &second},
		{name: "replacement ages", advance: 2 * time.Hour, maxAge: time.Hour},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		if st.put != nil {
			if err := s.CacheSummary(ctx, "k1", *st.put); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.CachedSummary(ctx, "k1", st.maxAge)
		if st.want == nil {
			if !errors.Is(err, digest.ErrNotFound) {
				t.Errorf("%s: got %+v, %v; want %v", st.name, got, err, digest.ErrNotFound)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if diff := cmp.Diff(got, *st.want); diff != "" {
			t.Errorf("%s: CachedSummary (-got +want):\n%s", st.name, diff)
		}
	}
	got, err := s.CachedSummary(ctx, "k2", 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, digest.Summary{}); diff != "" {
		t.Errorf("empty summary (-got +want):\n%s", diff)
	}
}

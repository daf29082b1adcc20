package sqlstore

import (
	"database/sql"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTopicQueriesUseIndexes(t *testing.T) {
	s := openSQLite(t)
	topic := mustAddTopic(t, s, "korea", "korea")
	for i := range 50 {
		id := fmt.Sprint("a", i)
		mustInsert(t, s, publishedArticle(id, t0.Add(time.Duration(i)*time.Minute), "Korea", "text"))
		mustSetTopics(t, s, id, topic.ID)
	}
	tests := []struct {
		name   string
		query  string
		args   []any
		want   []string // plan lines that must appear
		noSort bool     // the plan must not sort
	}{
		{
			name:   "topic articles in a window",
			query:  topicArticlesQuery + ` LIMIT $4`,
			args:   []any{topic.ID, t0.UnixMilli(), t0.Add(time.Hour).UnixMilli(), 10},
			want:   []string{"SEARCH t USING COVERING INDEX article_topics_window (topic_id=? AND published>? AND published<?)"},
			noSort: true,
		},
		{
			name:  "topics of an article",
			query: `DELETE FROM article_topics WHERE article_id = $1`,
			args:  []any{"a1"},
			want:  []string{"SEARCH article_topics USING INDEX article_topics_article (article_id=?)"},
		},
		{
			name:  "articles of a topic, for the cascade",
			query: `DELETE FROM article_topics WHERE topic_id = $1`,
			args:  []any{topic.ID},
			want:  []string{"SEARCH article_topics USING "},
		},
		{
			name:  "published kept in step",
			query: `UPDATE article_topics SET published = 0 WHERE article_id = $1`,
			args:  []any{"a1"},
			want:  []string{"article_topics_article (article_id=?)"},
		},
		{
			name:  "full-text search",
			query: sqliteSearchQuery(true),
			args:  []any{`"korea"`, int64(math.MinInt64), int64(math.MaxInt64), 10},
			want: []string{
				"SCAN f VIRTUAL TABLE INDEX",
				"SEARCH i USING INTEGER PRIMARY KEY (rowid=?)",
				"SEARCH a USING INDEX sqlite_autoindex_articles_1 (id=?)",
			},
		},
		{
			name:  "search id of an article",
			query: `SELECT search_id FROM article_search_ids WHERE article_id = $1`,
			args:  []any{"a1"},
			want:  []string{"SEARCH article_search_ids USING COVERING INDEX sqlite_autoindex_article_search_ids_1 (article_id=?)"},
		},
		{
			name:  "summary",
			query: `SELECT summary, created_at FROM summaries WHERE key = $1`,
			args:  []any{"k"},
			want:  []string{"SEARCH summaries USING PRIMARY KEY (key=?)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, s, tt.query, tt.args...)
			// The full-text index is a virtual table: "SCAN f VIRTUAL
			// TABLE INDEX" is its lookup, not a table scan; "SCAN m" reads
			// the subquery's rows.
			rest := strings.NewReplacer("SCAN f VIRTUAL TABLE", "", "SCAN m", "").Replace(plan)
			if strings.Contains(rest, "SCAN ") {
				t.Errorf("plan scans a table:\n%s", plan)
			}
			if tt.noSort && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan sorts:\n%s", plan)
			}
			for _, line := range tt.want {
				if !strings.Contains(plan, line) {
					t.Errorf("plan lacks %q:\n%s", line, plan)
				}
			}
		})
	}
}

// FTS5 is compiled into the driver, with the unicode61 tokenizer and
// contentless-delete tables the schema relies on.
func TestFTS5Available(t *testing.T) {
	s := openSQLite(t)
	var on bool
	if err := s.db.QueryRowContext(t.Context(), `SELECT sqlite_compileoption_used('ENABLE_FTS5')`).Scan(&on); err != nil {
		t.Fatal(err)
	}
	if !on {
		t.Error("SQLite was compiled without FTS5")
	}
}

// Migration 2 indexes the articles stored before it.
func TestMigrationIndexesExistingArticles(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "briefbot.db")

	// A database at schema version 1, with articles.
	d, source, err := resolve(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := fs.ReadFile(d.migrations, "0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	d.migrations = fstest.MapFS{"0001_init.sql": &fstest.MapFile{Data: first}}
	db, err := sql.Open(d.driver, source)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, d); err != nil {
		t.Fatal(err)
	}
	old := &Store{Now: time.Now, db: db, dialect: d}
	mustInsert(t, old,
		publishedArticle("a1", t0, "Pyŏngyang talks", "Envoys met."),
		publishedArticle("a2", t0.Add(time.Hour), "Weather", "Rain in Pyongyang."),
	)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.SearchArticles(ctx, []string{"pyongyang"}, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(got), []string{"a2", "a1"}); diff != "" {
		t.Errorf("search after migration (-got +want):\n%s", diff)
	}
	// New articles join them.
	mustInsert(t, s, publishedArticle("a3", t0.Add(2*time.Hour), "Envoys return", ""))
	got, err = s.SearchArticles(ctx, []string{"envoys"}, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(got), []string{"a3", "a1"}); diff != "" {
		t.Errorf("search after insert (-got +want):\n%s", diff)
	}
}

// Deleting an article (nothing in briefbot does yet) removes it from the
// index and from its topics.
func TestDeleteArticle(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	topic := mustAddTopic(t, s, "korea", "korea")
	mustInsert(t, s,
		publishedArticle("a1", t0, "Korea", "Talks."),
		publishedArticle("a2", t0, "Korea", "More talks."),
	)
	mustSetTopics(t, s, "a1", topic.ID)
	mustSetTopics(t, s, "a2", topic.ID)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM articles WHERE id = 'a1'`); err != nil {
		t.Fatal(err)
	}
	got, err := s.SearchArticles(ctx, []string{"korea"}, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(got), []string{"a2"}); diff != "" {
		t.Errorf("search after delete (-got +want):\n%s", diff)
	}
	got, err = s.TopicArticles(ctx, topic.ID, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(got), []string{"a2"}); diff != "" {
		t.Errorf("topic articles after delete (-got +want):\n%s", diff)
	}
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM article_search_ids`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("article_search_ids has %d rows, want 1", rows)
	}
	// The index holds no words of the deleted article.
	var words int
	if _, err := s.db.ExecContext(ctx, `CREATE VIRTUAL TABLE temp.search_words USING fts5vocab(main, article_search, 'row')`); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM temp.search_words WHERE term = 'talks' AND doc > 1`).Scan(&words); err != nil {
		t.Fatal(err)
	}
	if words != 0 {
		t.Error("the index still counts the deleted article's words")
	}
}

// The index survives VACUUM, which may renumber the implicit rowids of
// articles.
func TestSearchAfterVacuum(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	for i := range 20 {
		mustInsert(t, s, publishedArticle(fmt.Sprintf("a%02d", i), t0.Add(time.Duration(i)*time.Minute), fmt.Sprint("word", i), ""))
	}
	// Delete every other article, so that VACUUM has rowids to close up.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM articles WHERE CAST(substr(id, 2) AS INTEGER) % 2 = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 20; i += 2 {
		got, err := s.SearchArticles(ctx, []string{fmt.Sprint("word", i)}, time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ids(got), []string{fmt.Sprintf("a%02d", i)}); diff != "" {
			t.Errorf("word%d after VACUUM (-got +want):\n%s", i, diff)
		}
	}
}

func TestMatchExpression(t *testing.T) {
	tests := []struct {
		terms []string
		want  string
	}{
		{nil, ""},
		{[]string{"", " "}, ""},
		{[]string{"kim"}, `"kim"`},
		{[]string{"north korea", "pyongyang"}, `"north korea" OR "pyongyang"`},
		{[]string{`say "hi"`}, `"say ""hi"""`},
		{[]string{`"`}, `""""`},
		{[]string{"a\x00b"}, `"a b"`},
		{[]string{"NEAR(a b)", "x*", "col:y", "-z", "^w"}, `"NEAR(a b)" OR "x*" OR "col:y" OR "-z" OR "^w"`},
	}
	for _, tt := range tests {
		if got := matchExpression(tt.terms); got != tt.want {
			t.Errorf("matchExpression(%q): got %s, want %s", tt.terms, got, tt.want)
		}
	}
}

func BenchmarkSearchArticles(b *testing.B) {
	const stored = 20000
	s := openBench(b)
	ctx := b.Context()
	texts := benchTexts(4, stored)
	start := time.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, text := range texts {
			a := benchArticle(i, nil)
			a.Published = a.Fetched
			words := strings.Fields(text)
			a.Title, a.Text = strings.Join(words[:8], " "), text
			if err := insertArticle(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("stored and indexed %d articles of 150 words in %v", stored, time.Since(start).Round(time.Millisecond))

	// Stored i seconds after t0: the last hour is the newest 3,600.
	lastHour := t0.Add((stored - 3600) * time.Second)
	for _, bm := range []struct {
		name  string
		terms []string
		from  time.Time
		limit int
	}{
		{"rare word", []string{"w4321"}, time.Time{}, 0},
		{"three words", []string{"w17", "w2500", "w4999"}, time.Time{}, 0},
		{"phrase", []string{"w1 w2"}, time.Time{}, 0},
		{"frequent word, newest 50", []string{"w0"}, time.Time{}, 50},
		{"three words, last hour, newest 50", []string{"w17", "w2500", "w4999"}, lastHour, 50},
		{"absent word", []string{"zebra"}, time.Time{}, 0},
	} {
		b.Run(bm.name, func(b *testing.B) {
			found, n := 0, 0
			for b.Loop() {
				got, err := s.SearchArticles(ctx, bm.terms, bm.from, time.Time{}, bm.limit)
				if err != nil {
					b.Fatal(err)
				}
				found += len(got)
				n++
			}
			b.ReportMetric(float64(found)/float64(n), "articles/op")
		})
	}
}

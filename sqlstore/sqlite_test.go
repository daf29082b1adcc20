package sqlstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/briefbot/briefbot/digest"
)

// migrationCount is how many migrations of dialect d this build knows.
func migrationCount(t *testing.T, d dialect) int {
	t.Helper()
	ms, err := loadMigrations(d.migrations)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// checkVersions checks that schema_migrations of s lists each migration of
// dialect d once.
func checkVersions(t *testing.T, s *Store, d dialect) {
	t.Helper()
	var versions []int
	rows, err := s.db.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []int
	for v := range migrationCount(t, d) {
		want = append(want, v+1)
	}
	if diff := cmp.Diff(versions, want); diff != "" {
		t.Errorf("schema_migrations versions (-got +want):\n%s", diff)
	}
}

func TestOpenTwiceIsNoOp(t *testing.T) {
	testOpenTwice(t, sqliteDialect(), filepath.Join(t.TempDir(), "briefbot.db"))
}

// testOpenTwice opens the database dsn (of dialect d, with no source bbc),
// adds a source, and reopens it twice at once.
func testOpenTwice(t *testing.T, d dialect, dsn string) {
	ctx := t.Context()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSource(ctx, newSource("bbc")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen, twice at once, as two replicas starting together would.
	var wg sync.WaitGroup
	stores := make([]*Store, 2)
	errs := make([]error, 2)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	s = stores[0]
	if _, err := s.Source(ctx, "bbc"); err != nil {
		t.Errorf("Source after reopen: %v", err)
	}
	checkVersions(t, s, d)
}

func TestOpenNewerSchema(t *testing.T) {
	testOpenNewerSchema(t, filepath.Join(t.TempDir(), "briefbot.db"))
}

// testOpenNewerSchema checks that Open refuses the database dsn once it
// records a migration this build does not know.
func testOpenNewerSchema(t *testing.T, dsn string) {
	ctx := t.Context()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema: got no error")
	}
	if !strings.Contains(err.Error(), "999") {
		t.Errorf("Open of a newer schema: error %q does not name the version", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		dsn      string
		mention  string // the error must contain it
		mustHide string // the error must not contain it, if set
	}{
		{name: "empty", dsn: "", mention: "sqlstore: "},
		{name: "missing directory", dsn: filepath.Join(dir, "missing", "briefbot.db"), mention: filepath.Join(dir, "missing")},
		{name: "parent is a file", dsn: filepath.Join(file, "briefbot.db"), mention: file},
		{name: "query in path", dsn: filepath.Join(dir, "b.db?mode=ro"), mention: "b.db?mode=ro"},
		{name: "another database's URL", dsn: "mysql://bot:hunter2@db.example/briefbot", mention: "sqlstore: open mysql://…: not a SQLite file path or a postgres:// URL", mustHide: "hunter2"},
		{name: "keyword/value string", dsn: "host=db.example user=bot password=hunter2 dbname=briefbot", mention: "keyword/value string (host=… user=…) is not supported: write it as a postgres:// URL", mustHide: "hunter2"},
		{
			// pgx takes the '#' into the password where net/url cannot
			// parse the URL; nothing listens on port 1.
			name: "postgres with a '#' in the password", dsn: "postgres://bot:hun#ter2@127.0.0.1:1/briefbot?connect_timeout=5",
			mention: `sqlstore: open "postgres://bot@127.0.0.1:1/briefbot"`, mustHide: "ter2",
		},
		{
			// Nothing listens on port 1.
			name: "postgres server not there", dsn: "postgres://bot:hunter2@127.0.0.1:1/briefbot?connect_timeout=5",
			mention: `sqlstore: open "postgres://bot:xxxxx@127.0.0.1:1/briefbot`, mustHide: "hunter2",
		},
		{
			name: "postgresql with a bad port", dsn: "postgresql://bot:hunter2@db.example:port/briefbot",
			mention: "sqlstore: open PostgreSQL: ", mustHide: "hunter2",
		},
		{
			name: "postgres with a bad escape in the password", dsn: "postgres://bot:hun%ter2@db.example/briefbot",
			mention: "sqlstore: open PostgreSQL: ", mustHide: "ter2",
		},
		{
			name: "postgres with a bad parameter", dsn: "postgres://bot:hunter2@db.example/briefbot?sslmode=sometimes",
			mention: "sqlstore: open PostgreSQL: cannot parse `postgres://bot:xxxxx@db.example/briefbot?sslmode=sometimes`", mustHide: "hunter2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q): got no error", tt.dsn)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("Open(%q): error %q does not mention %q", tt.dsn, err, tt.mention)
			}
			if tt.mustHide != "" && strings.Contains(err.Error(), tt.mustHide) {
				t.Errorf("Open(%q): error %q shows %q", tt.dsn, err, tt.mustHide)
			}
		})
	}
}

func TestOpenMemory(t *testing.T) {
	s, err := Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Dialect(); got != "sqlite" {
		t.Errorf("Dialect: got %q, want sqlite", got)
	}
	if got := s.DSN(); got != ":memory:" {
		t.Errorf("DSN: got %q, want :memory:", got)
	}
	// Every call must see the same database.
	for _, name := range []string{"bbc", "npr"} {
		if _, err := s.AddSource(t.Context(), newSource(name)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Sources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("Sources: got %d, want 2", len(got))
	}
}

func TestSQLitePragmas(t *testing.T) {
	s := openSQLite(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"synchronous", "1"}, // NORMAL
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s: got %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
}

// queryPlan returns the lines of SQLite's plan for query.
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

func TestQueriesUseIndexes(t *testing.T) {
	s := openSQLite(t)
	// Some rows, so the plans are not those of empty tables.
	for i := range 50 {
		a := newArticle(fmt.Sprint("a", i), 0, t0.Add(time.Duration(i)*time.Minute))
		a.Signature = digest.Sign(fmt.Sprintf("article %d: %s", i, storyText))
		mustInsert(t, s, a)
	}
	nearArgs := []any{}
	for _, k := range digest.Sign(storyText).BandKeys() {
		nearArgs = append(nearArgs, k)
	}
	nearArgs = append(nearArgs, t0.UnixMilli(), 10)
	tests := []struct {
		name  string
		query string
		args  []any
		want  []string // plan lines that must appear
	}{
		{
			name:  "near-duplicate candidates",
			query: nearDuplicateQuery + fmt.Sprintf(" LIMIT $%d", digest.SignatureBands+2),
			args:  nearArgs,
			want: []string{
				"SEARCH article_bands USING PRIMARY KEY (key=? AND fetched>?)",
				"SEARCH a USING INDEX sqlite_autoindex_articles_1 (id=?)",
			},
		},
		{
			name:  "band keys of an article",
			query: `DELETE FROM article_bands WHERE article_id = $1`,
			args:  []any{"a1"},
			want:  []string{"SEARCH article_bands USING COVERING INDEX article_bands_article (article_id=?)"},
		},
		{
			name:  "find by url",
			query: `SELECT id FROM articles WHERE url = $1 AND url <> ''`,
			args:  []any{"https://x.example/"},
			want:  []string{"INDEX articles_url "},
		},
		{
			name:  "find by guid",
			query: `SELECT id FROM articles WHERE source_id = $1 AND guid = $2`,
			args:  []any{1, "g"},
			want:  []string{"INDEX articles_source_guid "},
		},
		{
			name:  "find by content hash",
			query: `SELECT id FROM articles WHERE content_hash = $1 AND content_hash <> ''`,
			args:  []any{"h"},
			want:  []string{"INDEX articles_content_hash "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, s, tt.query, tt.args...)
			// "SCAN m" reads the grouped subquery's few rows, not a table.
			if strings.Contains(strings.ReplaceAll(plan, "SCAN m\n", ""), "SCAN ") {
				t.Errorf("plan scans a table:\n%s", plan)
			}
			for _, line := range tt.want {
				if !strings.Contains(plan, line) {
					t.Errorf("plan lacks %q:\n%s", line, plan)
				}
			}
		})
	}
}

// storedBands returns the article_bands rows of article id, as key and
// fetched time, ordered by key.
func storedBands(t *testing.T, s *Store, id string) [][2]int64 {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(),
		`SELECT key, fetched FROM article_bands WHERE article_id = $1 ORDER BY key`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var r [2]int64
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantBands returns the article_bands rows of an article with signature sig
// fetched at fetched.
func wantBands(sig digest.Signature, fetched time.Time) [][2]int64 {
	var out [][2]int64
	for _, k := range sig.BandKeys() {
		out = append(out, [2]int64{k, fetched.UnixMilli()})
	}
	return out
}

// A signature is stored as 256 little-endian bytes, with one band row per
// band key carrying the article's fetch time, through inserts and updates.
func TestSignatureStored(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	sig := extremeSignature()
	sig[0], sig[1] = 0x01020304, 0xfffffffe
	a := newArticle("a1", 0, t0)
	a.Signature = sig
	mustInsert(t, s, a, newArticle("unsigned", 0, t0))

	var blob []byte
	if err := s.db.QueryRowContext(ctx, `SELECT signature FROM articles WHERE id = 'a1'`).Scan(&blob); err != nil {
		t.Fatal(err)
	}
	if len(blob) != 256 {
		t.Fatalf("stored signature: %d bytes, want 256", len(blob))
	}
	if diff := cmp.Diff(blob[:12], []byte{4, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0}); diff != "" {
		t.Errorf("stored signature bytes (-got +want):\n%s", diff)
	}
	var null bool
	if err := s.db.QueryRowContext(ctx, `SELECT signature IS NULL FROM articles WHERE id = 'unsigned'`).Scan(&null); err != nil {
		t.Fatal(err)
	}
	if !null {
		t.Error("article without a signature: stored signature is not NULL")
	}
	if got := storedBands(t, s, "unsigned"); len(got) != 0 {
		t.Errorf("article without a signature has %d band rows", len(got))
	}

	steps := []struct {
		name        string
		sig         digest.Signature
		fetched     time.Time // given to UpdateArticle
		wantFetched time.Time
	}{
		{"inserted", nil, time.Time{}, t0},
		{"new signature, fetch time kept", digest.Sign(storyText), time.Time{}, t0},
		{"new fetch time", digest.Sign(storyText), t0.Add(time.Hour), t0.Add(time.Hour)},
		{"signature removed", nil, time.Time{}, t0.Add(time.Hour)},
		{"signature back", sig, time.Time{}, t0.Add(time.Hour)},
	}
	for _, st := range steps {
		if st.name != "inserted" {
			a.Signature, a.Fetched = st.sig, st.fetched
			if err := s.UpdateArticle(ctx, a); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		got, err := s.FindArticle(ctx, digest.ArticleKeys{URL: a.URL})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got.Signature, a.Signature); diff != "" {
			t.Errorf("%s: signature (-got +want):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(storedBands(t, s, "a1"), wantBands(a.Signature, st.wantFetched)); diff != "" {
			t.Errorf("%s: band rows (-got +want):\n%s", st.name, diff)
		}
	}
}

// A stored signature of the wrong size is an error naming the article, not
// a silently wrong signature. The schema's CHECK keeps such blobs out, so
// the test turns it off to plant one.
func TestCorruptSignature(t *testing.T) {
	ctx := t.Context()
	s := openSQLite(t)
	mustInsert(t, s, newArticle("bad", 0, t0))
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA ignore_check_constraints = ON`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE articles SET signature = x'0102030405' WHERE id = 'bad'`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA ignore_check_constraints = OFF`); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindArticle(ctx, digest.ArticleKeys{URL: "https://news.example/bad"})
	if err == nil || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("FindArticle of a corrupt signature: got %v, want an error naming the article and the size", err)
	}
	if _, err := s.Articles(ctx, digest.ArticleFilter{}); err == nil {
		t.Error("Articles with a corrupt signature: got no error")
	}
}

// The schema refuses signature blobs of the wrong size.
func TestSignatureCheck(t *testing.T) {
	s := openSQLite(t)
	mustInsert(t, s, newArticle("a1", 0, t0))
	if _, err := s.db.ExecContext(t.Context(), `UPDATE articles SET signature = x'00' WHERE id = 'a1'`); err == nil {
		t.Error("storing a 1-byte signature: got no error")
	}
}

// TestSQLiteManyWriters: 64 goroutines storing articles and their topics
// at once, as 32 sources polled at once do, all succeed: writers queue in
// the connection pool (at most sqliteMaxConns) instead of racing in
// SQLite's busy handler.
func TestSQLiteManyWriters(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.db.Stats().MaxOpenConnections; got != sqliteMaxConns {
		t.Errorf("MaxOpenConnections = %d, want %d", got, sqliteMaxConns)
	}
	src := mustAddSource(t, s, "wire")
	var wg sync.WaitGroup
	errs := make(chan error, 64*10)
	for g := range 64 {
		wg.Go(func() {
			for i := range 10 {
				a := newArticle(fmt.Sprintf("g%d-%d", g, i), src.ID, time.Date(2026, 3, 1, 0, 0, g*10+i, 0, time.UTC))
				if err := s.InsertArticle(t.Context(), a); err != nil {
					errs <- err
					continue
				}
				if _, err := s.SourceByID(t.Context(), src.ID); err != nil {
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
}

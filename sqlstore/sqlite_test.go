package sqlstore

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/briefbot/briefbot/digest"
)

// migrationCount is how many migrations this build knows.
func migrationCount(t *testing.T) int {
	t.Helper()
	ms, err := loadMigrations(sqliteDialect().migrations)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func TestOpenTwiceIsNoOp(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "briefbot.db")
	s, err := Open(ctx, path)
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
		wg.Go(func() { stores[i], errs[i] = Open(ctx, path) })
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
	var versions []int
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
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
	var want []int
	for v := range migrationCount(t) {
		want = append(want, v+1)
	}
	if diff := cmp.Diff(versions, want); diff != "" {
		t.Errorf("schema_migrations versions (-got +want):\n%s", diff)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "briefbot.db")
	s, err := Open(ctx, path)
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
	s, err = Open(ctx, path)
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
		{
			name: "postgres", dsn: "postgres://bot:hunter2@db.example/briefbot",
			mention: "sqlstore: PostgreSQL is not supported yet: postgres://bot:", mustHide: "hunter2",
		},
		{name: "postgresql", dsn: "postgresql://db.example/briefbot", mention: "PostgreSQL is not supported yet"},
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
	tests := []struct {
		name  string
		query string
		args  []any
		want  []string // indexes the plan must use
	}{
		{
			name:  "near-duplicate candidates",
			query: nearDuplicateQuery + " LIMIT $6",
			args:  []any{1, 2, 3, 4, 0, 10},
			want:  []string{"articles_fp_b0", "articles_fp_b1", "articles_fp_b2", "articles_fp_b3"},
		},
		{
			name:  "find by url",
			query: `SELECT id FROM articles WHERE url = $1 AND url <> ''`,
			args:  []any{"https://x.example/"},
			want:  []string{"articles_url"},
		},
		{
			name:  "find by guid",
			query: `SELECT id FROM articles WHERE source_id = $1 AND guid = $2`,
			args:  []any{1, "g"},
			want:  []string{"articles_source_guid"},
		},
		{
			name:  "find by content hash",
			query: `SELECT id FROM articles WHERE content_hash = $1 AND content_hash <> ''`,
			args:  []any{"h"},
			want:  []string{"articles_content_hash"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, s, tt.query, tt.args...)
			if strings.Contains(plan, "SCAN articles") {
				t.Errorf("plan scans the table:\n%s", plan)
			}
			for _, index := range tt.want {
				if !strings.Contains(plan, "INDEX "+index+" ") {
					t.Errorf("plan does not use %s:\n%s", index, plan)
				}
			}
		})
	}
}

// Storing uint64 fingerprints as int64 must keep every bit, high bit
// included, and bands must match digest.FingerprintBands.
func TestFingerprintBandsStored(t *testing.T) {
	s := openSQLite(t)
	const fp = 0x8000_0000_0000_fffe
	a := newArticle("a1", 0, t0)
	a.Fingerprint = fp
	mustInsert(t, s, a)
	var got [4]int64
	var stored int64
	if err := s.db.QueryRowContext(t.Context(),
		`SELECT fingerprint, fp_b0, fp_b1, fp_b2, fp_b3 FROM articles WHERE id = 'a1'`,
	).Scan(&stored, &got[0], &got[1], &got[2], &got[3]); err != nil {
		t.Fatal(err)
	}
	var want [4]int64
	for i, b := range digest.FingerprintBands(fp) {
		want[i] = int64(b)
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("bands (-got +want):\n%s", diff)
	}
	if uint64(stored) != fp {
		t.Errorf("fingerprint: got %#x, want %#x", uint64(stored), uint64(fp))
	}
}

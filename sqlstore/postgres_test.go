package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/briefbot/briefbot/digest"
)

// testDatabaseURL names the environment variable with the PostgreSQL
// database the PostgreSQL tests use, as a URL.
const testDatabaseURL = "BRIEFBOT_TEST_DATABASE_URL"

// postgresDSN returns the URL of an empty schema of its own for t, in the
// database named by BRIEFBOT_TEST_DATABASE_URL: its search_path is a new
// schema, dropped with everything in it when t ends. It skips t when the
// variable is not set.
func postgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(testDatabaseURL)
	if base == "" {
		t.Skip(testDatabaseURL + " is not set: set it to a PostgreSQL URL, e.g. " +
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run the PostgreSQL tests")
	}
	u, err := url.Parse(base)
	if err != nil || !isPostgres(base) {
		t.Fatalf("%s is not a postgres:// URL", testDatabaseURL)
	}
	ctx := context.Background() // t.Context is done before cleanups run
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	// The unaccent extension goes in public, once, under the migrations'
	// lock: created by a migration, it would land in the first test's
	// schema and go when that schema is dropped.
	tx, err := beginMigration(ctx, db, postgresDialect())
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	_, err = tx.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public`)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		tx.Rollback()
		db.Close()
		t.Fatalf("create the unaccent extension: %v", err)
	}
	schema := "t_" + randomHex(t, 8)
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// randomHex returns n random bytes in hex.
func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// openPostgres returns a Store on an empty schema of its own (see
// postgresDSN), closed when t ends.
func openPostgres(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), postgresDSN(t))
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

func TestPostgres(t *testing.T) {
	postgresDSN(t) // skip early, and check the database is reachable
	testStore(t, openPostgres)
}

func TestPostgresOpen(t *testing.T) {
	ctx := t.Context()
	dsn := postgresDSN(t)
	tests := []struct {
		name string
		run  func(t *testing.T, dsn string)
	}{
		{"concurrent opens of a new schema", func(t *testing.T, dsn string) { testConcurrentOpen(t, postgresDialect(), dsn) }},
		{"reopen is a no-op", func(t *testing.T, dsn string) { testOpenTwice(t, postgresDialect(), dsn) }},
		{"newer schema", testOpenNewerSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, postgresDSN(t)) })
	}

	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Dialect(); got != "postgres" {
		t.Errorf("Dialect: got %q, want postgres", got)
	}
	if got := s.DSN(); got != dsn {
		t.Errorf("DSN: got %q, want %q", got, dsn)
	}
	db, _, err := s.JobsDB(ctx)
	if err == nil {
		db.Close()
		t.Error("JobsDB on PostgreSQL: got a pool, want an error")
	} else if !strings.HasPrefix(err.Error(), "sqlstore: ") || !strings.Contains(err.Error(), "own") {
		t.Errorf("JobsDB on PostgreSQL: error %q does not say the queue has a pool of its own", err)
	}
}

// The postgresql:// spelling opens PostgreSQL too.
func TestPostgresqlScheme(t *testing.T) {
	dsn := postgresDSN(t)
	s, err := Open(t.Context(), "postgresql://"+strings.TrimPrefix(dsn, "postgres://"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AddSource(t.Context(), newSource("bbc")); err != nil {
		t.Fatal(err)
	}
}

// The schema refuses what the SQLite schema refuses.
func TestPostgresChecks(t *testing.T) {
	s := openPostgres(t)
	ctx := t.Context()
	mustInsert(t, s, newArticle("a1", 0, t0))
	tests := []struct {
		name  string
		query string
		args  []any
	}{
		{"1-byte signature", `UPDATE articles SET signature = '\x00'::bytea WHERE id = 'a1'`, nil},
		{"empty article id", `INSERT INTO articles (id, fetched) VALUES ('', 0)`, nil},
		{"boolean out of range", `INSERT INTO sources (name, url, created_at, disabled) VALUES ('n', 'u', 0, 2)`, nil},
		{"unknown delivery state", `INSERT INTO deliveries (key, channel_id, parts, state, created_at, updated_at)
			VALUES ('k', 'c1', 1, 'lost', 0, 0)`, nil},
	}
	for _, ids := range []string{"", "{}", `"m0"`, "[", "null"} {
		tests = append(tests, struct {
			name  string
			query string
			args  []any
		}{"message_ids " + ids, `INSERT INTO deliveries (key, channel_id, parts, message_ids, state, created_at, updated_at)
			VALUES ('k', 'c1', 1, $1, 'pending', 0, 0)`, []any{ids}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.db.ExecContext(ctx, tt.query, tt.args...); err == nil {
				t.Errorf("%s: stored", tt.query)
			}
		})
	}
}

// A delivery's payload comes back byte for byte, NUL and invalid UTF-8
// included.
func TestPostgresDeliveryPayload(t *testing.T) {
	s := openPostgres(t)
	payload := []byte("[{\"content\":\"part 1\"}]\x00\xff")
	if _, _, err := s.StartDelivery(t.Context(), digest.Delivery{Key: "k1", ChannelID: "c1", Parts: 1, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Delivery(t.Context(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Payload) != string(payload) {
		t.Errorf("payload: got %q, want %q", got.Payload, payload)
	}
}

// A search for a rare word uses the GIN index, not the window's.
func TestPostgresSearchUsesIndex(t *testing.T) {
	s := openPostgres(t)
	ctx := t.Context()
	for range 200 {
		mustInsert(t, s, publishedArticle(randomHex(t, 4), t0, "Title", "Common words only."))
	}
	mustInsert(t, s, publishedArticle("rare", t0, "Zanzibar", "A rare word."))
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// VACUUM moves the GIN index's pending entries into the index, as
	// autovacuum does, and ANALYZE gives the planner its statistics. The
	// table is small enough to read whole: that is ruled out, to see which
	// index the planner picks.
	for _, q := range []string{`VACUUM ANALYZE articles`, `SET enable_seqscan = off`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := conn.QueryContext(ctx, `EXPLAIN `+postgresSearchQuery(true),
		[]string{"zanzibar"}, int64(-1<<63), int64(1<<63-1), 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "articles_search") {
		t.Errorf("plan does not use articles_search:\n%s", strings.Join(plan, "\n"))
	}
}

// testConcurrentOpen opens a new database (dsn, of dialect d) from several
// pools at once, as replicas starting together would, and checks each
// migration was applied once. (Not for a new SQLite file: setting WAL mode
// on it from several connections at once can fail with SQLITE_BUSY.)
func testConcurrentOpen(t *testing.T, d dialect, dsn string) {
	const opens = 4
	var wg sync.WaitGroup
	stores := make([]*Store, opens)
	errs := make([]error, opens)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	checkVersions(t, stores[0], d)
	if _, err := stores[1].AddSource(t.Context(), newSource("bbc")); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[2].Source(t.Context(), "bbc"); err != nil {
		t.Errorf("Source through another pool: %v", err)
	}
}

// Package sqlstore stores briefbot's sources, articles, topics, summaries,
// subscriptions and deliveries in SQL, and implements digest.Store,
// digest.TopicStore, digest.SummaryCache and digest.SubscriptionStore.
//
// It speaks two dialects with one schema and one behaviour: SQLite (the
// pure-Go modernc.org/sqlite driver, in WAL mode), the embedded default,
// and PostgreSQL (pgx through database/sql), which several replicas can
// share. Open picks the dialect from its argument and applies the embedded
// schema migrations of that dialect before returning.
//
// Times are stored as UTC Unix milliseconds: they come back in UTC, at
// millisecond precision, and the zero time.Time comes back as zero.
// Booleans are stored as the integers 0 and 1.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/briefbot/briefbot/digest"
)

var _ digest.Store = (*Store)(nil)

// Store is a digest.Store backed by a SQL database. It is safe for
// concurrent use. Create it with Open and release it with Close.
type Store struct {
	// Now returns the current time. It stamps sources added without a
	// CreatedAt and articles inserted without a Fetched time. Open sets it
	// to time.Now; tests may replace it before the Store is first used.
	Now func() time.Time

	db      *sql.DB
	dialect dialect
	dsn     string
}

// Open opens the database named by dsn, brings its schema up to date and
// returns a Store on it.
//
// A dsn is the path of a SQLite database file, created if it does not exist
// (its directory must exist), ":memory:" for a private in-memory database,
// or a PostgreSQL URL, postgres://... or postgresql://..., in any form pgx
// accepts (with parameters such as sslmode, or search_path to keep the
// tables in a schema of their own). PostgreSQL must be version 14 or later,
// and its database should have a UTF-8 locale (LC_CTYPE), by which search
// folds the case of letters beyond ASCII. The first Open on a PostgreSQL
// database creates the unaccent extension if it lacks it, which takes a
// user allowed to (its owner, say). Errors show a PostgreSQL URL without
// its password.
//
// Open fails if the database has a newer schema than this build knows.
func Open(ctx context.Context, dsn string) (*Store, error) {
	d, source, err := resolve(dsn)
	if err != nil {
		return nil, err
	}
	shown := shownDSN(dsn)
	db, err := sql.Open(d.driver, source)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %q: %w", shown, err)
	}
	if d.configure != nil {
		d.configure(db, dsn)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open %q: %w", shown, err)
	}
	if err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open %q: %w", shown, err)
	}
	return &Store{Now: time.Now, db: db, dialect: d, dsn: dsn}, nil
}

// Dialect names the database the Store speaks: "sqlite" or "postgres".
func (s *Store) Dialect() string {
	return s.dialect.name
}

// DSN returns the dsn the Store was opened with, as given to Open. A
// PostgreSQL URL may carry a password: do not show it.
func (s *Store) DSN() string {
	return s.dsn
}

// JobsDB returns a second connection pool on the same SQLite database for
// the job queue, with one connection: River's SQLite driver serializes its
// own work that way, and its polling then never holds more than one of the
// store's write slots. The caller closes it. An in-memory database has
// only its one pool, which is returned (do not close it then). On
// PostgreSQL it is an error: the job queue opens a pgx pool of its own, on
// DSN.
func (s *Store) JobsDB(ctx context.Context) (db *sql.DB, shared bool, err error) {
	if s.dialect.name == "postgres" {
		return nil, false, errors.New("sqlstore: open jobs pool: the job queue on PostgreSQL uses a pool of its own, opened on Store.DSN")
	}
	if s.dsn == ":memory:" {
		return s.db, true, nil
	}
	_, source, err := resolve(s.dsn)
	if err != nil {
		return nil, false, err
	}
	db, err = sql.Open(s.dialect.driver, source)
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: open jobs pool: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, false, fmt.Errorf("sqlstore: open jobs pool: %w", err)
	}
	return db, false, nil
}

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// Close closes the database. Calls in flight finish first.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlstore: close: %w", err)
	}
	return nil
}

// violation classifies a constraint error reported by the database.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// millis converts t to the stored form: UTC Unix milliseconds, or NULL for
// the zero time.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMillis converts a stored time back; NULL becomes the zero time.
func fromMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64).UTC()
}

// normalTime returns t as it comes back from the database.
func normalTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// flag returns the stored form of a boolean: 1 for true, 0 for false.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nullID stores an ID of 0 (none) as NULL.
func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}

// errNoRows reports whether err says a query found nothing.
func errNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows)
}

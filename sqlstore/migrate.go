package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A migration is one numbered schema change, NNNN_name.sql.
type migration struct {
	version int
	name    string // file name
	sql     string
}

// loadMigrations reads the *.sql files of fsys. Their names start with a
// version number, and the versions must run 1, 2, 3... without gaps, so a
// missing or doubled file is caught before anything is applied.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		prefix, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || version < 1 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: version, name: name, sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %q: want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies the dialect's migrations that db has not seen yet, in
// order, each in its own transaction, and records them in
// schema_migrations. It is a no-op on an up-to-date database, and refuses a
// database whose schema is newer than the migrations it knows. Concurrent
// calls on one database, from one process or several, apply each
// migration once.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	ms, err := loadMigrations(d.migrations)
	if err != nil {
		return fmt.Errorf("%s migrations: %w", d.name, err)
	}
	if err := createMigrationsTable(ctx, db, d); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	current, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if latest := len(ms); current > latest {
		return fmt.Errorf("database schema version %d is newer than this build's %d: upgrade briefbot", current, latest)
	}
	for _, m := range ms[current:] {
		if err := apply(ctx, db, d, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// createMigrationsTable creates schema_migrations if it does not exist,
// under the dialect's migration lock: PostgreSQL's CREATE TABLE IF NOT
// EXISTS fails, rather than waits, when another session creates the table
// at the same time.
func createMigrationsTable(ctx context.Context, db *sql.DB, d dialect) error {
	tx, err := beginMigration(ctx, db, d)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return err
	}
	return tx.Commit()
}

// beginMigration begins a transaction on conn (a *sql.DB or *sql.Conn) and
// takes the dialect's migration lock in it, if it has one.
func beginMigration(ctx context.Context, conn interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}, d dialect) (*sql.Tx, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.migrationLock); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("take the migration lock: %w", err)
		}
	}
	return tx, nil
}

// schemaVersion returns the highest migration version applied to db, 0 for
// a new database.
func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// foreignKeysOff, as a migration's first line, runs it with foreign key
// enforcement off (SQLite's way to rebuild a table that others reference);
// the foreign keys are checked before it commits. Only dialects with
// foreignKeysOff set accept it.
const foreignKeysOff = "-- briefbot: foreign_keys off"

// apply runs one migration in a transaction, unless another process applied
// it since the version was read.
func apply(ctx context.Context, db *sql.DB, d dialect, m migration) error {
	fkOff := strings.HasPrefix(m.sql, foreignKeysOff)
	if fkOff && !d.foreignKeysOff {
		return fmt.Errorf("%q is for SQLite migrations only", foreignKeysOff)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if fkOff {
		// The pragma is a no-op inside a transaction: set it first, on
		// the connection the transaction will use.
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	}
	tx, err := beginMigration(ctx, conn, d)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var done bool
	if err := tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version,
	).Scan(&done); err != nil {
		return err
	}
	if done {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if fkOff {
		rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			return err
		}
		bad := rows.Next()
		rows.Close()
		if bad {
			return errors.New("foreign key check failed after the migration")
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, path.Base(m.name), time.Now().UnixMilli(),
	); err != nil {
		return err
	}
	return tx.Commit()
}

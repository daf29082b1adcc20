package sqlstore

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between the databases sqlstore speaks. Queries
// are written once, in the subset both SQLite and PostgreSQL accept
// (numbered $N parameters, RETURNING, partial indexes); the rest lives here.
// Adding PostgreSQL means a postgres dialect, migrations/postgres/*.sql and a
// case in resolve.
type dialect struct {
	// name names the database in messages.
	name string
	// driver is the database/sql driver name.
	driver string
	// migrations holds the numbered schema migrations, NNNN_name.sql.
	migrations fs.FS
	// configure tunes the connection pool, if set.
	configure func(db *sql.DB, dsn string)
	// classify tells which constraint, if any, an error reports.
	classify func(err error) violation
}

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// resolve picks the dialect for dsn and returns the driver's data source
// name.
func resolve(dsn string) (dialect, string, error) {
	switch {
	case dsn == "":
		return dialect{}, "", errors.New("sqlstore: open: empty database name")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		shown := "(unparsable URL)"
		if u, err := url.Parse(dsn); err == nil {
			shown = u.Redacted()
		}
		return dialect{}, "", fmt.Errorf("sqlstore: PostgreSQL is not supported yet: %s", shown)
	default:
		source, err := sqliteSource(dsn)
		if err != nil {
			return dialect{}, "", err
		}
		return sqliteDialect(), source, nil
	}
}

// sqliteDialect returns the dialect of modernc.org/sqlite.
func sqliteDialect() dialect {
	migrations, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		panic(err) // the embedded path is a constant
	}
	return dialect{
		name:       "sqlite",
		driver:     "sqlite",
		migrations: migrations,
		configure: func(db *sql.DB, dsn string) {
			if dsn == ":memory:" {
				// Each connection would get its own empty database.
				db.SetMaxOpenConns(1)
			}
		},
		classify: func(err error) violation {
			var e *sqlite.Error
			if !errors.As(err, &e) {
				return noViolation
			}
			switch e.Code() {
			case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
				return uniqueViolation
			case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
				return foreignKeyViolation
			}
			return noViolation
		},
	}
}

// sqlitePragmas are set on every connection. WAL lets readers run beside
// the one writer; the busy timeout makes writers wait for each other instead
// of failing; immediate transactions take the write lock at BEGIN, so two
// transactions never deadlock upgrading read locks.
const sqlitePragmas = "_pragma=journal_mode(WAL)" +
	"&_pragma=busy_timeout(10000)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_txlock=immediate"

// sqliteSource turns a database file path into a modernc.org/sqlite data
// source name. SQLite would report a missing directory only as "unable to
// open database file", so it is checked here to name the path.
func sqliteSource(path string) (string, error) {
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("sqlstore: open %q: a SQLite path may not contain '?' or '#'", path)
	}
	if path == ":memory:" {
		return path + "?" + sqlitePragmas, nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("sqlstore: open %q: directory %q does not exist", path, dir)
	case err != nil:
		return "", fmt.Errorf("sqlstore: open %q: %w", path, err)
	case !fi.IsDir():
		return "", fmt.Errorf("sqlstore: open %q: %q is not a directory", path, dir)
	}
	return path + "?" + sqlitePragmas, nil
}

package sqlstore

import (
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between the databases sqlstore speaks. Queries
// are written once, in the subset both SQLite and PostgreSQL accept
// (numbered $N parameters, RETURNING, ON CONFLICT, UPDATE ... FROM, NULLS
// FIRST, partial indexes, integers 0 and 1 for booleans); the rest lives
// here. Adding a database means a dialect, migrations/NAME/*.sql and a case
// in resolve.
type dialect struct {
	// name names the database in messages, and is what Store.Dialect
	// returns.
	name string
	// driver is the database/sql driver name.
	driver string
	// migrations holds the numbered schema migrations, NNNN_name.sql.
	migrations fs.FS
	// migrationLock, if set, is run first in every migration transaction:
	// it makes concurrent Opens of one database apply migrations one at a
	// time. (SQLite's immediate transactions do that already.)
	migrationLock string
	// foreignKeysOff tells whether migrations may start with the
	// foreignKeysOff marker (SQLite's PRAGMA foreign_keys).
	foreignKeysOff bool
	// forUpdate is appended to a SELECT in a transaction that writes what
	// it read, to lock the rows it selects until the commit. SQLite
	// transactions take the write lock at BEGIN and need none.
	forUpdate string
	// forKeyShare is appended to a SELECT of rows a write of the same
	// transaction references, so that none is deleted meanwhile: a row
	// deleted by a transaction that commits first is then not selected,
	// rather than failing the write's foreign key check. SQLite needs none.
	forKeyShare string
	// searchQuery returns the query SearchArticles runs, with a LIMIT $4
	// if limited, and its first argument, for terms that searchTerms
	// returned (at least one).
	searchQuery func(terms []string, limited bool) (query string, arg any)
	// configure tunes the connection pool, if set.
	configure func(db *sql.DB, dsn string)
	// classify tells which constraint, if any, an error reports.
	classify func(err error) violation
}

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// resolve picks the dialect for dsn and returns the driver's data source
// name.
func resolve(dsn string) (dialect, string, error) {
	switch {
	case dsn == "":
		return dialect{}, "", errors.New("sqlstore: open: empty database name")
	case isPostgres(dsn):
		// pgx's error names the URL, without its password, but may quote
		// a part of it that holds the rest of an unencoded password.
		if _, err := pgx.ParseConfig(dsn); err != nil {
			if strings.ContainsRune(err.Error(), '"') {
				return dialect{}, "", errors.New("sqlstore: open PostgreSQL: not a valid URL (percent-encode special characters in the user name and password)")
			}
			return dialect{}, "", fmt.Errorf("sqlstore: open PostgreSQL: %w", err)
		}
		return postgresDialect(), dsn, nil
	case strings.Contains(dsn, "://"):
		scheme, _, _ := strings.Cut(dsn, "://")
		if !schemePattern.MatchString(scheme) {
			scheme = "(a URL)"
		}
		return dialect{}, "", fmt.Errorf("sqlstore: open %s://…: not a SQLite file path or a postgres:// URL", scheme)
	case keywordDSN.MatchString(dsn):
		// It may hold a password: not quoted.
		return dialect{}, "", errors.New("sqlstore: open: a PostgreSQL keyword/value string (host=… user=…) is not supported: write it as a postgres:// URL")
	default:
		source, err := sqliteSource(dsn)
		if err != nil {
			return dialect{}, "", err
		}
		return sqliteDialect(), source, nil
	}
}

// schemePattern matches a URL scheme (RFC 3986).
var schemePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// keywordDSN matches a PostgreSQL keyword/value connection string
// ("host=db user=bot dbname=briefbot"), which Open does not take for a
// SQLite file name.
var keywordDSN = regexp.MustCompile(`(?:^|\s)(?:host|hostaddr|port|dbname|user|password|sslmode|connect_timeout|application_name|service)\s*=`)

// isPostgres reports whether dsn is a PostgreSQL URL.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// shownDSN returns dsn as messages show it: a PostgreSQL URL without its
// password.
func shownDSN(dsn string) string {
	if !isPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err == nil {
		return u.Redacted()
	}
	// pgx parses some URLs net/url does not (a '#' in the password):
	// show what it connects to.
	c, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable PostgreSQL URL)"
	}
	shown := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port))), Path: "/" + c.Database}
	if c.User != "" {
		shown.User = url.User(c.User)
	}
	return shown.String()
}

// sqliteDialect returns the dialect of modernc.org/sqlite.
func sqliteDialect() dialect {
	migrations, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		panic(err) // the embedded path is a constant
	}
	return dialect{
		name:           "sqlite",
		driver:         "sqlite",
		migrations:     migrations,
		foreignKeysOff: true,
		searchQuery: func(terms []string, limited bool) (string, any) {
			return sqliteSearchQuery(limited), matchExpression(terms)
		},
		configure: func(db *sql.DB, dsn string) {
			if dsn == ":memory:" {
				// Each connection would get its own empty database.
				db.SetMaxOpenConns(1)
				return
			}
			// SQLite has one writer. Waiters beyond a few retry on their
			// busy timeout in no order, and under load (32 sources
			// polled at once) one could wait out the whole timeout and
			// fail; database/sql's pool queues them in order instead.
			db.SetMaxOpenConns(sqliteMaxConns)
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

// sqliteMaxConns bounds a SQLite file database's connections: enough for
// readers beside the writer (WAL), few enough that writers queue in the
// pool rather than in SQLite's busy handler.
const sqliteMaxConns = 4

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

// postgresDialect returns the dialect of PostgreSQL through pgx.
func postgresDialect() dialect {
	migrations, err := fs.Sub(postgresMigrations, "migrations/postgres")
	if err != nil {
		panic(err) // the embedded path is a constant
	}
	return dialect{
		name:       "postgres",
		driver:     "pgx",
		migrations: migrations,
		// One key for every schema of a database: CREATE EXTENSION is
		// database-wide.
		migrationLock: `SELECT pg_advisory_xact_lock(hashtextextended('briefbot: schema migrations', 0))`,
		forUpdate:     ` FOR UPDATE`,
		forKeyShare:   ` FOR KEY SHARE`,
		searchQuery: func(terms []string, limited bool) (string, any) {
			return postgresSearchQuery(limited), terms
		},
		classify: func(err error) violation {
			var e *pgconn.PgError
			if !errors.As(err, &e) {
				return noViolation
			}
			switch e.Code {
			case "23505": // unique_violation
				return uniqueViolation
			case "23503": // foreign_key_violation
				return foreignKeyViolation
			}
			return noViolation
		},
	}
}

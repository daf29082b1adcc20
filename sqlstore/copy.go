package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// CopyStats counts the rows Copy found and the rows it added.
type CopyStats struct {
	Table         string
	Read, Written int
}

// copyTables are the tables Copy carries, parents before children, with
// the rows it reads: every source, topic, summary, subscription,
// delivery and day of language-model usage, and the articles fetched since the cut-off ($1) with their
// topic matches and near-duplicate band keys. Full-text indexes are not
// copied: each database keeps its own in step with articles.
var copyTables = []struct{ name, where string }{
	{"sources", ""},
	{"topics", ""},
	{"articles", "WHERE fetched >= $1"},
	{"article_bands", "WHERE article_id IN (SELECT id FROM articles WHERE fetched >= $1)"},
	{"article_topics", "WHERE article_id IN (SELECT id FROM articles WHERE fetched >= $1)"},
	{"summaries", ""},
	{"subscriptions", ""},
	{"deliveries", ""},
	{"llm_usage", ""},
}

// Copy copies an installation from one store to another (SQLite to
// PostgreSQL, say): sources with their fetch state, topics, cached
// summaries, subscriptions, delivery history, and the articles fetched
// at or after since. IDs are kept, so subscriptions keep their topics and
// deliveries their keys. Rows the target has already (same key or name)
// are left as they are (but a delivery still pending in the target takes
// the source's later progress), so Copy is safe to run again, and it
// never deletes. Each table is copied in one transaction.
func Copy(ctx context.Context, from, to *Store, since time.Time) ([]CopyStats, error) {
	// Rows are matched by ID; a target that gives an ID or a name to
	// something else would attach subscriptions to the wrong topic.
	for _, c := range []struct{ table, name string }{{"sources", "name"}, {"topics", "name"}, {"subscriptions", "channel_id"}} {
		if err := sameIdentities(ctx, from, to, c.table, c.name); err != nil {
			return nil, fmt.Errorf("sqlstore: copy: %w", err)
		}
	}
	var stats []CopyStats
	for _, t := range copyTables {
		st, err := copyTable(ctx, from, to, t.name, t.where, since)
		if err != nil {
			return stats, fmt.Errorf("sqlstore: copy %s: %w", t.name, err)
		}
		stats = append(stats, st)
	}
	if to.dialect.name == "postgres" {
		// Explicit IDs do not move identity sequences: move them past the
		// copied rows so new rows get fresh IDs.
		for _, table := range []string{"sources", "topics", "subscriptions"} {
			if _, err := to.db.ExecContext(ctx, fmt.Sprintf(
				`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), GREATEST((SELECT MAX(id) FROM %[1]s), 1))`, table)); err != nil {
				return stats, fmt.Errorf("sqlstore: copy %s: advance its IDs: %w", table, err)
			}
		}
	}
	return stats, nil
}

// copyTable copies the rows of one table that where selects, in the
// columns both databases have.
func copyTable(ctx context.Context, from, to *Store, table, where string, since time.Time) (CopyStats, error) {
	st := CopyStats{Table: table}
	target, err := columns(ctx, to.db, table)
	if err != nil {
		return st, err
	}
	source, err := columns(ctx, from.db, table)
	if err != nil {
		return st, err
	}
	have := make(map[string]bool, len(target))
	for _, c := range target {
		have[c] = true
	}
	var cols []string
	for _, c := range source {
		if have[c] {
			cols = append(cols, c)
		}
	}
	var args []any
	if where != "" {
		args = append(args, since.UnixMilli())
	}
	rows, err := from.db.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table+` `+where, args...)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	marks := make([]string, len(cols))
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	insert := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES (` + strings.Join(marks, ", ") + `) ` + onConflict(table, cols)
	err = to.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, insert)
		if err != nil {
			return err
		}
		defer stmt.Close()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			st.Read++
			res, err := stmt.ExecContext(ctx, vals...)
			if err != nil {
				return fmt.Errorf("row %d: %w", st.Read, err)
			}
			if n, err := res.RowsAffected(); err == nil {
				st.Written += int(n)
			}
		}
		return rows.Err()
	})
	return st, err
}

// sameIdentities checks that every row of table in both stores has the
// same ID there, paired with the same name (or, for subscriptions, the
// same channel).
func sameIdentities(ctx context.Context, from, to *Store, table, name string) error {
	read := func(s *Store) (map[int64]string, error) {
		rows, err := s.db.QueryContext(ctx, `SELECT id, `+name+` FROM `+table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[int64]string{}
		for rows.Next() {
			var id int64
			var n string
			if err := rows.Scan(&id, &n); err != nil {
				return nil, err
			}
			out[id] = n
		}
		return out, rows.Err()
	}
	src, err := read(from)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	dst, err := read(to)
	if err != nil {
		return fmt.Errorf("read %s of the target: %w", table, err)
	}
	byName := make(map[string]int64, len(dst))
	for id, n := range dst {
		byName[n] = id
	}
	// In ID order, so that the first clash, the one reported, is always
	// the same.
	for _, id := range slices.Sorted(maps.Keys(src)) {
		n := src[id]
		if other, ok := dst[id]; ok && other != n {
			return fmt.Errorf("the target's %s id %d is %q, not %q: copy into an empty database, or one copied from this one", table, id, other, n)
		}
		if other, ok := byName[n]; ok && other != id && table != "subscriptions" {
			return fmt.Errorf("the target's %s %q has id %d, not %d: copy into an empty database, or one copied from this one", table, n, other, id)
		}
	}
	return nil
}

// onConflict says what a copied row does when the target has its key:
// nothing, except for a delivery the target still has pending and the
// source has since moved on (posted more parts, or finished), which takes
// the source's progress, so that a copy made while a delivery was in
// flight and re-run after it finished never posts it twice.
func onConflict(table string, cols []string) string {
	if table != "deliveries" {
		return `ON CONFLICT DO NOTHING`
	}
	var set []string
	for _, c := range cols {
		if c != "key" {
			set = append(set, c+" = excluded."+c)
		}
	}
	return `ON CONFLICT (key) DO UPDATE SET ` + strings.Join(set, ", ") +
		` WHERE deliveries.state = 'pending' AND excluded.updated_at > deliveries.updated_at`
}

// columns returns a table's column names.
func columns(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

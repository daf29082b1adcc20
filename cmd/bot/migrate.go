package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

func (a *app) migrateCommand() *cobra.Command {
	var from, to, since string
	cmd := &cobra.Command{
		Use:   "migrate --from sqlite:briefbot.db --to postgres://…",
		Short: "Copy an installation to another database (SQLite to PostgreSQL)",
		Long: `Copy sources (with their fetch state), topics, subscriptions, delivery
history, cached summaries and recent articles from one database to another,
keeping their IDs. Rows the target has already are left alone, so it is safe
to run again; nothing is deleted from either side. Stop briefbot run first;
the next run on the new database re-queues deliveries left half-posted.
Then set database (or BRIEFBOT_DATABASE) to the new one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			window, err := parseSince(since)
			if err != nil {
				return fmt.Errorf("bad --articles-since %q: want 1h to 30d, e.g. 7d", since)
			}
			if from == "" || to == "" {
				return fmt.Errorf("both --from and --to are needed, e.g. --from sqlite:briefbot.db --to postgres://user@host/briefbot")
			}
			src, dst := strings.TrimPrefix(from, "sqlite:"), strings.TrimPrefix(to, "sqlite:")
			if src == dst {
				return fmt.Errorf("--from and --to name the same database")
			}
			if err := checkSQLiteSource(src); err != nil {
				return err
			}
			fromStore, err := sqlstore.Open(ctx, src)
			if err != nil {
				return fmt.Errorf("open --from %s: %w", redact(src), err)
			}
			defer fromStore.Close()
			toStore, err := sqlstore.Open(ctx, dst)
			if err != nil {
				return fmt.Errorf("open --to %s: %w", redact(dst), err)
			}
			defer toStore.Close()
			stats, err := sqlstore.Copy(ctx, fromStore, toStore, a.now().Add(-window))
			w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			for _, st := range stats {
				fmt.Fprintf(w, "%s\t%d read\t%d added\t%d already there\n", st.Table, st.Read, st.Written, st.Read-st.Written)
			}
			w.Flush()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "copied %s to %s\n", redact(src), redact(dst))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the database to copy: sqlite:PATH (or a PATH), or a postgres:// URL")
	cmd.Flags().StringVar(&to, "to", "", "the database to copy into: a postgres:// URL, or sqlite:PATH")
	cmd.Flags().StringVar(&since, "articles-since", "30d", "copy the articles fetched in this window (1h to 30d)")
	return cmd
}

// checkSQLiteSource refuses a --from SQLite path that names no database
// file: opening it would create an empty database, and the copy of nothing
// would look like a finished migration.
func checkSQLiteSource(path string) error {
	if isPostgres(path) {
		return nil
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--from %s: no such database file", path)
	case err != nil:
		return fmt.Errorf("--from %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("--from %s: a directory, not a database file", path)
	case fi.Size() == 0:
		return fmt.Errorf("--from %s: an empty file, not a briefbot database", path)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

// rematchWindow is how far back a new or changed topic is matched against
// stored articles.
const rematchWindow = 30 * 24 * time.Hour

// syncTopics makes the stored config-file topics match the config, and
// re-matches stored articles against topics that are new or changed.
func syncTopics(ctx context.Context, store *sqlstore.Store, cfg *Config, now time.Time) error {
	stored, err := store.Topics(ctx)
	if err != nil {
		return err
	}
	byName := make(map[string]digest.Topic, len(stored))
	for _, t := range stored {
		byName[t.Name] = t
	}
	want := make(map[string]bool, len(cfg.Topics))
	var changed []string
	for _, tc := range cfg.Topics {
		want[tc.Name] = true
		t := digest.Topic{Name: tc.Name, Query: tc.Query, Origin: digest.OriginConfig, CreatedAt: now}
		old, ok := byName[tc.Name]
		switch {
		case !ok:
			if _, err := store.AddTopic(ctx, t); err != nil {
				return fmt.Errorf("config topic %q: %w", tc.Name, err)
			}
			changed = append(changed, tc.Name)
		case old.Origin != digest.OriginConfig:
			return fmt.Errorf("config topic %q: a topic with that name was added with `briefbot topics add`; rename one of them", tc.Name)
		case old.Query != t.Query:
			t.ID, t.CreatedAt = old.ID, old.CreatedAt
			if err := store.UpdateTopic(ctx, t); err != nil {
				return fmt.Errorf("config topic %q: %w", tc.Name, err)
			}
			changed = append(changed, tc.Name)
		}
	}
	for _, t := range stored {
		if t.Origin == digest.OriginConfig && !want[t.Name] {
			if err := store.RemoveTopic(ctx, t.Name); err != nil {
				return fmt.Errorf("remove topic %q no longer in the config: %w", t.Name, err)
			}
		}
	}
	for _, name := range changed {
		if _, err := rematch(ctx, store, name, now); err != nil {
			return err
		}
	}
	return nil
}

// rematch matches the stored articles of the last rematchWindow against
// the named topic, and returns how many match.
func rematch(ctx context.Context, store *sqlstore.Store, name string, now time.Time) (int, error) {
	all, err := store.Topics(ctx)
	if err != nil {
		return 0, err
	}
	set, err := digest.NewTopicSet(all)
	if err != nil {
		return 0, err
	}
	t, err := store.Topic(ctx, name)
	if err != nil {
		return 0, err
	}
	return digest.Rematch(ctx, store, set, t, now.Add(-rematchWindow), now.Add(24*time.Hour))
}

// topicMatcher returns a sources.PollOptions.MatchTopics hook that tells
// which of the store's topics each article matches; the poller stores the
// article with its matches. The topic set is reloaded when it is older
// than a minute, so topics added while the bot runs are matched too.
func topicMatcher(ctx context.Context, store *sqlstore.Store, now func() time.Time) (func(context.Context, digest.Article) ([]int64, error), error) {
	m := &matcher{store: store, now: now}
	if _, err := m.topics(ctx); err != nil {
		return nil, err
	}
	return func(ctx context.Context, a digest.Article) ([]int64, error) {
		set, err := m.topics(ctx)
		if err != nil {
			return nil, err
		}
		return set.Match(a), nil
	}, nil
}

// matcher caches the topic set for topicMatcher.
type matcher struct {
	store  *sqlstore.Store
	now    func() time.Time
	mu     sync.Mutex
	set    *digest.TopicSet
	loaded time.Time
}

func (m *matcher) topics(ctx context.Context) (*digest.TopicSet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set != nil && m.now().Sub(m.loaded) < time.Minute {
		return m.set, nil
	}
	topics, err := m.store.Topics(ctx)
	if err != nil {
		return nil, err
	}
	set, err := digest.NewTopicSet(topics)
	if err != nil {
		return nil, err
	}
	m.set, m.loaded = set, m.now()
	return set, nil
}

func (a *app) topicsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "List, add and remove topics (named queries)",
		Long: `Topics are named queries that articles are matched to as they arrive.

Query language: words (all must appear), "exact phrases", OR between
alternatives, -word or -"phrase" to exclude, parentheses to group.
Matching ignores case and accents and respects word boundaries, so
kim does not match Kimberly. Example:
  "north korea" OR pyongyang OR "kim jong un" -football`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.topicsListCommand(), a.topicsAddCommand(), a.topicsRemoveCommand())
	return cmd
}

func (a *app) topicsListCommand() *cobra.Command {
	return a.listCommand("List topics with their queries", func(ctx context.Context, store *sqlstore.Store, format string) error {
		topics, err := store.Topics(ctx)
		if err != nil {
			return err
		}
		if format == "json" {
			type row struct {
				Name   string `json:"name"`
				Query  string `json:"query"`
				Origin string `json:"origin"`
			}
			rows := make([]row, len(topics))
			for i, t := range topics {
				rows[i] = row{t.Name, t.Query, string(t.Origin)}
			}
			return writeJSON(a.stdout, rows)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tORIGIN\tQUERY")
		for _, t := range topics {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.Name, t.Origin, t.Query)
		}
		return tw.Flush()
	})
}

func (a *app) topicsAddCommand() *cobra.Command {
	var query string
	cmd := &cobra.Command{
		Use:     "add NAME --query Q",
		Short:   "Add a topic and match the stored articles of the last 30 days to it",
		Example: `  briefbot topics add korea-talks --query '"north korea" OR pyongyang -football'`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSpace(args[0])
			if !sourceNamePattern.MatchString(name) {
				return fmt.Errorf("bad topic name %q: use 1-64 lower-case letters, digits, '.', '_' or '-'", name)
			}
			if strings.TrimSpace(query) == "" {
				return errors.New("a topic needs --query, e.g. --query '\"north korea\" OR pyongyang'")
			}
			if _, err := digest.ParseQuery(query); err != nil {
				return err
			}
			ctx := cmd.Context()
			_, store, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer store.Close()
			_, err = store.AddTopic(ctx, digest.Topic{Name: name, Query: query, Origin: digest.OriginCLI, CreatedAt: a.now()})
			if errors.Is(err, digest.ErrExists) {
				return fmt.Errorf("a topic named %q already exists (see `briefbot topics list`)", name)
			} else if err != nil {
				return err
			}
			n, err := rematch(ctx, store, name, a.now())
			if err != nil {
				return err
			}
			match := "match"
			if n == 1 {
				match = "matches"
			}
			_, err = fmt.Fprintf(a.stdout, "added topic %s; %s of the last 30 days %s it\n", name, plural(n, "stored article"), match)
			return err
		},
	}
	cmd.Flags().StringVar(&query, "query", "", `the topic's query, e.g. '"north korea" OR pyongyang -football'`)
	return cmd
}

func (a *app) topicsRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a topic added with `topics add`",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg *Config, store *sqlstore.Store) error {
				t, err := a.findTopic(ctx, store, args[0])
				if err != nil {
					return err
				}
				if t.Origin == digest.OriginConfig {
					return configOwned("topic", t.Name, cfg)
				}
				if err := store.RemoveTopic(ctx, t.Name); err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "removed topic %s\n", t.Name)
				return err
			})
		},
	}
}

func (a *app) findTopic(ctx context.Context, store *sqlstore.Store, name string) (digest.Topic, error) {
	t, err := store.Topic(ctx, name)
	if errors.Is(err, digest.ErrNotFound) {
		all, _ := store.Topics(ctx)
		names := make([]string, len(all))
		for i, t := range all {
			names[i] = t.Name
		}
		known := "there are no topics yet: add one with `briefbot topics add NAME --query Q`"
		if len(names) > 0 {
			known = "known topics: " + strings.Join(names, ", ")
		}
		return t, fmt.Errorf("no topic named %q: %s", name, known)
	}
	return t, err
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/llm"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

// app is what every command needs: the environment it runs in, and the
// config and store once loaded.
type app struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	configPath     string
	logLevel       string
	logFormat      string
	now            func() time.Time
	// onLLMCall, when set, is told of every language model request
	// (briefbot run's metrics).
	onLLMCall func(context.Context, llm.Call)
}

func newRootCommand(getenv func(string) string, stdout, stderr io.Writer, now func() time.Time) *cobra.Command {
	a := &app{getenv: getenv, stdout: stdout, stderr: stderr, now: now}
	root := &cobra.Command{
		Use:           "briefbot",
		Short:         "briefbot turns the day's news into short, cited briefings",
		Long:          "briefbot polls news feeds, stores clean de-duplicated articles, and turns them into short, cited briefings posted to Discord.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "config file (default $BRIEFBOT_CONFIG, else ./briefbot.yaml if present)")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "log format: text (logfmt) or json")
	root.AddCommand(
		a.fetchCommand(),
		a.sourcesCommand(),
		a.topicsCommand(),
		a.briefCommand(),
		a.summarizeCommand(),
		a.runCommand(),
		a.migrateCommand(),
		a.configCommand(),
		a.statusCommand(),
		a.healthcheckCommand(),
		versionCommand(stdout),
	)
	return root
}

func (a *app) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q: want debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, fmt.Errorf("bad --log-format %q: want text or json", a.logFormat)
}

// open loads the config, opens the store and brings the config file's
// sources into it. The caller closes the store.
func (a *app) open(ctx context.Context) (*Config, *sqlstore.Store, error) {
	cfg, err := loadConfig(a.configPath, a.getenv)
	if err != nil {
		return nil, nil, err
	}
	store, err := sqlstore.Open(ctx, cfg.Database)
	if err != nil {
		return nil, nil, fmt.Errorf("open database %s: %w", redact(cfg.Database), err)
	}
	warn := func(msg string) { fmt.Fprintln(a.stderr, "briefbot: warning:", msg) }
	if err := syncSources(ctx, store, cfg, a.now(), warn); err != nil {
		store.Close()
		return nil, nil, err
	}
	if err := syncTopics(ctx, store, cfg, a.now()); err != nil {
		store.Close()
		return nil, nil, err
	}
	return cfg, store, nil
}

// withStore runs f with the config and an open store, and closes the
// store after.
func (a *app) withStore(cmd *cobra.Command, f func(ctx context.Context, cfg *Config, store *sqlstore.Store) error) error {
	cfg, store, err := a.open(cmd.Context())
	if err != nil {
		return err
	}
	defer store.Close()
	return f(cmd.Context(), cfg, store)
}

// listCommand builds a `list` subcommand with --format text|json; list
// writes the listing in that format from the open store.
func (a *app) listCommand(short string, list func(ctx context.Context, store *sqlstore.Store, format string) error) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			return a.withStore(cmd, func(ctx context.Context, _ *Config, store *sqlstore.Store) error {
				return list(ctx, store, format)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// checkFormat validates a list command's --format.
func checkFormat(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("bad --format %q: want text or json", format)
	}
	return nil
}

// writeJSON writes v as indented JSON, for --format json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// configOwned explains that a source or topic from the config file (or
// the built-in defaults) is removed there, not with a command.
func configOwned(kind, name string, cfg *Config) error {
	switch {
	case cfg.File == "":
		return fmt.Errorf("%s %q is one of the built-in defaults; to drop it, create %s with a `%ss:` list that leaves it out (see `briefbot config check` for the current list)", kind, name, defaultConfigFile, kind)
	case kind == "source" && cfg.DefaultSources, kind == "topic" && cfg.DefaultTopics:
		return fmt.Errorf("%s %q is one of the built-in defaults (the config file %s has no `%ss:` list); to drop it, add a `%ss:` list to %s that leaves it out (see `briefbot config check` for the current list)", kind, name, cfg.File, kind, kind, cfg.File)
	}
	return fmt.Errorf("%s %q comes from the config file %s; remove it there", kind, name, cfg.File)
}

// syncSources makes the stored config-file sources match the config:
// new ones are added, changed ones updated, removed ones deleted (their
// articles stay). A config source that clashes with a CLI- or chat-added
// one is skipped with a warning, so a clash never locks every command.
func syncSources(ctx context.Context, store digest.Store, cfg *Config, now time.Time, warn func(string)) error {
	stored, err := store.Sources(ctx)
	if err != nil {
		return err
	}
	byName := make(map[string]digest.Source, len(stored))
	for _, s := range stored {
		byName[s.Name] = s
	}
	want := make(map[string]bool, len(cfg.Sources))
	for _, sc := range cfg.Sources {
		want[sc.Name] = true
		src := digest.Source{
			Name:         sc.Name,
			URL:          sc.URL,
			Interval:     sc.interval,
			AllowPrivate: sc.AllowPrivate,
			Origin:       digest.OriginConfig,
			CreatedAt:    now,
		}
		old, ok := byName[sc.Name]
		if !ok {
			if _, err := store.AddSource(ctx, src); errors.Is(err, digest.ErrExists) {
				// A CLI- or chat-added source has this URL: keep it, and
				// keep every command usable, but say so.
				warn(fmt.Sprintf("config source %q skipped: another source already uses its URL (see `briefbot sources list`)", sc.Name))
			} else if err != nil {
				return fmt.Errorf("config source %q: %w", sc.Name, err)
			}
			continue
		}
		if old.Origin != digest.OriginConfig {
			warn(fmt.Sprintf("config source %q skipped: a source with that name was added with `briefbot sources add` or from Discord; rename one of them", sc.Name))
			continue
		}
		if old.URL == src.URL && old.Interval == src.Interval && old.AllowPrivate == src.AllowPrivate {
			continue
		}
		src.ID, src.CreatedAt = old.ID, old.CreatedAt
		if err := store.UpdateSource(ctx, src); err != nil {
			return fmt.Errorf("config source %q: %w", sc.Name, err)
		}
		if old.URL != src.URL {
			// A new URL starts afresh: no validators, no failures.
			if err := store.SaveFetchState(ctx, old.ID, digest.FetchState{}); err != nil {
				return fmt.Errorf("config source %q: %w", sc.Name, err)
			}
		}
	}
	for _, s := range stored {
		if s.Origin == digest.OriginConfig && !want[s.Name] {
			if err := store.RemoveSource(ctx, s.Name); err != nil {
				return fmt.Errorf("remove source %q no longer in the config: %w", s.Name, err)
			}
		}
	}
	return nil
}

// newPoller builds the fetchers and poller from the config. Stored
// articles are matched to the store's topics.
func newPoller(ctx context.Context, cfg *Config, store *sqlstore.Store, log *slog.Logger, now func() time.Time) (*sources.Poller, error) {
	matchTopics, err := topicMatcher(ctx, store, now)
	if err != nil {
		return nil, err
	}
	f := cfg.Fetch
	version := shortVersion()
	feeds := sources.NewFetcher(sources.FetchOptions{
		Timeout:      f.timeout,
		MaxBodyBytes: int64(f.MaxBodyMB) << 20,
		PerHost:      f.PerHost,
		Version:      version,
	})
	pages := sources.NewFetcher(sources.FetchOptions{
		Timeout:      min(f.timeout, 20*time.Second),
		MaxBodyBytes: min(int64(f.MaxBodyMB)<<20, 5<<20),
		PerHost:      f.PerHost,
		Version:      version,
	})
	return sources.NewPoller(store, feeds, pages, log, now, sources.PollOptions{
		DisableAfter:   f.DisableAfter,
		MaxPageFetches: f.PageFetches,
		Concurrency:    f.Concurrency,
		MatchTopics:    matchTopics,
	}), nil
}

func versionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print briefbot's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(stdout, "briefbot", buildVersion())
			return err
		},
	}
}

// shortVersion is the module version alone, for the User-Agent.
func shortVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// version is set at link time (-ldflags "-X main.version=v1.2.3"), as
// the Dockerfile does: builds without VCS data have no other.
var version string

// buildVersion reports the version (the linked-in one, else the
// module's) and the VCS revision the binary was built from.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if version != "" {
		v = version
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" && !strings.Contains(v, rev[:min(12, len(rev))]) {
		v += fmt.Sprintf(" (%s%s)", rev[:min(12, len(rev))], dirty)
	}
	return v + " " + info.GoVersion
}

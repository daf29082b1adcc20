package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

// briefFlags are the options shared by brief and summarize.
type briefFlags struct {
	format     string
	maxStories int
	maxWords   int
	language   string
}

func (f *briefFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "format", "text", "output format: text, markdown or json")
	cmd.Flags().IntVar(&f.maxStories, "max-stories", 8, "at most this many stories, most important first")
	cmd.Flags().StringVar(&f.language, "language", "", "write bullets in this language (LLM only), e.g. English or ko")
}

func (f *briefFlags) check() error {
	switch f.format {
	case "text", "markdown", "json":
	default:
		return fmt.Errorf("bad --format %q: want text, markdown or json", f.format)
	}
	if f.maxStories < 1 || f.maxStories > 50 {
		return fmt.Errorf("bad --max-stories %d: want 1 to 50", f.maxStories)
	}
	if f.maxWords < 0 || f.maxWords > 1000 {
		return fmt.Errorf("bad --max-words %d: want 1 to 1000", f.maxWords)
	}
	return nil
}

func (a *app) briefCommand() *cobra.Command {
	var flags briefFlags
	var query, since string
	var noFetch bool
	cmd := &cobra.Command{
		Use:   "brief [TOPIC]",
		Short: "Print a briefing on a topic or an ad-hoc query",
		Long: `Print a briefing: the stories of a topic (or of --query) in the window,
most important first, each with a headline, cited bullets and its sources.
Sources that are due are fetched first, unless --no-fetch.

The language model writes the bullets when OPENAI_API_KEY or llm.base_url
is set; otherwise, or when it fails, the extractive summarizer picks
sentences from the articles themselves, and the briefing says so.`,
		Example: `  briefbot brief --query "north korea"
  briefbot brief korea-talks --since 3d --format markdown`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			window, err := parseSince(since)
			if err != nil {
				return err
			}
			topicName := ""
			if len(args) == 1 {
				topicName = strings.TrimSpace(args[0])
			}
			switch {
			case topicName == "" && strings.TrimSpace(query) == "":
				return errors.New("name a topic (see `briefbot topics list`) or give --query, e.g. --query \"north korea\"")
			case topicName != "" && query != "":
				return errors.New("give a topic or --query, not both")
			}
			if query != "" {
				if _, err := digest.ParseQuery(query); err != nil {
					return err
				}
			}
			log, err := a.logger()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cfg, store, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer store.Close()

			sel := digest.Selection{Query: query, To: a.now(), From: a.now().Add(-window)}
			if topicName != "" {
				t, err := a.findTopic(ctx, store, topicName)
				if err != nil {
					return err
				}
				sel.Topic, sel.Query = &t, t.Query
			}
			if !noFetch {
				if err := a.fetchDue(ctx, cfg, store, log); err != nil {
					return err
				}
				sel.To = a.now()
			}
			articles, err := digest.SelectArticles(ctx, store, sel)
			if err != nil {
				return err
			}
			a.recordLLMUsage(ctx, cfg, store, log)
			b, err := a.builder(cfg, store, log)
			if err != nil {
				return err
			}
			br, err := b.Build(ctx, sel, articles, a.briefOptions(cfg, flags))
			if err != nil {
				return err
			}
			if len(br.Stories) == 0 {
				srcs, err := store.Sources(ctx)
				if err != nil {
					return err
				}
				for _, s := range srcs {
					searched(&br, s)
				}
			}
			return render(a.stdout, br, flags.format, a.now())
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVar(&query, "query", "", `an ad-hoc query instead of a topic, e.g. '"north korea" OR pyongyang -football'`)
	cmd.Flags().StringVar(&since, "since", "24h", "the window: 6h, 24h, 3d, 7d or any duration")
	cmd.Flags().BoolVar(&noFetch, "no-fetch", false, "use stored articles only; do not fetch due sources first")
	return cmd
}

// parseSince accepts Go durations and whole days ("3d").
func parseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < time.Hour || d > 30*24*time.Hour {
		return 0, fmt.Errorf("bad --since %q: want 1h to 30d, e.g. 6h, 24h, 3d or 7d", s)
	}
	return d, nil
}

// fetchDue polls the sources that are due, reporting on stderr.
func (a *app) fetchDue(ctx context.Context, cfg *Config, store *sqlstore.Store, log *slog.Logger) error {
	srcs, err := store.Sources(ctx)
	if err != nil {
		return err
	}
	var due []digest.Source
	var backingOff int
	var nextTry time.Time
	for _, s := range srcs {
		switch {
		case s.State.Disabled:
		case !s.State.NextPoll.After(a.now()):
			due = append(due, s)
		case s.State.Failures > 0:
			backingOff++
			if nextTry.IsZero() || s.State.NextPoll.Before(nextTry) {
				nextTry = s.State.NextPoll
			}
		}
	}
	if backingOff > 0 {
		fmt.Fprintf(a.stderr, "skipping %s backing off after failures (the first retries %s); see `briefbot sources list`\n",
			plural(backingOff, "source"), until(a.now(), nextTry))
	}
	if len(due) == 0 {
		return nil
	}
	poller, err := newPoller(ctx, cfg, store, log, a.now)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "fetching %s…\n", plural(len(due), "due source"))
	results := poller.PollAll(ctx, due, false, nil)
	t := summarize(results)
	fmt.Fprintf(a.stderr, "fetched %s: %s, %d failed\n", plural(t.Polled, "source"), plural(t.Articles, "new article"), t.Failed)
	for _, r := range results {
		if r.Status == sources.StatusFailed {
			fmt.Fprintf(a.stderr, "  %s: %s\n", r.Source, r.Error)
		}
	}
	return ctx.Err()
}

// searched adds src to the sources a briefing that found nothing searched.
func searched(br *digest.Briefing, src digest.Source) {
	br.Searched = append(br.Searched, src.Name)
	if st := src.State; st.Disabled || st.Failures > 0 || st.LastSuccess.IsZero() {
		br.Unfetched++
	}
}

func (a *app) briefOptions(cfg *Config, f briefFlags) digest.BriefOptions {
	return digest.BriefOptions{
		MaxStories: f.maxStories,
		MaxWords:   f.maxWords,
		Language:   f.language,
		Budget:     digest.NewBudget(cfg.LLM.InputBudget, cfg.LLM.OutputBudget),
	}
}

// builder wires the summarizers: extractive always, the LLM when
// configured. cache may be nil.
func (a *app) builder(cfg *Config, cache digest.SummaryCache, log *slog.Logger) (*digest.Builder, error) {
	b := &digest.Builder{Extractive: digest.NewExtractive(), Now: a.now, Log: log}
	if cfg.LLMEnabled() {
		s, err := newLLM(cfg, cache, log, a.onLLMCall)
		if err != nil {
			return nil, err
		}
		b.LLM, b.Model = s, cfg.LLM.Model
	}
	return b, nil
}

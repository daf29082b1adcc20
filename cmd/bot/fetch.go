package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sources"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) fetchCommand() *cobra.Command {
	var sourceName, format string
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Poll sources now and store their new articles",
		Long: `Poll every enabled source (or one, with --source) and store new articles.

Prints one line per source (new, updated, unchanged, failed with the reason,
waiting while backing off after failures, or disabled) and a total line.
Exits non-zero when nothing could be polled: every polled source failed, or
the database or config is unusable.`,
		Example: "  briefbot fetch\n  briefbot fetch --source yonhap --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
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

			srcs, err := store.Sources(ctx)
			if err != nil {
				return err
			}
			force := false
			if sourceName != "" {
				src, err := store.Source(ctx, sourceName)
				if errors.Is(err, digest.ErrNotFound) {
					return fmt.Errorf("no source named %q: %s", sourceName, knownNames(srcs))
				} else if err != nil {
					return err
				}
				srcs, force = []digest.Source{src}, true
			}
			if len(srcs) == 0 {
				return errors.New("no sources to poll: add one with `briefbot sources add URL` or in the config file")
			}

			poller, err := newPoller(ctx, cfg, store, log, a.now)
			if err != nil {
				return err
			}
			var bar *progressbar.ProgressBar
			if format == "text" && isTerminal(a.stderr) && len(srcs) > 1 {
				bar = progressbar.NewOptions(len(srcs),
					progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionSetDescription("polling sources"),
					progressbar.OptionShowCount(),
					progressbar.OptionClearOnFinish())
			}
			results := poller.PollAll(ctx, srcs, force, func(sources.PollResult) {
				if bar != nil {
					_ = bar.Add(1)
				}
			})
			if bar != nil {
				_ = bar.Finish()
			}
			slices.SortFunc(results, func(x, y sources.PollResult) int { return strings.Compare(x.Source, y.Source) })
			total := summarize(results)
			if format == "json" {
				if err := writeJSON(a.stdout, struct {
					Sources []sources.PollResult `json:"sources"`
					Total   fetchTotal           `json:"total"`
				}{results, total}); err != nil {
					return err
				}
			} else if err := printResults(a.stdout, results, total); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("fetch interrupted: %w", err)
			}
			if total.Polled > 0 && total.Failed == total.Polled {
				return fmt.Errorf("every polled source failed (%d of %d); see the reasons above", total.Failed, total.Polled)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sourceName, "source", "", "poll only the source with this name (even if it is backing off)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// fetchTotal sums a fetch run.
type fetchTotal struct {
	Sources    int `json:"sources"`
	Polled     int `json:"polled"`
	New        int `json:"new"`
	Updated    int `json:"updated"`
	Unchanged  int `json:"unchanged"`
	Failed     int `json:"failed"`
	Disabled   int `json:"disabled"`
	Waiting    int `json:"waiting"`
	Articles   int `json:"articles_new"`
	Changed    int `json:"articles_updated"`
	Duplicates int `json:"duplicates"`
	Linked     int `json:"near_duplicates"`
	Skipped    int `json:"skipped"`
}

func summarize(results []sources.PollResult) fetchTotal {
	t := fetchTotal{Sources: len(results)}
	for _, r := range results {
		switch r.Status {
		case sources.StatusNew:
			t.New++
		case sources.StatusUpdated:
			t.Updated++
		case sources.StatusUnchanged:
			t.Unchanged++
		case sources.StatusFailed:
			t.Failed++
		case sources.StatusDisabled:
			t.Disabled++
		case sources.StatusWaiting:
			t.Waiting++
		}
		t.Articles += r.New
		t.Changed += r.Updated
		t.Duplicates += r.Duplicates
		t.Linked += r.Linked
		t.Skipped += r.Skipped
	}
	t.Polled = t.Sources - t.Disabled - t.Waiting
	return t
}

func printResults(w io.Writer, results []sources.PollResult, t fetchTotal) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Source, r.Status, detail(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "total: %s: %d new, %d updated, %d unchanged, %d failed, %d disabled, %d waiting; %s stored, %d updated, %s skipped, %d linked as near-duplicates\n",
		plural(t.Sources, "source"), t.New, t.Updated, t.Unchanged, t.Failed, t.Disabled, t.Waiting, plural(t.Articles, "article"), t.Changed, plural(t.Duplicates, "duplicate"), t.Linked)
	return err
}

func detail(r sources.PollResult) string {
	switch r.Status {
	case sources.StatusFailed, sources.StatusDisabled, sources.StatusWaiting:
		return r.Error
	}
	var parts []string
	if r.Items > 0 || r.Status != sources.StatusUnchanged {
		parts = append(parts, plural(r.Items, "item"))
	} else {
		parts = append(parts, "not modified")
	}
	for _, c := range []struct {
		n    int
		what string
	}{{r.New, "new"}, {r.Updated, "updated"}, {r.Duplicates, "duplicates"}, {r.Linked, "near-duplicates linked"}, {r.Skipped, "skipped"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	s := strings.Join(parts, ", ")
	if len(r.Skips) > 0 {
		s += " (" + strings.Join(r.Skips, "; ") + ")"
	}
	return s + fmt.Sprintf(" in %s", r.Duration.Round(10*time.Millisecond))
}

func knownNames(srcs []digest.Source) string {
	if len(srcs) == 0 {
		return "there are no sources yet"
	}
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.Name
	}
	return "known sources: " + strings.Join(names, ", ")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

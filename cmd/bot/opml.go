package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

// maxOPMLBytes is the largest OPML file import reads.
const maxOPMLBytes = 10 << 20

// Why an OPML entry is not imported, as the summary counts them.
const (
	skipNoURL     = "no xmlUrl"
	skipNotHTTP   = "not http(s)"
	skipExisting  = "already a source"
	skipRepeated  = "listed twice"
	skipInterval  = "bad interval"
	skipCheck     = "failed check"
	skipPrivate   = "not public"
	skipConflicts = "conflict"
)

// importEntry is one feed of an OPML file on its way into the store.
type importEntry struct {
	feed     sources.OPMLFeed
	url      string
	interval time.Duration
	name     string
	skip     string // one of the skip reasons; "" while it is to be added
	detail   string // the line for people
	checked  string // the feed's title, when --check fetched it
}

func (a *app) sourcesImportCommand() *cobra.Command {
	var dryRun, check bool
	var interval string
	cmd := &cobra.Command{
		Use:   "import FILE.opml",
		Short: "Add the feeds of an OPML subscription list, as exported by feed readers",
		Long: `Add every feed of an OPML 1.0 or 2.0 file ("-" reads standard input), as
` + "`sources add --no-check`" + ` would: nested folders are flattened, each feed is named
after its outline's text or title (made a valid, unique source name), and
polled every --interval (default: the file's briefbot:interval, else
fetch.interval). Feeds whose URL is already a source, is listed twice, is
not http(s), or names a private or loopback address (or localhost) are
skipped, each with a line saying why.

Feeds are not fetched unless --check is given: then each is fetched and
parsed first, a few at a time, and those that are not usable feeds (or
point at private addresses) are skipped. --dry-run shows what would be
added and stores nothing.`,
		Example: "  briefbot sources import feeds.opml --dry-run\n  briefbot sources import feeds.opml --check",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			file := args[0]
			feeds, err := readOPML(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			cfg, store, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer store.Close()
			every := cfg.Fetch.interval
			if interval != "" {
				if every, err = parseDuration(interval, time.Minute, 7*24*time.Hour); err != nil {
					return fmt.Errorf("--interval: %w", err)
				}
			}
			existing, err := store.Sources(ctx)
			if err != nil {
				return err
			}
			entries := planImport(feeds, existing, every, interval != "", check)
			if check {
				if err := a.checkImports(ctx, cfg, store, entries); err != nil {
					return err
				}
			}
			nameImports(entries, existing)
			if !dryRun {
				if err := a.addImports(ctx, store, entries); err != nil {
					return err
				}
			}
			return writeImportReport(a.stdout, file, entries, dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be added; store nothing")
	cmd.Flags().BoolVar(&check, "check", false, "fetch and parse each feed first; skip those that are not usable feeds")
	cmd.Flags().StringVar(&interval, "interval", "", "how often to poll the imported sources, e.g. 30m (default: the file's briefbot:interval, else fetch.interval)")
	return cmd
}

// readOPML reads and parses an OPML file, or stdin for "-".
func readOPML(file string, stdin io.Reader) ([]sources.OPMLFeed, error) {
	var r io.Reader = stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxOPMLBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(data) > maxOPMLBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB; is it an OPML file?", file, maxOPMLBytes>>20)
	}
	feeds, err := sources.ParseOPML(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return feeds, nil
}

// planImport validates each feed as `sources add` does and marks those to
// skip: no URL, not http(s), a URL some source has, one listed before, a
// bad interval. fixed says every is the --interval flag, which wins over
// the file's.
func planImport(feeds []sources.OPMLFeed, existing []digest.Source, every time.Duration, fixed, checked bool) []*importEntry {
	have := make(map[string]string, len(existing)) // URL key → source name
	for _, s := range existing {
		have[urlKey(s.URL)] = s.Name
	}
	listed := map[string]int{} // URL key → entry number, 1-based
	entries := make([]*importEntry, len(feeds))
	for i, f := range feeds {
		e := &importEntry{feed: f, url: f.URL, interval: every}
		entries[i] = e
		key := urlKey(f.URL)
		switch {
		case f.URL == "":
			e.skip, e.detail = skipNoURL, "the outline has no xmlUrl"
		case checkHTTPURL(f.URL) != nil:
			e.skip, e.detail = skipNotHTTP, "not an absolute http:// or https:// URL"
		case !checked && checkPublicHost(f.URL) != nil:
			// Without --check nothing would refuse it before its first poll.
			e.skip, e.detail = skipPrivate, checkPublicHost(f.URL).Error()
		case have[key] != "":
			e.skip, e.detail = skipExisting, fmt.Sprintf("already a source (%s)", have[key])
		case listed[key] > 0:
			e.skip, e.detail = skipRepeated, fmt.Sprintf("listed before, as entry %d", listed[key])
		case f.Interval != "" && !fixed:
			d, err := parseDuration(f.Interval, time.Minute, 7*24*time.Hour)
			if err != nil {
				e.skip, e.detail = skipInterval, fmt.Sprintf("briefbot:interval: %v (or give --interval)", err)
			}
			e.interval = d
		}
		if e.skip == "" {
			listed[key] = i + 1
		}
	}
	return entries
}

// urlKey is the form of a feed URL that duplicates share: scheme and host
// in lower case.
func urlKey(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return strings.TrimSpace(raw)
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u.String()
}

// checkImports fetches and parses the feeds to add with the SSRF guard of
// `sources add`, at most 8 (and fetch.concurrency) at a time, and skips
// those that fail.
func (a *app) checkImports(ctx context.Context, cfg *Config, store *sqlstore.Store, entries []*importEntry) error {
	log, err := a.logger()
	if err != nil {
		return err
	}
	poller, err := newPoller(ctx, cfg, store, log, a.now)
	if err != nil {
		return err
	}
	if n := countToAdd(entries); n > 1 {
		fmt.Fprintf(a.stderr, "checking %d feeds...\n", n)
	}
	return checkFeeds(ctx, entries, max(1, min(cfg.Fetch.Concurrency, 8)), func(ctx context.Context, url string) (string, error) {
		feed, err := poller.Check(ctx, url, false)
		if err != nil {
			return "", err
		}
		return feed.Title, nil
	})
}

// checkFeeds runs check on the URL of each entry to add, limit at a time,
// and skips the entries it fails; the others keep the feed title it
// returns. It returns when every check has, with ctx's error if ctx
// ended.
func checkFeeds(ctx context.Context, entries []*importEntry, limit int, check func(ctx context.Context, url string) (title string, err error)) error {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, e := range entries {
		if e.skip != "" {
			continue
		}
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				e.skip, e.detail = skipCheck, "not checked: "+ctx.Err().Error()
				return
			}
			defer func() { <-sem }()
			title, err := check(ctx, e.url)
			if err != nil {
				e.skip, e.detail = skipCheck, "not a usable feed: "+err.Error()
				return
			}
			e.checked = title
		})
	}
	wg.Wait()
	return ctx.Err()
}

// countToAdd counts the entries not skipped.
func countToAdd(entries []*importEntry) int {
	n := 0
	for _, e := range entries {
		if e.skip == "" {
			n++
		}
	}
	return n
}

// nameImports names the feeds to add: the outline's text or title if it
// is a valid source name, else one made of it (or of the feed's title, or
// its host), with a -2, -3... suffix when another source or entry has it.
func nameImports(entries []*importEntry, existing []digest.Source) {
	taken := make(map[string]bool, len(existing)+len(entries))
	for _, s := range existing {
		taken[s.Name] = true
	}
	for _, e := range entries {
		if e.skip != "" {
			continue
		}
		title := e.feed.Title
		if title == "" {
			title = e.checked
		}
		e.name = uniqueName(importName(title, e.url), taken)
		taken[e.name] = true
	}
}

// importName makes a source name of an outline's title: the title itself
// when it is a valid name (so an export imports back as it was), else
// suggestName of it, else of the URL's host (a title with no letters a-z).
func importName(title, raw string) string {
	if t := strings.TrimSpace(title); sourceNamePattern.MatchString(t) {
		return t
	}
	name := suggestName(title, raw)
	if name == "source" && title != "" {
		name = suggestName("", raw)
	}
	return name
}

// uniqueName returns name, or name-2, name-3... whichever is not taken,
// within the 64 characters of a source name.
func uniqueName(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	for i := 2; ; i++ {
		suffix := fmt.Sprintf("-%d", i)
		base := name
		if len(base)+len(suffix) > 64 {
			base = strings.TrimRight(base[:64-len(suffix)], "-._")
		}
		if !taken[base+suffix] {
			return base + suffix
		}
	}
}

// addImports stores the feeds to add, in order. A source added meanwhile
// with the same name or URL skips its entry.
func (a *app) addImports(ctx context.Context, store *sqlstore.Store, entries []*importEntry) error {
	for _, e := range entries {
		if e.skip != "" {
			continue
		}
		_, err := store.AddSource(ctx, digest.Source{
			Name: e.name, URL: e.url, Interval: e.interval, Origin: digest.OriginCLI, CreatedAt: a.now(),
		})
		if errors.Is(err, digest.ErrExists) {
			e.skip, e.detail = skipConflicts, fmt.Sprintf("a source named %s or with this URL was added meanwhile", e.name)
			continue
		}
		if err != nil {
			return fmt.Errorf("import %s: %w", e.name, err)
		}
	}
	return nil
}

// writeImportReport writes a line per entry and the summary.
func writeImportReport(w io.Writer, file string, entries []*importEntry, dryRun bool) error {
	verb := "added"
	if dryRun {
		verb = "would add"
	}
	var added int
	skipped := map[string]int{}
	var order []string
	for _, e := range entries {
		if e.skip == "" {
			added++
			line := fmt.Sprintf("%s %s %s (every %s)", verb, e.name, redact(e.url), shortDuration(e.interval))
			if len(e.feed.Folders) > 0 {
				line += " from " + strings.Join(e.feed.Folders, " / ")
			}
			fmt.Fprintln(w, line)
			continue
		}
		if skipped[e.skip] == 0 {
			order = append(order, e.skip)
		}
		skipped[e.skip]++
		what := fmt.Sprintf("%q", e.feed.Title)
		if e.url != "" {
			what += " " + redact(e.url)
		}
		fmt.Fprintf(w, "skipped %s: %s\n", what, e.detail)
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintf(w, "%s lists no feeds; nothing to import\n", file)
		return err
	}
	summary := fmt.Sprintf("%s %d, skipped %d", verb, added, len(entries)-added)
	if len(order) > 0 {
		var parts []string
		for _, reason := range order {
			parts = append(parts, fmt.Sprintf("%d %s", skipped[reason], reason))
		}
		summary += " (" + strings.Join(parts, ", ") + ")"
	}
	if dryRun {
		summary += "; dry run, nothing stored"
	} else if added > 0 {
		summary += "; run `briefbot fetch` to poll them now"
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

func (a *app) sourcesExportCommand() *cobra.Command {
	var withCredentials bool
	cmd := &cobra.Command{
		Use:   "export [FILE]",
		Short: "Write every source as an OPML 2.0 subscription list, to standard output or FILE",
		Long: `Write every source (from the config file, the command line and Discord) as
an OPML 2.0 file that feed readers and ` + "`briefbot sources import`" + ` read: one
outline per source, named after it, with its poll interval as
briefbot:interval. User names and passwords in source URLs are left out
unless --with-credentials is given. FILE is replaced whole, or not at all.`,
		Example: "  briefbot sources export > feeds.opml\n  briefbot sources export backup.opml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ *Config, store *sqlstore.Store) error {
				srcs, err := store.Sources(ctx)
				if err != nil {
					return err
				}
				feeds := make([]sources.OPMLFeed, len(srcs))
				var hidden []string
				for i, s := range srcs {
					u := s.URL
					if !withCredentials {
						var stripped bool
						if u, stripped = stripUserinfo(u); stripped {
							hidden = append(hidden, s.Name)
						}
					}
					feeds[i] = sources.OPMLFeed{Title: s.Name, URL: u, Interval: shortDuration(s.Interval)}
				}
				if len(hidden) > 0 {
					fmt.Fprintf(a.stderr, "briefbot: warning: the credentials in the URLs of %s are left out; --with-credentials keeps them\n", strings.Join(hidden, ", "))
				}
				if len(srcs) == 0 {
					fmt.Fprintln(a.stderr, "briefbot: warning: there are no sources to export")
				}
				write := func(w io.Writer) error {
					return sources.WriteOPML(w, "briefbot sources", a.now(), feeds)
				}
				if len(args) == 0 || args[0] == "-" {
					return write(a.stdout)
				}
				mode := os.FileMode(0o644)
				if withCredentials {
					mode = 0o600
				}
				if err := writeFileAtomic(args[0], mode, write); err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "exported %s to %s\n", plural(len(srcs), "source"), args[0])
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&withCredentials, "with-credentials", false, "keep user names and passwords in source URLs (the file is then readable by its owner only)")
	return cmd
}

// stripUserinfo returns raw without its user name and password, and
// whether it had any. A URL that does not parse loses everything between
// "://" and its last '@', as redact hides it.
func stripUserinfo(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err == nil {
		if u.User == nil {
			return raw, false
		}
		u.User = nil
		return u.String(), true
	}
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw, false
	}
	if at := strings.LastIndex(raw[i+3:], "@"); at >= 0 {
		return raw[:i+3] + raw[i+3+at+1:], true
	}
	return raw, false
}

// shortDuration writes d as time.ParseDuration reads it, without zero
// minutes and seconds: "15m", "1h", "1h30m".
func shortDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// writeFileAtomic writes a file through write, in a temporary file next to
// it renamed into place, so a failure leaves any old file as it was.
func writeFileAtomic(path string, mode os.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

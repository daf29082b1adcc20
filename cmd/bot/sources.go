package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"
)

func (a *app) sourcesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sources",
		Short: "List, add, remove, re-enable, import and export news sources",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(a.sourcesListCommand(), a.sourcesAddCommand(), a.sourcesRemoveCommand(), a.sourcesEnableCommand(),
		a.sourcesImportCommand(), a.sourcesExportCommand())
	return cmd
}

func (a *app) sourcesListCommand() *cobra.Command {
	return a.listCommand("List sources with their fetch state", func(ctx context.Context, store *sqlstore.Store, format string) error {
		srcs, err := store.Sources(ctx)
		if err != nil {
			return err
		}
		if format == "json" {
			type row struct {
				Name        string    `json:"name"`
				URL         string    `json:"url"`
				Interval    string    `json:"interval"`
				Origin      string    `json:"origin"`
				State       string    `json:"state"`
				Failures    int       `json:"failures"`
				LastSuccess time.Time `json:"last_success"`
				NextPoll    time.Time `json:"next_poll"`
				LastError   string    `json:"last_error,omitempty"`
			}
			rows := make([]row, len(srcs))
			for i, s := range srcs {
				rows[i] = row{s.Name, redact(s.URL), s.Interval.String(), string(s.Origin), sourceState(s), s.State.Failures, s.State.LastSuccess, s.State.NextPoll, s.State.LastError}
			}
			return writeJSON(a.stdout, rows)
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tINTERVAL\tORIGIN\tLAST SUCCESS\tURL\tLAST ERROR")
		for _, s := range srcs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, sourceState(s), orDash(shortDuration(s.Interval)), s.Origin,
				ago(a.now(), s.State.LastSuccess), redact(s.URL), truncate(s.State.LastError, 80))
		}
		return tw.Flush()
	})
}

func sourceState(s digest.Source) string {
	switch {
	case s.State.Disabled:
		return "disabled"
	case s.State.Failures > 0:
		return fmt.Sprintf("failing(%d)", s.State.Failures)
	case s.State.LastSuccess.IsZero():
		return "new"
	default:
		return "ok"
	}
}

func (a *app) sourcesAddCommand() *cobra.Command {
	var name, interval string
	var noCheck bool
	cmd := &cobra.Command{
		Use:   "add URL",
		Short: "Add a feed (RSS, Atom or JSON Feed) after checking that it parses",
		Long: `Add a feed. briefbot fetches and parses it first and refuses what is not a
feed. Sources added here may not point at private, loopback or link-local
addresses; put intranet feeds in the config file with allow_private: true.`,
		Example: "  briefbot sources add https://www.nknews.org/feed/ --name nknews --interval 30m",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, store, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer store.Close()
			raw := strings.TrimSpace(args[0])
			if err := checkHTTPURL(raw); err != nil {
				return err
			}
			every := cfg.Fetch.interval
			if interval != "" {
				if every, err = parseDuration(interval, time.Minute, 7*24*time.Hour); err != nil {
					return fmt.Errorf("--interval: %w", err)
				}
			}
			title := ""
			if noCheck {
				// The dial-time guard would refuse it at every poll: say
				// so now for what the URL alone shows.
				if err := checkPublicHost(raw); err != nil {
					return fmt.Errorf("%s is not allowed: %v", redact(raw), err)
				}
			} else {
				log, err := a.logger()
				if err != nil {
					return err
				}
				poller, err := newPoller(ctx, cfg, store, log, a.now)
				if err != nil {
					return err
				}
				feed, err := poller.Check(ctx, raw, false)
				if err != nil {
					return fmt.Errorf("%s is not a usable feed: %w", redact(raw), err)
				}
				title = feed.Title
				fmt.Fprintf(a.stdout, "checked %s: %q, %s\n", redact(raw), feed.Title, plural(len(feed.Items), "item"))
			}
			if name == "" {
				name = suggestName(title, raw)
			}
			if !sourceNamePattern.MatchString(name) {
				return fmt.Errorf("bad --name %q: use 1-64 lower-case letters, digits, '.', '_' or '-'", name)
			}
			src, err := store.AddSource(ctx, digest.Source{
				Name: name, URL: raw, Interval: every, Origin: digest.OriginCLI, CreatedAt: a.now(),
			})
			if errors.Is(err, digest.ErrExists) {
				return fmt.Errorf("a source with the name %q or this URL already exists (see `briefbot sources list`; pick another --name)", name)
			} else if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "added source %s (%s, every %s); run `briefbot fetch --source %s` to poll it now\n", src.Name, redact(src.URL), shortDuration(src.Interval), src.Name)
			return err
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "short name for the source (default: derived from the feed title or host)")
	cmd.Flags().StringVar(&interval, "interval", "", "how often to poll, e.g. 15m or 1h (default: fetch.interval, 15m)")
	cmd.Flags().BoolVar(&noCheck, "no-check", false, "add without fetching the feed first")
	return cmd
}

// checkPublicHost refuses a URL whose host is, as written, a private,
// loopback or otherwise non-public address, or a localhost name, in the
// words of the guard that would refuse it when connecting. Names that
// resolve to such addresses are left to that guard.
func checkPublicHost(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // checkHTTPURL reports it
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("refusing to connect to %s: loopback name (allowed only for operator sources with allow_private: true)", host)
	}
	ip, ok := sources.HostAddr(host)
	if !ok {
		return nil
	}
	if err := sources.CheckAddr(ip); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "sources: "))
	}
	return nil
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// suggestName derives a source name from the feed title, else the host.
// Latin letters lose their accents ("Hürriyet" is hurriyet); other
// letters are dropped.
func suggestName(title, raw string) string {
	base := title
	if base == "" {
		if u, err := url.Parse(raw); err == nil {
			base = strings.TrimPrefix(u.Hostname(), "www.")
		}
	}
	name := strings.Trim(nonName.ReplaceAllString(asciiFold(strings.ToLower(base)), "-"), "-")
	if len(name) > 40 {
		name = strings.Trim(name[:40], "-")
	}
	if name == "" {
		name = "source"
	}
	return name
}

// foldLetters spells letters that do not decompose into a base letter
// and accents.
var foldLetters = strings.NewReplacer("ı", "i", "ø", "o", "æ", "ae", "œ", "oe", "ß", "ss", "đ", "d", "ł", "l", "þ", "th", "ð", "d", "ħ", "h")

// asciiFold removes the accents of letters: compatibility decomposition,
// combining marks dropped.
func asciiFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(foldLetters.Replace(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (a *app) sourcesRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a source (its stored articles are kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg *Config, store *sqlstore.Store) error {
				src, err := a.findSource(cmd, store, args[0])
				if err != nil {
					return err
				}
				if src.Origin == digest.OriginConfig {
					return configOwned("source", src.Name, cfg)
				}
				if err := store.RemoveSource(ctx, src.Name); err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "removed source %s; its articles are kept\n", src.Name)
				return err
			})
		},
	}
}

func (a *app) sourcesEnableCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "enable NAME",
		Short: "Re-enable a source disabled after repeated failures, and poll it at the next fetch",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, _ *Config, store *sqlstore.Store) error {
				src, err := a.findSource(cmd, store, args[0])
				if err != nil {
					return err
				}
				st := src.State
				if !st.Disabled && st.Failures == 0 {
					_, err = fmt.Fprintf(a.stdout, "source %s is not disabled; nothing to do\n", src.Name)
					return err
				}
				msg := fmt.Sprintf("enabled source %s; the next fetch polls it", src.Name)
				if !st.Disabled {
					msg = fmt.Sprintf("source %s was not disabled; reset its %s, so the next fetch polls it", src.Name, plural(st.Failures, "failure"))
				}
				st.Disabled, st.Failures, st.NextPoll = false, 0, time.Time{}
				if err := store.SaveFetchState(ctx, src.ID, st); err != nil {
					return err
				}
				_, err = fmt.Fprintln(a.stdout, msg)
				return err
			})
		},
	}
}

func (a *app) findSource(cmd *cobra.Command, store digest.Store, name string) (digest.Source, error) {
	src, err := store.Source(cmd.Context(), name)
	if errors.Is(err, digest.ErrNotFound) {
		all, _ := store.Sources(cmd.Context())
		return src, fmt.Errorf("no source named %q: %s", name, knownNames(all))
	}
	return src, err
}

// redact hides credentials in a URL: the userinfo of one that parses,
// and of one that does not (a password with an unescaped '#', '/' or '?'
// breaks parsing) everything between "://" and the last '@'.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err == nil {
		if u.User == nil {
			return raw
		}
		u.User = url.User("xxxxx")
		return u.String()
	}
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	if at := strings.LastIndex(raw[i+3:], "@"); at >= 0 {
		return raw[:i+3] + "xxxxx" + raw[i+3+at:]
	}
	return raw
}

// ago says how long before now t was, for people: "just now", "5m ago",
// "3h ago", "2d ago", or "never" for the zero time.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return "never"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", d/time.Hour)
	default:
		return fmt.Sprintf("%dd ago", d/(24*time.Hour))
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sources"
	"github.com/spf13/cobra"
)

// inputArticle is one article read by `briefbot summarize`.
type inputArticle struct {
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	Text      string    `json:"text"`
	Outlet    string    `json:"outlet"`
	Published time.Time `json:"published"`
}

func (a *app) summarizeCommand() *cobra.Command {
	var flags briefFlags
	cmd := &cobra.Command{
		Use:   "summarize",
		Short: "Print a briefing of articles read as JSON from stdin",
		Long: `Read articles from stdin, as a JSON array or JSON lines of
{"title", "url", "text", "outlet", "published"}, and print their briefing:
stories, headlines, cited bullets. No database, no fetching: for scripts and
evaluation. Each article needs a title or a text; url must be http(s) when
given; published is RFC 3339 when given.`,
		Example: `  jq -c '.[]' articles.json | briefbot summarize --format json --max-words 60`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			articles, err := readArticles(cmd.InOrStdin(), a.now())
			if err != nil {
				return err
			}
			log, err := a.logger()
			if err != nil {
				return err
			}
			cfg, err := loadConfig(a.configPath, a.getenv)
			if err != nil {
				return err
			}
			b, err := a.builder(cfg, nil, log)
			if err != nil {
				return err
			}
			br, err := b.Build(cmd.Context(), digest.Selection{}, articles, a.briefOptions(cfg, flags))
			if err != nil {
				return err
			}
			return render(a.stdout, br, flags.format, a.now())
		},
	}
	flags.register(cmd)
	cmd.Flags().IntVar(&flags.maxWords, "max-words", 0, "words per story, all bullets together (default 80)")
	return cmd
}

// readArticles reads a JSON array or JSON lines of articles and turns
// them into cleaned, identified articles, with wire copies linked.
func readArticles(r io.Reader, now time.Time) (articles []digest.Article, err error) {
	const maxInput = 64 << 20
	lr := &io.LimitedReader{R: r, N: maxInput + 1}
	br := bufio.NewReader(lr)
	defer func() {
		if lr.N <= 0 && err == nil {
			articles, err = nil, errors.New("stdin: input exceeds 64 MiB; summarize fewer articles at a time")
		}
	}()
	first, err := peekNonSpace(br)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if first == '[' {
		if err := json.NewDecoder(br).Decode(&raws); err != nil {
			if lr.N <= 0 {
				return nil, errors.New("stdin: input exceeds 64 MiB; summarize fewer articles at a time")
			}
			return nil, fmt.Errorf("stdin: not a JSON array of articles: %w", err)
		}
	} else {
		dec := json.NewDecoder(br)
		for n := 1; ; n++ {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("stdin: article %d: not JSON: %w", n, err)
			}
			raws = append(raws, raw)
		}
	}
	in := make([]inputArticle, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &in[i]); err != nil {
			var te *time.ParseError
			if errors.As(err, &te) {
				return nil, fmt.Errorf("stdin: article %d: bad published %q: want RFC 3339, e.g. 2026-03-02T08:00:00Z", i+1, te.Value)
			}
			return nil, fmt.Errorf("stdin: article %d: not an object of {title, url, text, outlet, published}: %w", i+1, err)
		}
	}
	if len(in) == 0 {
		return nil, errors.New("stdin: no articles: give a JSON array or JSON lines of {title, url, text, outlet, published}")
	}
	out := make([]digest.Article, 0, len(in))
	for i, ia := range in {
		art, err := toArticle(ia, now)
		if err != nil {
			return nil, fmt.Errorf("stdin: article %d: %w", i+1, err)
		}
		if slices.ContainsFunc(out, func(p digest.Article) bool { return p.ID == art.ID }) {
			continue // the same article twice
		}
		for _, prev := range out {
			if digest.IsNearDuplicate(art.Signature, prev.Signature) {
				art.DuplicateOf = prev.ID
				if prev.DuplicateOf != "" {
					art.DuplicateOf = prev.DuplicateOf
				}
				break
			}
		}
		out = append(out, art)
	}
	return out, nil
}

func toArticle(ia inputArticle, now time.Time) (digest.Article, error) {
	a := digest.Article{
		Title:      strings.Join(strings.Fields(ia.Title), " "),
		Text:       sources.Clean(ia.Text),
		Outlet:     strings.TrimSpace(ia.Outlet),
		Published:  ia.Published,
		Fetched:    now,
		TextOrigin: digest.TextFromFeed,
	}
	if a.Title == "" && a.Text == "" {
		return a, errors.New("needs a title or a text")
	}
	if ia.URL != "" {
		u, err := sources.CanonicalURL(ia.URL)
		if err != nil {
			return a, fmt.Errorf("bad url %q: want an absolute http(s) URL", ia.URL)
		}
		a.URL = u
	}
	if a.Outlet == "" {
		a.Outlet = "unknown"
		if u, err := url.Parse(a.URL); err == nil && u.Host != "" {
			a.Outlet = strings.TrimPrefix(u.Hostname(), "www.")
		}
	}
	if a.Published.IsZero() {
		a.Published = now
	}
	if a.Text == "" {
		a.TextOrigin = digest.TextTitleOnly
	}
	a.ContentHash = digest.ContentHash(a.Title, a.Text)
	a.ID = digest.ArticleID(a.URL, "", "", a.ContentHash)
	a.Signature = digest.Sign(a.Text)
	return a, nil
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("stdin: no articles: give a JSON array or JSON lines of {title, url, text, outlet, published}")
			}
			return 0, fmt.Errorf("stdin: %w", err)
		}
		if !bytes.ContainsAny(b, " \t\r\n") {
			return b[0], nil
		}
		if _, err := br.ReadByte(); err != nil {
			return 0, err
		}
	}
}

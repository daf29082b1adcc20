package sources

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func parseFixture(t *testing.T, name, contentType string) (*Feed, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return Parse("https://feeds.example.org/"+name, contentType, bytes.NewReader(data))
}

func TestParse(t *testing.T) {
	tests := []struct {
		file        string
		contentType string
		want        Feed
	}{
		{
			file: "rss2.xml",
			want: Feed{Title: "Example Wire & Co", Link: "https://news.example.org/", Format: "rss", Items: []Item{
				{GUID: "wire-1001", Link: "https://news.example.org/world/envoys-meet?utm_source=rss&utm_medium=feed", Title: "Envoys meet again as talks stall",
					HTML:   "<p>Negotiators from both sides met for a third day on Monday.</p><p>Credit: Jane Doe via AP</p><p>No agreement was announced.</p>",
					Author: "A. Reporter", Published: time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC)},
				{GUID: "https://news.example.org/markets/steady/", Link: "https://news.example.org/markets/steady/", Title: "Markets steady after rate decision", HTML: "Stocks were little changed."},
				{GUID: "wire-1003", Title: "Item without a link", HTML: "Only a guid identifies this one."},
			}},
		},
		{
			file: "atom.xml",
			want: Feed{Title: "Atom Example", Link: "https://atom.example.net/", Format: "atom", Items: []Item{
				{GUID: "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", Link: "https://atom.example.net/blog/posts/summit-ends", Title: "Summit ends without a deal", HTML: "Leaders left early.",
					Published: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Updated: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)},
			}},
		},
		{
			file: "rss1.rdf",
			want: Feed{Title: "RDF Example", Link: "https://rdf.example.com/", Format: "rss", Items: []Item{
				{Link: "https://rdf.example.com/a", Title: "First RDF item", HTML: "Text of the first item.", Published: time.Date(2026, 2, 28, 9, 0, 0, 0, time.UTC), Updated: time.Date(2026, 2, 28, 9, 0, 0, 0, time.UTC)},
			}},
		},
		{
			file: "feed.json",
			want: Feed{Title: "JSON Example", Link: "https://json.example.com/", Format: "json", Items: []Item{
				{GUID: "j1", Link: "https://json.example.com/j1#comments", Title: "JSON item one", HTML: "<p>Body of item one.</p>", Published: time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC)},
				{GUID: "j2", Title: "JSON item two", HTML: "Plain text body."},
			}},
		},
		{
			file: "latin1-undeclared.xml",
			want: Feed{Title: "Café Nouvelles", Link: "https://latin.example.fr/", Format: "rss", Items: []Item{
				{Link: "https://latin.example.fr/cafe", Title: "Le café de la gare rouvre", HTML: "Déjà ouvert."},
			}},
		},
		{
			file: "cp1251.xml",
			want: Feed{Title: "Новости", Link: "https://ru.example.org/", Format: "rss", Items: []Item{
				{Link: "https://ru.example.org/1", Title: "Привет"},
			}},
		},
		{
			file: "bom.xml",
			want: Feed{Title: "BOM Feed", Link: "https://bom.example.org/", Format: "rss", Items: []Item{
				{Link: "https://bom.example.org/1", Title: "After the BOM"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseFixture(t, tt.file, tt.contentType)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRejectsNonFeeds(t *testing.T) {
	tests := []struct {
		file string
		want string // part of the message
	}{
		{"empty.xml", "empty"},
		{"page.html", "HTML page"},
		{"notfeed.xml", "no RSS, Atom or JSON Feed"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := parseFixture(t, tt.file, "")
			if !errors.Is(err, ErrNotFeed) {
				t.Fatalf("Parse error = %v, want ErrNotFeed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestParseInvalidXML(t *testing.T) {
	feed, err := parseFixture(t, "invalid.xml", "")
	if err == nil && len(feed.Items) > 0 {
		t.Fatalf("Parse of truncated XML returned %d items", len(feed.Items))
	}
}

func TestParseCharsetFromContentType(t *testing.T) {
	body := "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>\xf7\xc5\xd3\xd4\xc9</title><link>https://koi.example.org/</link><item><title>\xf0\xd2\xc9\xd7\xc5\xd4</title><link>https://koi.example.org/1</link></item></channel></rss>"
	got, err := Parse("https://koi.example.org/feed", "application/rss+xml; charset=KOI8-R", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Вести" || got.Items[0].Title != "Привет" {
		t.Errorf("titles = %q, %q; want Вести, Привет", got.Title, got.Items[0].Title)
	}
}

func TestParseManyItems(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<rss version="2.0"><channel><title>Big</title><link>https://big.example.org/</link>`)
	for i := range 5000 {
		b.WriteString("<item><title>Item ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("</title><link>https://big.example.org/")
		b.WriteString(time.Duration(i).String())
		b.WriteString("</link></item>")
	}
	b.WriteString(`</channel></rss>`)
	got, err := Parse("https://big.example.org/feed", "", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 5000 {
		t.Errorf("got %d items, want 5000", len(got.Items))
	}
}

// TestParseCorpus walks the shared corpus of real-world feeds through the
// same parse path the bot uses for HTTP bodies.
func TestParseCorpus(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "corpora", "feeds")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("feed corpus not present at %s: %v", root, err)
	}
	itemsGuess := corpusItemsGuess(t, filepath.Join(root, "MANIFEST.tsv"))
	var parsed, failed int
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".md") || strings.HasSuffix(path, ".tsv") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		feed, err := Parse("https://corpus.example.org/"+filepath.ToSlash(rel), "", bytes.NewReader(data))
		if err != nil {
			failed++
			if !errors.Is(err, ErrNotFeed) {
				t.Errorf("%s: error does not wrap ErrNotFeed: %v", rel, err)
			}
			t.Logf("failed %s: %v", rel, err)
			return nil
		}
		parsed++
		if itemsGuess[filepath.ToSlash(rel)] > 0 && len(feed.Items) == 0 {
			t.Errorf("%s: parsed no items, the manifest guesses %d", rel, itemsGuess[filepath.ToSlash(rel)])
		}
		for _, it := range feed.Items {
			if !utf8.ValidString(it.Title) || strings.Contains(it.Title, "&amp;") || strings.Contains(it.Title, "&lt;") {
				t.Errorf("%s: bad title %q", rel, it.Title)
			}
			if it.Link != "" && !strings.HasPrefix(it.Link, "http://") && !strings.HasPrefix(it.Link, "https://") {
				t.Errorf("%s: link not absolute: %q", rel, it.Link)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus: %d parsed, %d failed", parsed, failed)
}

// corpusItemsGuess reads the manifest's items_guess column by path.
func corpusItemsGuess(t *testing.T, path string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("no manifest: %v", err)
		return nil
	}
	guess := map[string]int{}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for _, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) < 7 {
			continue
		}
		n, _ := strconv.Atoi(f[6])
		guess[f[0]] = n
	}
	return guess
}

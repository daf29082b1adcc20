package sources

import (
	"bytes"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// fuzzAddFiles calls add with the contents of every file under root, in walk
// order. It does nothing when root is absent, so a fresh clone without
// the shared corpora still runs the seeds of its own.
func fuzzAddFiles(root string, add func(data []byte)) {
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if data, err := os.ReadFile(path); err == nil {
			add(data)
		}
		return nil
	})
}

// fuzzCorpora reports whether to seed from the shared corpora: always
// when fuzzing, and in plain go test runs unless -short or the race
// detector (which makes the hundreds of corpus seeds ten times slower).
func fuzzCorpora() bool {
	return fuzzing() || (!testing.Short() && !raceEnabled())
}

// fuzzing reports whether the test binary runs with -fuzz.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// fuzzCheckText fails t when s, a field of a parsed feed or page, is not
// valid UTF-8 or holds a NUL (which PostgreSQL refuses in text), or, for
// a one-line field, holds a line break or surrounding space.
func fuzzCheckText(t *testing.T, what, s string, oneLine bool) {
	t.Helper()
	switch {
	case !utf8.ValidString(s):
		t.Fatalf("%s %q: invalid UTF-8", what, s)
	case strings.ContainsRune(s, 0):
		t.Fatalf("%s %q: holds a NUL", what, s)
	case oneLine && (strings.ContainsAny(s, "\r\n") || s != strings.TrimSpace(s)):
		t.Fatalf("%s %q: not one trimmed line", what, s)
	}
}

// fuzzCheckLink fails t unless link is empty or an absolute http(s) URL
// with a host.
func fuzzCheckLink(t *testing.T, what, link string) {
	t.Helper()
	if link == "" {
		return
	}
	fuzzCheckText(t, what, link, true)
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		t.Fatalf("%s %q: not an absolute http(s) URL with a host (%v)", what, link, err)
	}
}

// FuzzParse parses arbitrary documents as feeds: every error wraps
// ErrNotFeed, and a parsed feed's text is valid UTF-8 without NULs, its
// titles and authors are single lines, its links are absolute http(s)
// URLs or empty, its times are UTC, and parsing is deterministic.
// Seeds: testdata/feeds, a few documents of its own, and every file of the
// shared feed corpus (../shared/corpora/feeds) when it is present (see
// fuzzCorpora).
func FuzzParse(f *testing.F) {
	fuzzAddFiles(filepath.Join("testdata", "feeds"), func(data []byte) {
		f.Add(data, "")
	})
	f.Add([]byte("\xff\xfe<\x00r\x00s\x00s\x00>\x00"), "text/xml; charset=utf-16")
	for _, s := range []string{
		`<rss version="2.0"><channel><title>T</title><link>/home</link><item><title>a &amp; <b>b</b></title><link>../x?a=1#f</link><guid>g</guid><pubDate>Mon, 02 Mar 2026 09:00:00 +0900</pubDate></item><item><guid>https://example.org/by-guid</guid></item><item><link>javascript:alert(1)</link></item></channel></rss>`,
		`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.org/blog/"><title type="html">&lt;i&gt;A&lt;/i&gt;</title><entry><title>E</title><link href="post/1"/><link rel="alternate" href="http:opaque"/><updated>2026-03-02T09:00:00Z</updated><content type="html">&lt;p&gt;x&lt;/p&gt;</content></entry></feed>`,
		`{"version":"https://jsonfeed.org/version/1.1","title":"J\u0000","home_page_url":"//cdn.example.org/","items":[{"id":"1\u0000","url":"/a","title":"a\nb","content_html":"<p>\u0000</p>","authors":[{"name":" x\ty "}],"date_published":"2026-03-02T09:00:00+09:00"}]}`,
		`<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><item><title>` + "\xcf\xf0\xe8" + `</title></item></channel></rss>`,
		`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel><title>R</title></channel><item><title>i</title><link>http://[::1]:80/</link></item></rdf:RDF>`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "application/xml; charset=iso-8859-1")
	}
	if fuzzCorpora() {
		fuzzAddFiles(filepath.Join(corpusRoot, "feeds"), func(data []byte) {
			f.Add(data, "")
		})
	}
	f.Fuzz(func(t *testing.T, data []byte, contentType string) {
		feed, err := Parse("https://fuzz.example.org/feeds/feed.xml", contentType, bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotFeed) {
				t.Fatalf("error %v does not wrap ErrNotFeed", err)
			}
			return
		}
		switch feed.Format {
		case "rss", "atom", "json":
		default:
			t.Fatalf("format %q", feed.Format)
		}
		fuzzCheckText(t, "feed title", feed.Title, true)
		fuzzCheckLink(t, "feed link", feed.Link)
		for i, it := range feed.Items {
			fuzzCheckText(t, "GUID", it.GUID, false)
			fuzzCheckText(t, "title", it.Title, true)
			fuzzCheckText(t, "author", it.Author, true)
			fuzzCheckText(t, "HTML", it.HTML, false)
			fuzzCheckLink(t, "item link", it.Link)
			for _, tm := range []time.Time{it.Published, it.Updated} {
				if !tm.IsZero() && tm.Location() != time.UTC {
					t.Fatalf("item %d: time %v not in UTC", i, tm)
				}
			}
			if it.Published.IsZero() && !it.Updated.IsZero() {
				t.Fatalf("item %d: no Published though Updated is %v", i, it.Updated)
			}
		}
		again, err := Parse("https://fuzz.example.org/feeds/feed.xml", contentType, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("second parse: %v", err)
		}
		if diff := cmp.Diff(again, feed); diff != "" {
			t.Fatalf("second parse differs (-got +want):\n%s", diff)
		}
	})
}

// FuzzExtractPage extracts arbitrary HTML pages: an error, or a page whose
// text is non-empty, valid UTF-8 without NULs and already clean (Clean
// leaves it as it is), whose title is one line, and whose canonical URL
// is empty or a canonical http(s) URL; extraction is deterministic.
// Seeds: small pages of its own, testdata/clean/page.html and the source
// page of every case of the shared readability corpus
// (../shared/corpora/readability/*/source.html) when it is present and
// the target is fuzzed.
func FuzzExtractPage(f *testing.F) {
	for _, s := range []string{
		"",
		"<p>only a paragraph</p>",
		`<html><head><title>T | Site</title><link rel="canonical" href="/news/a?utm_source=x#top"></head><body><article><h1>T</h1><p>` +
			strings.Repeat("A sentence of the story that goes on for a while. ", 12) + `</p><div class="share">Share</div></article></body></html>`,
		`<html><head><meta charset="windows-1252"><link rel=CANONICAL href="javascript:x"></head><body><div id="content"><p>Caf` + "\xe9 \x80" + ` au lait.</p></div></body></html>`,
		`<html><head><link rel="canonical" href="https://other.example.net/"></head><body><main><p>` + strings.Repeat("Zero\u200bwidth\u00a0and\x00NUL text. ", 20) + `</p></main></body></html>`,
		`<body><table><tr><td><p>` + strings.Repeat("cell text, ", 50) + `</p></td></tr></table><script>var x = "<p>no</p>";</script></body>`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "text/html; charset=utf-8")
	}
	if data, err := os.ReadFile(filepath.Join("testdata", "clean", "page.html")); err == nil {
		f.Add(data, "text/html")
	}
	// Only when fuzzing: extracting the 130 pages twice takes 7 s, and
	// TestExtractionQuality extracts them in every go test run already.
	if dirs, err := os.ReadDir(filepath.Join(corpusRoot, "readability")); err == nil && fuzzing() {
		for _, d := range dirs {
			if data, err := os.ReadFile(filepath.Join(corpusRoot, "readability", d.Name(), "source.html")); err == nil {
				f.Add(data, "")
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		const pageURL = "https://fuzz.example.org/news/2026/story.html"
		page, err := ExtractPage(pageURL, contentType, body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if page.Text == "" {
			t.Fatal("a page without text")
		}
		fuzzCheckText(t, "text", page.Text, false)
		fuzzCheckText(t, "title", page.Title, true)
		if again := Clean(page.Text); again != page.Text {
			t.Fatalf("text is not clean:\n  text: %q\n clean: %q", page.Text, again)
		}
		if page.Canonical != "" {
			fuzzCheckLink(t, "canonical", page.Canonical)
			if c, err := CanonicalURL(page.Canonical); err != nil || c != page.Canonical {
				t.Fatalf("canonical %q is not canonical: %q, %v", page.Canonical, c, err)
			}
		}
		again, err := ExtractPage(pageURL, contentType, body)
		if err != nil {
			t.Fatalf("second extraction: %v", err)
		}
		if diff := cmp.Diff(again, page); diff != "" {
			t.Fatalf("second extraction differs (-got +want):\n%s", diff)
		}
	})
}

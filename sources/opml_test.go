package sources

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseOPML(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []OPMLFeed
	}{
		{
			name: "opml 2.0, flat",
			doc: `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Subscriptions</title></head><body>
  <outline type="rss" text="Harbour Gazette" title="The Harbour Gazette" xmlUrl="https://gazette.example/rss.xml" htmlUrl="https://gazette.example/"/>
  <outline type="rss" text="" title="Only a title" xmlUrl="https://title.example/feed"/>
  <outline type="rss" xmlUrl="https://untitled.example/atom.xml"/>
</body></opml>`,
			want: []OPMLFeed{
				{Title: "Harbour Gazette", URL: "https://gazette.example/rss.xml"},
				{Title: "Only a title", URL: "https://title.example/feed"},
				{URL: "https://untitled.example/atom.xml"},
			},
		},
		{
			name: "opml 1.0, nested folders flattened in order",
			doc: `<opml version="1.0"><head/><body>
  <outline text="World">
    <outline text="Asia">
      <outline text="Pyongyang Watch" xmlUrl="http://watch.example/feed"/>
    </outline>
    <outline text="Wire" xmlUrl="http://wire.example/rss"/>
  </outline>
  <outline title="Untitled folder"><outline text="Deep" xmlUrl="http://deep.example/"/></outline>
  <outline text="Top" xmlUrl="http://top.example/"/>
</body></opml>`,
			want: []OPMLFeed{
				{Title: "Pyongyang Watch", URL: "http://watch.example/feed", Folders: []string{"World", "Asia"}},
				{Title: "Wire", URL: "http://wire.example/rss", Folders: []string{"World"}},
				{Title: "Deep", URL: "http://deep.example/", Folders: []string{"Untitled folder"}},
				{Title: "Top", URL: "http://top.example/"},
			},
		},
		{
			name: "attribute names in any case, values trimmed, one line",
			doc: `<OPML><BODY><Outline TEXT="  Two
	lines  " XMLURL="  https://case.example/feed  "/><outline text="b" xmlURL="https://b.example/"/></BODY></OPML>`,
			want: []OPMLFeed{
				{Title: "Two lines", URL: "https://case.example/feed"},
				{Title: "b", URL: "https://b.example/"},
			},
		},
		{
			name: "feeds without xmlUrl, notes and links",
			doc: `<opml version="2.0"><body>
  <outline text="A note"/>
  <outline text="A link" type="link" url="https://link.example/"/>
  <outline text="Broken feed" type="RSS" htmlUrl="https://site.example/"/>
  <outline text="Empty folder"></outline>
</body></opml>`,
			want: []OPMLFeed{{Title: "Broken feed"}},
		},
		{
			name: "common mistakes forgiven",
			doc: `<opml version="2.0"><body>
  <outline text="Fish &amp; Chips &eacute;" xmlUrl="https://q.example/?a=1&b=2"/>
  <outline text=unquoted xmlUrl="https://u.example/">
</body>`,
			want: []OPMLFeed{
				{Title: "Fish & Chips é", URL: "https://q.example/?a=1&b=2"},
				{Title: "unquoted", URL: "https://u.example/"},
			},
		},
		{
			name: "outlines in the head are not feeds",
			doc:  `<opml><head><outline text="x" xmlUrl="https://head.example/"/></head><body/></opml>`,
		},
		{
			name: "briefbot interval, declared or not",
			doc: `<opml version="2.0" xmlns:briefbot="https://github.com/briefbot/briefbot/opml"><body>
  <outline text="a" xmlUrl="https://a.example/" briefbot:interval="30m"/>
</body></opml>`,
			want: []OPMLFeed{{Title: "a", URL: "https://a.example/", Interval: "30m"}},
		},
		{
			name: "undeclared briefbot prefix",
			doc:  `<opml><body><outline text="a" xmlUrl="https://a.example/" briefbot:interval=" 2h "/></body></opml>`,
			want: []OPMLFeed{{Title: "a", URL: "https://a.example/", Interval: "2h"}},
		},
		{
			name: "other namespaces ignored",
			doc:  `<opml xmlns:x="urn:x"><body><outline x:text="no" text="yes" x:xmlUrl="https://x.example/" xmlUrl="https://y.example/"/></body></opml>`,
			want: []OPMLFeed{{Title: "yes", URL: "https://y.example/"}},
		},
		{
			name: "declared latin-1",
			doc:  "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml><body><outline text=\"Caf\xe9\" xmlUrl=\"https://cafe.example/\"/></body></opml>",
			want: []OPMLFeed{{Title: "Café", URL: "https://cafe.example/"}},
		},
		{
			name: "utf-8 byte-order mark",
			doc:  "\xef\xbb\xbf<opml><body><outline text=\"한국\" xmlUrl=\"https://ko.example/\"/></body></opml>",
			want: []OPMLFeed{{Title: "한국", URL: "https://ko.example/"}},
		},
		{
			name: "utf-16 with a byte-order mark",
			doc:  utf16LE(`<?xml version="1.0" encoding="UTF-16"?><opml><body><outline text="Ü" xmlUrl="https://u16.example/"/></body></opml>`),
			want: []OPMLFeed{{Title: "Ü", URL: "https://u16.example/"}},
		},
		{
			name: "control characters in titles",
			doc:  "<opml><body><outline text=\"a&#9;b\u200bc\" xmlUrl=\"https://c.example/\"/></body></opml>",
			want: []OPMLFeed{{Title: "a b c", URL: "https://c.example/"}},
		},
		{
			name: "a feed outline's children",
			doc:  `<opml><body><outline text="parent" xmlUrl="https://p.example/"><outline text="child" xmlUrl="https://c.example/"/></outline></body></opml>`,
			want: []OPMLFeed{
				{Title: "parent", URL: "https://p.example/"},
				{Title: "child", URL: "https://c.example/", Folders: []string{"parent"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOPML(strings.NewReader(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("ParseOPML (-got +want):\n%s", diff)
			}
		})
	}
}

func utf16LE(s string) string {
	var b bytes.Buffer
	b.WriteString("\xff\xfe")
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.String()
}

func TestParseOPMLErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		notOPML bool
		want    string
	}{
		{name: "empty", doc: " \n", notOPML: true, want: "empty document"},
		{name: "an rss feed", doc: `<?xml version="1.0"?><rss version="2.0"><channel/></rss>`, notOPML: true, want: "<rss>, not <opml>"},
		{name: "html", doc: `<!DOCTYPE html><html><body>hi</body></html>`, notOPML: true, want: "not <opml>"},
		{name: "plain text", doc: `https://feed.example/rss`, notOPML: true, want: "no <opml> element"},
		{name: "truncated", doc: `<opml><body><outline text="a" xmlUrl="https://a.example/"`, want: "unexpected EOF"},
		{name: "too deep", doc: "<opml><body>" + strings.Repeat("<outline text='f'>", 200) + "</body></opml>", want: "nested deeper than 100"},
		{name: "too many feeds", doc: "<opml><body>" + strings.Repeat("<outline xmlUrl='https://x.example/'/>", MaxOPMLFeeds+1) + "</body></opml>", want: "more than 10000 feeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOPML(strings.NewReader(tt.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrNotOPML) != tt.notOPML {
				t.Errorf("errors.Is(%v, ErrNotOPML) = %t, want %t", err, !tt.notOPML, tt.notOPML)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

func TestWriteOPMLRoundTrip(t *testing.T) {
	feeds := []OPMLFeed{
		{Title: "gazette", URL: "https://gazette.example/rss.xml", Interval: "15m0s"},
		{Title: `Fish & "Chips" <b>`, URL: "https://q.example/?a=1&b=2#frag"},
		{Title: "한국 뉴스", URL: "http://user:p%40ss@ko.example/feed"},
		{URL: "https://untitled.example/"},
	}
	var b bytes.Buffer
	created := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if err := WriteOPML(&b, "briefbot sources", created, feeds); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<opml version="2.0" xmlns:briefbot="` + OPMLNamespace + `">`,
		`<title>briefbot sources</title>`,
		`<dateCreated>Mon, 02 Mar 2026 08:00:00 +0000</dateCreated>`,
		`type="rss" text="gazette" title="gazette" xmlUrl="https://gazette.example/rss.xml" briefbot:interval="15m0s"`,
		`xmlUrl="https://q.example/?a=1&amp;b=2#frag"`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("document lacks %s:\n%s", want, doc)
		}
	}
	got, err := ParseOPML(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, feeds); diff != "" {
		t.Errorf("ParseOPML(WriteOPML(feeds)) (-got +want):\n%s", diff)
	}

	// No feeds: still a document that parses.
	b.Reset()
	if err := WriteOPML(&b, "none", created, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := ParseOPML(&b); err != nil || len(got) != 0 {
		t.Errorf("empty export parsed as %v, %v", got, err)
	}
}

// FuzzParseOPML: ParseOPML never panics, keeps its limits, returns clean
// titles, and reads back what WriteOPML writes of its result.
func FuzzParseOPML(f *testing.F) {
	for _, seed := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>t</title></head><body><outline type="rss" text="a" xmlUrl="https://a.example/"/></body></opml>`,
		`<opml version="1.0"><body><outline text="Folder"><outline text="In" xmlUrl="http://in.example/feed"/></outline></body></opml>`,
		`<opml xmlns:briefbot="https://github.com/briefbot/briefbot/opml"><body><outline text="i" xmlUrl="https://i.example/" briefbot:interval="1h"/></body></opml>`,
		`<OPML><BODY><Outline TEXT="x" XMLURL="feed://x.example/"/></BODY></OPML>`,
		`<opml><body><outline text="Fish &amp; chips" xmlUrl="https://q.example/?a=1&b=2"/><outline type="atom" text="no url"/>`,
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><opml><body><outline text=\"Caf\xe9\" xmlUrl=\"https://c.example/\"/></body></opml>",
		"\xef\xbb\xbf<opml><body><outline text=\"\xed\x95\x9c\" xmlUrl=\"https://ko.example/\"/></body></opml>",
		`<opml><head><outline xmlUrl="https://h.example/"/></head><body></body></opml>`,
		`<rss version="2.0"><channel><title>x</title></channel></rss>`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		feeds, err := ParseOPML(bytes.NewReader(doc))
		if err != nil {
			return
		}
		if len(feeds) > MaxOPMLFeeds {
			t.Fatalf("%d feeds", len(feeds))
		}
		for _, f := range feeds {
			for _, s := range append([]string{f.Title, f.Interval}, f.Folders...) {
				if !utf8.ValidString(s) || strings.ContainsAny(s, "\n\r\t\x00") || s != strings.TrimSpace(s) || utf8.RuneCountInString(s) > maxOPMLText {
					t.Fatalf("unclean text %q in %+v", s, f)
				}
			}
			if f.URL != strings.TrimSpace(f.URL) {
				t.Fatalf("untrimmed URL %q", f.URL)
			}
		}
		var b bytes.Buffer
		if err := WriteOPML(&b, "fuzz", time.Unix(0, 0).UTC(), feeds); err != nil {
			t.Fatal(err)
		}
		again, err := ParseOPML(&b)
		if err != nil {
			t.Fatalf("WriteOPML wrote what ParseOPML refuses: %v\n%s", err, b.String())
		}
		if len(again) != len(feeds) {
			t.Fatalf("round trip: %d feeds, want %d\n%s", len(again), len(feeds), b.String())
		}
		for i := range feeds {
			want := feeds[i]
			want.Folders = nil
			if !xmlSafe(want.URL) {
				continue // such a URL is refused anyway; WriteOPML replaces what XML cannot hold
			}
			if diff := cmp.Diff(again[i], want); diff != "" {
				t.Fatalf("round trip of feed %d (-got +want):\n%s", i, diff)
			}
		}
	})
}

// xmlSafe reports whether s is valid UTF-8 of characters XML can carry.
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !(r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return false
		}
	}
	return true
}

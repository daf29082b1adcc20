package sources

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gogs/chardet"
	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// ErrNotFeed reports a document that is not an RSS, Atom or JSON feed: an
// empty body, an HTML page, another XML vocabulary or malformed data.
var ErrNotFeed = errors.New("not a feed")

// Feed is a parsed feed: the fields briefbot uses, normalized.
type Feed struct {
	Title string
	// Link is the site's home page, absolute.
	Link string
	// Format is "rss", "atom" or "json".
	Format string
	Items  []Item
}

// Item is one feed entry, normalized: valid UTF-8, title as plain text,
// link absolute.
type Item struct {
	GUID  string
	Link  string
	Title string
	// HTML is the longer of the item's content and description, as given.
	HTML      string
	Author    string
	Published time.Time // zero when the feed gives no usable date
	Updated   time.Time
}

// Parse parses an RSS 0.9x/1.0/2.0, Atom or JSON Feed document. baseURL is
// the URL it was fetched from, used to resolve relative links; contentType
// is the HTTP Content-Type header, if any, a charset hint. Parse reads r to
// the end and never touches the network. Documents that are not feeds
// yield an error wrapping ErrNotFeed.
func Parse(baseURL, contentType string, r io.Reader) (*Feed, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read feed: %w", err)
	}
	body = toUTF8(body, contentType)
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrNotFeed)
	}
	parsed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		return nil, notFeedError(body, err)
	}
	base, _ := url.Parse(baseURL)
	feed := &Feed{
		Title:  oneLine(TextFromHTML(parsed.Title)),
		Link:   resolveLink(base, parsed.Link),
		Format: parsed.FeedType,
	}
	// Item links resolve against the site link when the feed gives one.
	itemBase := base
	if u, err := url.Parse(feed.Link); err == nil && u.IsAbs() {
		itemBase = u
	}
	for _, it := range parsed.Items {
		if it == nil {
			continue
		}
		item := Item{
			GUID:  strings.TrimSpace(validUTF8(it.GUID)),
			Link:  resolveLink(itemBase, firstNonEmpty(it.Link, firstLink(it.Links))),
			Title: oneLine(TextFromHTML(validUTF8(it.Title))),
			HTML:  validUTF8(longer(it.Content, it.Description)),
		}
		if item.Link == "" && looksLikeURL(item.GUID) {
			item.Link = resolveLink(itemBase, item.GUID)
		}
		if it.Author != nil {
			item.Author = oneLine(validUTF8(it.Author.Name))
		}
		if it.PublishedParsed != nil {
			item.Published = it.PublishedParsed.UTC()
		}
		if it.UpdatedParsed != nil {
			item.Updated = it.UpdatedParsed.UTC()
		}
		if item.Published.IsZero() {
			item.Published = item.Updated
		}
		feed.Items = append(feed.Items, item)
	}
	return feed, nil
}

// notFeedError explains why gofeed refused a document.
func notFeedError(body []byte, err error) error {
	head := strings.ToLower(string(body[:min(len(body), 1024)]))
	switch {
	case strings.Contains(head, "<html") || strings.Contains(head, "<!doctype html"):
		return fmt.Errorf("%w: got an HTML page (is this the site's home page rather than its feed URL?)", ErrNotFeed)
	case errors.Is(err, gofeed.ErrFeedTypeNotDetected):
		return fmt.Errorf("%w: no RSS, Atom or JSON Feed found in the document", ErrNotFeed)
	default:
		return fmt.Errorf("%w: %v", ErrNotFeed, err)
	}
}

var xmlDecl = regexp.MustCompile(`^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["'][^>]*\?>`)

// toUTF8 returns body as UTF-8 with any encoding declaration rewritten to
// match. It trusts, in order: a byte-order mark; an XML encoding declaration
// the bytes agree with; the Content-Type charset; detection; windows-1252.
func toUTF8(body []byte, contentType string) []byte {
	switch {
	case bytes.HasPrefix(body, []byte("\xef\xbb\xbf")):
		body = body[3:]
	case bytes.HasPrefix(body, []byte("\xff\xfe")), bytes.HasPrefix(body, []byte("\xfe\xff")):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		if out, _, err := transform.Bytes(unicode.BOMOverride(dec), body); err == nil {
			return declareUTF8(out)
		}
	}
	declared := ""
	if m := xmlDecl.FindSubmatch(body[:min(len(body), 512)]); m != nil {
		declared = strings.ToLower(strings.TrimSpace(string(m[1])))
	}
	if utf8.Valid(body) {
		// Valid UTF-8 with a single-byte declaration is a wrong
		// declaration far more often than a coincidence.
		if declared != "" && !isUTF8Label(declared) {
			return declareUTF8(body)
		}
		return body
	}
	if declared != "" && !isUTF8Label(declared) {
		if enc, _ := charset.Lookup(declared); enc != nil {
			if out, err := decode(enc, body); err == nil {
				return declareUTF8(out)
			}
		}
	}
	if _, params, err := mime.ParseMediaType(contentType); err == nil && !isUTF8Label(params["charset"]) {
		if enc, _ := charset.Lookup(params["charset"]); enc != nil {
			if out, err := decode(enc, body); err == nil {
				return declareUTF8(out)
			}
		}
	}
	name := "windows-1252"
	if res, err := chardet.NewTextDetector().DetectBest(body); err == nil && res.Confidence >= 50 {
		name = res.Charset
	}
	enc, _ := charset.Lookup(name)
	if enc == nil {
		enc, _ = charset.Lookup("windows-1252")
	}
	out, err := decode(enc, body)
	if err != nil {
		return declareUTF8([]byte(strings.ToValidUTF8(string(body), "\uFFFD")))
	}
	return declareUTF8(out)
}

func decode(enc encoding.Encoding, b []byte) ([]byte, error) {
	out, _, err := transform.Bytes(enc.NewDecoder(), b)
	return out, err
}

func isUTF8Label(label string) bool {
	l := strings.ToLower(strings.TrimSpace(label))
	return l == "" || l == "utf-8" || l == "utf8"
}

// declareUTF8 rewrites an XML declaration's encoding to UTF-8, so the XML
// decoder does not convert the already converted text again.
func declareUTF8(b []byte) []byte {
	m := xmlDecl.FindSubmatchIndex(b[:min(len(b), 512)])
	if m == nil {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:m[2]]...)
	out = append(out, "utf-8"...)
	return append(out, b[m[3]:]...)
}

// validUTF8 replaces invalid UTF-8 with U+FFFD and drops NULs, which JSON
// feeds can carry ("\u0000") and PostgreSQL refuses in text.
func validUTF8(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func longer(a, b string) string {
	if len(strings.TrimSpace(b)) > len(strings.TrimSpace(a)) {
		return b
	}
	return a
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

func firstLink(links []string) string {
	if len(links) == 0 {
		return ""
	}
	return links[0]
}

func looksLikeURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// resolveLink makes ref absolute against base; it returns "" for empty,
// unparsable or non-HTTP links and for links without a host ("http:",
// "https:/path").
func resolveLink(base *url.URL, ref string) string {
	ref = strings.TrimSpace(validUTF8(ref))
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return ""
	}
	return u.String()
}

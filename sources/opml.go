package sources

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// ErrNotOPML reports a document that is not an OPML outline: not XML, or
// another XML vocabulary (an RSS feed given by mistake, say).
var ErrNotOPML = errors.New("not an OPML document")

// OPMLNamespace is the XML namespace of briefbot's own OPML attributes
// (briefbot:interval).
const OPMLNamespace = "https://github.com/briefbot/briefbot/opml"

// Limits of ParseOPML, so that a hostile file costs little.
const (
	// MaxOPMLFeeds is the most feeds one OPML document may list.
	MaxOPMLFeeds = 10000
	// maxOPMLDepth is how deep elements may nest.
	maxOPMLDepth = 100
	// maxOPMLText is the most runes kept of a title or interval.
	maxOPMLText = 200
)

// OPMLFeed is one feed of an OPML subscription list.
type OPMLFeed struct {
	// Title is the outline's text attribute, else its title attribute:
	// one line, without control characters, at most 200 runes. It may
	// be empty.
	Title string
	// URL is the xmlUrl attribute, without surrounding space, as
	// written (it is not checked). It is empty for an outline of type
	// rss or atom that has none.
	URL string
	// Folders are the titles of the outlines the feed is nested in,
	// outermost first; nil at the top level.
	Folders []string
	// Interval is briefbot's briefbot:interval attribute, as written
	// ("30m"); empty when absent.
	Interval string
}

// ParseOPML reads an OPML 1.0, 1.1 or 2.0 subscription list and returns
// its feeds in document order, nested folders flattened: every outline
// with an xmlUrl attribute, and every outline of type rss or atom without
// one (URL empty, for the caller to report). Other outlines are folders
// or notes. Attribute names are matched ignoring case (xmlurl, xmlURL);
// common mistakes (a bare '&', missing end tags, HTML entities, unquoted
// attributes) are forgiven; the text is converted to UTF-8 from its declared or detected
// encoding. ParseOPML never touches the network. A document that is not
// OPML yields an error wrapping ErrNotOPML; one listing more than
// MaxOPMLFeeds feeds, or nesting deeper than 100 elements, an error.
func ParseOPML(r io.Reader) ([]OPMLFeed, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read OPML: %w", err)
	}
	body = toUTF8(body, "")
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrNotOPML)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	// toUTF8 converted the text and rewrote its declaration.
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }

	var (
		feeds  []OPMLFeed
		open   []string // titles of the open outlines, "" for other elements
		isLine []bool   // whether each open element is an outline
		inHead int      // open <head> elements
		root   bool
		read   int64 // the input read by the last whole token
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if root && len(bytes.TrimSpace(body[read:])) == 0 {
				break // only end tags are missing
			}
			if !root {
				return nil, fmt.Errorf("%w: %v", ErrNotOPML, err)
			}
			return nil, fmt.Errorf("parse OPML: %w", err)
		}
		read = dec.InputOffset()
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if !root {
				if name != "opml" {
					return nil, fmt.Errorf("%w: the document is <%s>, not <opml>", ErrNotOPML, t.Name.Local)
				}
				root = true
				continue
			}
			if len(isLine) >= maxOPMLDepth {
				return nil, fmt.Errorf("parse OPML: elements nested deeper than %d", maxOPMLDepth)
			}
			if name == "head" {
				inHead++
			}
			if name != "outline" || inHead > 0 {
				open, isLine = append(open, ""), append(isLine, false)
				continue
			}
			o := outlineOf(t.Attr)
			if o.URL != "" || o.feedType {
				if len(feeds) == MaxOPMLFeeds {
					return nil, fmt.Errorf("parse OPML: more than %d feeds", MaxOPMLFeeds)
				}
				o.OPMLFeed.Folders = folders(open, isLine)
				feeds = append(feeds, o.OPMLFeed)
			}
			open, isLine = append(open, o.Title), append(isLine, true)
		case xml.EndElement:
			if len(isLine) == 0 {
				continue // the end of <opml>
			}
			if strings.EqualFold(t.Name.Local, "head") && inHead > 0 {
				inHead--
			}
			open, isLine = open[:len(open)-1], isLine[:len(isLine)-1]
		}
	}
	if !root {
		return nil, fmt.Errorf("%w: no <opml> element", ErrNotOPML)
	}
	return feeds, nil
}

// outline is an outline element's attributes.
type outline struct {
	OPMLFeed
	feedType bool // type rss or atom
}

// outlineOf reads the attributes of an outline.
func outlineOf(attrs []xml.Attr) outline {
	var o outline
	var text, title string
	for _, a := range attrs {
		local := strings.ToLower(a.Name.Local)
		if a.Name.Space == OPMLNamespace || strings.EqualFold(a.Name.Space, "briefbot") {
			if local == "interval" {
				o.Interval = plainLine(a.Value)
			}
			continue
		}
		if a.Name.Space != "" {
			continue
		}
		switch local {
		case "xmlurl":
			o.URL = strings.TrimSpace(a.Value)
		case "text":
			text = plainLine(a.Value)
		case "title":
			title = plainLine(a.Value)
		case "type":
			switch strings.ToLower(strings.TrimSpace(a.Value)) {
			case "rss", "atom":
				o.feedType = true
			}
		}
	}
	o.Title = text
	if o.Title == "" {
		o.Title = title
	}
	return o
}

// folders returns the non-empty titles of the open outlines.
func folders(open []string, isLine []bool) []string {
	var out []string
	for i, t := range open {
		if isLine[i] && t != "" {
			out = append(out, t)
		}
	}
	return out
}

// plainLine makes an attribute value one line of at most maxOPMLText
// runes: control and format characters become spaces, runs of spaces
// one, and invalid UTF-8 U+FFFD.
func plainLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\uFFFE' || r == '\uFFFF' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = oneLine(s)
	if r := []rune(s); len(r) > maxOPMLText {
		s = strings.TrimSpace(string(r[:maxOPMLText]))
	}
	return s
}

// WriteOPML writes feeds as an OPML 2.0 subscription list titled title,
// dated created: one outline of type rss per feed, at the top level
// (Folders are not written), with the Title as text and title, the URL as
// xmlUrl, and a non-empty Interval as briefbot:interval. ParseOPML reads
// it back as it was, Folders aside.
func WriteOPML(w io.Writer, title string, created time.Time, feeds []OPMLFeed) error {
	doc := opmlDoc{
		Version: "2.0",
		NS:      OPMLNamespace,
		Head: opmlHead{
			Title:       title,
			DateCreated: created.Format(time.RFC1123Z),
			Docs:        "https://opml.org/spec2.opml",
		},
		Body: opmlBody{Outlines: make([]opmlOutline, len(feeds))},
	}
	for i, f := range feeds {
		doc.Body.Outlines[i] = opmlOutline{Type: "rss", Text: f.Title, Title: f.Title, XMLURL: f.URL, Interval: f.Interval}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	return nil
}

// The OPML 2.0 document WriteOPML encodes.
type opmlDoc struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	NS      string   `xml:"xmlns:briefbot,attr"`
	Head    opmlHead `xml:"head"`
	Body    opmlBody `xml:"body"`
}

type opmlHead struct {
	Title       string `xml:"title"`
	DateCreated string `xml:"dateCreated"`
	Docs        string `xml:"docs"`
}

type opmlBody struct {
	Outlines []opmlOutline `xml:"outline"`
}

type opmlOutline struct {
	Type     string `xml:"type,attr"`
	Text     string `xml:"text,attr"`
	Title    string `xml:"title,attr"`
	XMLURL   string `xml:"xmlUrl,attr"`
	Interval string `xml:"briefbot:interval,attr,omitempty"`
}

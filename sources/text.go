package sources

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// TextFromHTML converts an HTML fragment, such as a feed item's content or
// description, to plain text in the form Clean and the rest of the pipeline
// expect: paragraphs separated by a blank line, whitespace inside a
// paragraph collapsed to single spaces, entities decoded, no-break spaces
// turned into spaces and invisible characters (zero-width spaces, soft
// hyphens, byte order marks, bidirectional controls) removed.
//
// The fragment may also be entity-escaped HTML ("&lt;p&gt;…"), which is
// unescaped and parsed, or plain text without tags, whose entities are
// decoded and whose blank lines stay paragraph breaks (single line breaks
// stay line breaks inside a paragraph). In HTML without any block elements,
// blank lines in the text are kept as paragraph breaks too, since such
// fragments are usually plain text with a few inline tags.
//
// Content that is never part of the story is skipped, as TextFromNode
// describes. TextFromHTML does not remove boilerplate written as ordinary
// text ("Read more", "The post … appeared first on …"); Clean does that.
func TextFromHTML(fragment string) string {
	s := fragment
	if !textHasMarkup(s) {
		// Escaped HTML: unescape (at most a few times, for double escaping)
		// only when that reveals tags.
		u := s
		for range 3 {
			if !strings.Contains(u, "&") {
				break
			}
			u = html.UnescapeString(u)
			if textHasMarkup(u) {
				s = u
				break
			}
		}
	}
	if !textHasMarkup(s) {
		return textFromPlain(html.UnescapeString(s))
	}
	context := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), context)
	if err != nil {
		// A strings.Reader never fails; fall back to plain text anyway.
		return textFromPlain(html.UnescapeString(s))
	}
	b := textBuilder{blankLineBreaks: true}
	for _, n := range nodes {
		if textHasBlock(n) {
			b.blankLineBreaks = false
			break
		}
	}
	for _, n := range nodes {
		b.countProse(n)
		b.walk(n, false)
	}
	return b.text()
}

// TextFromNode converts the subtree rooted at n, such as the article node
// extracted by readability, to plain text with paragraphs separated by a
// blank line (see TextFromHTML for the normalization applied).
//
// Block elements (p, div, li, h1–h6, blockquote, section, article, tr, pre,
// br and the like) start new paragraphs; table cells are separated by a
// space; pre keeps its line breaks. Elements that never carry the story are
// skipped with everything inside them: script, style, noscript, template,
// iframe, svg, math, form and its controls, button, nav, footer, aside,
// figcaption, media fallbacks, figures holding an image but no paragraphs,
// hidden elements (the hidden attribute or an inline display:none), ARIA
// navigation and complementary regions, and elements whose class or id has a
// whole word marking boilerplate: caption, credit, share, social,
// newsletter, comments, cookie, related, advert, ad, promo, subscribe and
// similar ("image-caption" and "share-tools" are skipped, "shared-content"
// is not). Class and id are not consulted for n itself, nor for html, body,
// article and main elements, nor for WordPress taxonomy classes such as
// "tag-social-media", and an element so marked is kept anyway when it holds
// three or more paragraphs of prose, since a misnamed container must not
// take the story with it.
func TextFromNode(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b textBuilder
	b.countProse(n)
	b.walk(n, true)
	return b.text()
}

// textMarkupRE finds something that looks like a tag or an HTML comment.
var textMarkupRE = regexp.MustCompile(`<(?:[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>|/[a-zA-Z][a-zA-Z0-9:-]*\s*>|!--)`)

// textHasMarkup reports whether s looks like HTML rather than plain text.
func textHasMarkup(s string) bool {
	return strings.Contains(s, "<") && textMarkupRE.MatchString(s)
}

// textFromPlain normalizes plain text: blank lines separate paragraphs,
// single line breaks are kept inside a paragraph, other whitespace is
// collapsed and invisible characters are removed.
func textFromPlain(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var paras []string
	var lines []string
	for line := range strings.SplitSeq(s, "\n") {
		line = textCollapse(line)
		if line == "" {
			if len(lines) > 0 {
				paras = append(paras, strings.Join(lines, "\n"))
				lines = lines[:0]
			}
			continue
		}
		lines = append(lines, line)
	}
	if len(lines) > 0 {
		paras = append(paras, strings.Join(lines, "\n"))
	}
	return strings.Join(paras, "\n\n")
}

// textInvisible reports whether r is a character that renders as nothing
// and only gets in the way of matching text: zero-width spaces, soft
// hyphens, byte order marks, word joiners, bidirectional controls and
// control characters other than whitespace. The zero-width joiner and
// non-joiner are kept, since emoji sequences and several scripts need them.
func textInvisible(r rune) bool {
	switch {
	case r == '\u00ad', r == '\u180e', r == '\u200b', r == '\u200e', r == '\u200f',
		r >= '\u202a' && r <= '\u202e', r >= '\u2060' && r <= '\u2064',
		r >= '\u2066' && r <= '\u2069', r == '\ufeff':
		return true
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return !unicode.IsSpace(r)
	}
	return false
}

// textCollapse removes invisible characters from s, collapses runs of
// whitespace (line breaks and no-break spaces included) to one space and
// trims the ends. Invalid UTF-8 bytes become U+FFFD, rune for rune.
func textCollapse(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case textInvisible(r):
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// textBuilder accumulates paragraphs while walking an HTML tree.
type textBuilder struct {
	paras []string
	cur   strings.Builder
	// space is set when whitespace was seen since the last rune written.
	space bool
	// newlines counts the line breaks in the current run of whitespace.
	newlines int
	// blankLineBreaks makes a blank line in a text node end the paragraph.
	blankLineBreaks bool
	// prose holds, for each element whose class or id marks it as
	// boilerplate, how many prose paragraphs it contains (see countProse).
	prose map[*html.Node]int
}

// textMinProse is how many prose paragraphs keep an element whose class or
// id marks it as boilerplate: a class such as "gigya-share-btns" on the
// article body is a misnomer, not a share bar.
const textMinProse = 3

// countProse counts the prose paragraphs below n, p elements or bare runs
// of text long enough to be more than a caption or a link, and records the
// count of every element marked as boilerplate by its class or id.
func (b *textBuilder) countProse(n *html.Node) int {
	switch n.Type {
	case html.TextNode:
		if textRunesAtLeast(n, 200) {
			return 1
		}
		return 0
	case html.ElementNode:
		if n.DataAtom == atom.P {
			if textRunesAtLeast(n, 80) {
				return 1
			}
			return 0
		}
	}
	count := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		count += b.countProse(c)
	}
	if n.Type == html.ElementNode && textSkipMarked(n) {
		if b.prose == nil {
			b.prose = make(map[*html.Node]int)
		}
		b.prose[n] = count
	}
	return count
}

// textRunesAtLeast reports whether the text below n, whitespace included,
// is at least min runes long.
func textRunesAtLeast(n *html.Node, minRunes int) bool {
	count := 0
	var visit func(*html.Node) bool
	visit = func(n *html.Node) bool {
		if n.Type == html.TextNode {
			count += utf8.RuneCountInString(n.Data)
			return count >= minRunes
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if visit(c) {
				return true
			}
		}
		return false
	}
	return visit(n)
}

// text returns the paragraphs collected so far, separated by blank lines.
func (b *textBuilder) text() string {
	b.flush()
	return strings.Join(b.paras, "\n\n")
}

// flush ends the current paragraph.
func (b *textBuilder) flush() {
	if s := strings.TrimSpace(b.cur.String()); s != "" {
		b.paras = append(b.paras, s)
	}
	b.cur.Reset()
	b.space = false
	b.newlines = 0
}

// softBreak asks for a space before the next word (between table cells).
func (b *textBuilder) softBreak() {
	b.space = b.cur.Len() > 0
}

// writeText appends the text of a text node, collapsing whitespace.
func (b *textBuilder) writeText(s string) {
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			b.space = true
			if r == '\n' {
				b.newlines++
			}
		case textInvisible(r):
		default:
			if b.blankLineBreaks && b.newlines >= 2 {
				b.flush()
			} else if b.space && b.cur.Len() > 0 {
				b.cur.WriteByte(' ')
			}
			b.space = false
			b.newlines = 0
			b.cur.WriteRune(r)
		}
	}
}

// writePre appends the text of a pre element: lines keep their
// indentation and line breaks, and blank lines separate paragraphs.
func (b *textBuilder) writePre(n *html.Node) {
	var raw strings.Builder
	textCollectRaw(n, &raw)
	s := strings.ReplaceAll(raw.String(), "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var lines []string
	emit := func() {
		if len(lines) > 0 {
			b.paras = append(b.paras, strings.Join(lines, "\n"))
			lines = lines[:0]
		}
	}
	for line := range strings.SplitSeq(s, "\n") {
		var lb strings.Builder
		for _, r := range line {
			switch {
			case r == '\t':
				lb.WriteRune(r)
			case unicode.IsSpace(r):
				lb.WriteByte(' ')
			case textInvisible(r):
			default:
				lb.WriteRune(r)
			}
		}
		line = strings.TrimRight(lb.String(), " \t")
		if strings.TrimSpace(line) == "" {
			emit()
			continue
		}
		if len(lines) == 0 {
			// The first line of a paragraph carries no indentation, so
			// that paragraphs never start with whitespace.
			line = strings.TrimLeft(line, " \t")
		}
		lines = append(lines, line)
	}
	emit()
}

// textCollectRaw appends the text below n, skipping elements that never
// carry text worth keeping.
func textCollectRaw(n *html.Node, w *strings.Builder) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			w.WriteString(c.Data)
		case html.ElementNode:
			if textSkipTag(c) {
				continue
			}
			if c.DataAtom == atom.Br {
				w.WriteByte('\n')
				continue
			}
			textCollectRaw(c, w)
		}
	}
}

// walk appends the text below n. The root of a TextFromNode call is
// exempt from the class and id checks.
func (b *textBuilder) walk(n *html.Node, root bool) {
	switch n.Type {
	case html.TextNode:
		b.writeText(n.Data)
		return
	case html.DocumentNode:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.walk(c, false)
		}
		return
	case html.ElementNode:
	default:
		return // comments, doctypes, raw nodes
	}
	if textSkipTag(n) {
		return
	}
	if prose, marked := b.prose[n]; marked && !root && prose < textMinProse {
		return
	}
	switch n.DataAtom {
	case atom.Br, atom.Hr:
		b.flush()
		return
	case atom.Pre:
		b.flush()
		b.writePre(n)
		return
	case atom.Td, atom.Th:
		b.softBreak()
		b.walkChildren(n)
		b.softBreak()
		return
	}
	block := textIsBlock(n)
	if block {
		b.flush()
	}
	b.walkChildren(n)
	if block {
		b.flush()
	}
}

func (b *textBuilder) walkChildren(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.walk(c, false)
	}
}

// textIsBlock reports whether n starts and ends a paragraph.
func textIsBlock(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Address, atom.Article, atom.Blockquote, atom.Body, atom.Caption,
		atom.Center, atom.Dd, atom.Details, atom.Dialog, atom.Dir, atom.Div,
		atom.Dl, atom.Dt, atom.Fieldset, atom.Figure, atom.H1, atom.H2, atom.H3,
		atom.H4, atom.H5, atom.H6, atom.Header, atom.Hgroup, atom.Html,
		atom.Legend, atom.Li, atom.Listing, atom.Main, atom.Menu, atom.Ol,
		atom.P, atom.Plaintext, atom.Section, atom.Summary, atom.Table,
		atom.Tbody, atom.Tfoot, atom.Thead, atom.Tr, atom.Ul, atom.Xmp,
		atom.Br, atom.Hr, atom.Pre:
		return true
	}
	return false
}

// textHasBlock reports whether the tree at n holds a block element.
func textHasBlock(n *html.Node) bool {
	if n.Type == html.ElementNode && textIsBlock(n) {
		return true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if textHasBlock(c) {
			return true
		}
	}
	return false
}

// textSkipTag reports whether n is an element that never carries story
// text, judged by its tag and attributes other than class and id.
func textSkipTag(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Iframe,
		atom.Svg, atom.Math, atom.Form, atom.Button, atom.Nav, atom.Footer,
		atom.Aside, atom.Figcaption, atom.Select, atom.Input, atom.Textarea,
		atom.Option, atom.Label, atom.Object, atom.Embed, atom.Video,
		atom.Audio, atom.Canvas, atom.Map, atom.Picture, atom.Img, atom.Head,
		atom.Title, atom.Meta, atom.Link, atom.Base, atom.Frameset,
		atom.Frame, atom.Noframes, atom.Noembed, atom.Rp, atom.Rt:
		return true
	case atom.Figure:
		return textIsMediaFigure(n)
	}
	if n.Namespace == "svg" || n.Namespace == "math" {
		return true
	}
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "style":
			st := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.Contains(st, "display:none") || strings.Contains(st, "visibility:hidden") {
				return true
			}
		case "role":
			switch strings.ToLower(strings.TrimSpace(a.Val)) {
			case "navigation", "complementary", "contentinfo", "search", "dialog", "alertdialog":
				return true
			}
		}
	}
	return false
}

// textIsMediaFigure reports whether the figure n holds an image or other
// media and no paragraphs: what text it has is a caption or a credit.
func textIsMediaFigure(n *html.Node) bool {
	media, prose := false, false
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		for c := n.FirstChild; c != nil && !prose; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.DataAtom {
			case atom.Img, atom.Picture, atom.Video, atom.Audio, atom.Svg, atom.Iframe, atom.Canvas, atom.Object, atom.Embed:
				media = true
			case atom.P, atom.Blockquote, atom.Ul, atom.Ol, atom.Table, atom.Pre:
				prose = true
			default:
				visit(c)
			}
		}
	}
	visit(n)
	return media && !prose
}

// textSkipMarked reports whether the class or id of n marks it as
// boilerplate with a whole word from textMarkedWords.
func textSkipMarked(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Html, atom.Body, atom.Article, atom.Main:
		return false
	}
	for _, a := range n.Attr {
		if a.Key != "class" && a.Key != "id" {
			continue
		}
		for name := range strings.FieldsSeq(strings.ToLower(a.Val)) {
			if textMarkedName(name) {
				return true
			}
		}
	}
	return false
}

// textMarkedName reports whether one class name or id marks boilerplate.
// Screen-reader-only class names are matched whole; others word by word,
// with words split at '-', '_', ':' and '.', so "share-bar" matches and
// "shared-content" does not. Names that describe what an article is about
// or its state (WordPress "tag-social-media", "category-related",
// "has-comments") never match.
func textMarkedName(name string) bool {
	switch name {
	case "screen-reader-text", "sr-only", "visually-hidden", "visuallyhidden", "screenreader-only":
		return true
	}
	for _, p := range [...]string{"tag-", "category-", "has-", "is-", "no-", "with-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for word := range strings.FieldsFuncSeq(name, func(r rune) bool {
		return r == '-' || r == '_' || r == ':' || r == '.'
	}) {
		if textMarkedWord(word) {
			return true
		}
	}
	return false
}

// textMarkedWord reports whether a word of a class name or id marks an
// element as boilerplate.
func textMarkedWord(word string) bool {
	switch word {
	case "caption", "captions", "credit", "credits",
		"share", "sharing", "sharedaddy", "addtoany", "social",
		"newsletter", "newsletters", "subscribe", "promo", "promos",
		"comments", "disqus", "cookie", "cookies", "gdpr",
		"related", "relatedposts", "recommended",
		"advert", "adverts", "advertisement", "advertising",
		"ad", "ads", "adsbygoogle", "sponsored", "outbrain", "taboola":
		return true
	}
	return false
}

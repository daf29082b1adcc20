package discord

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/briefbot/briefbot/digest"
)

// Message is one Discord message of a rendered briefing: content and up
// to ten embeds, within every Discord limit. It carries no
// allowed_mentions: the poster sets them to parse nothing.
type Message struct {
	Content string                    `json:"content,omitempty"`
	Embeds  []*discordgo.MessageEmbed `json:"embeds,omitempty"`
}

// Discord's limits on a message and its embeds. Discord counts characters
// as Unicode code points (its API validates with Python's len), so every
// length here is utf8.RuneCountInString, not bytes and not UTF-16 units.
const (
	renderMaxTitle      = 256
	renderMaxDesc       = 4096
	renderMaxFieldName  = 256
	renderMaxFieldValue = 1024
	renderMaxFooter     = 2048
	renderMaxAuthor     = 256
	renderMaxFields     = 25
	renderMaxTotal      = 6000 // all embeds of one message together
	renderMaxEmbeds     = 10
	renderMaxContent    = 2000
)

// Limits of our own, chosen so that one story always fits one embed.
const (
	// renderMaxURL is the longest URL (after escaping) that is linked; a
	// longer one is cited as plain text. Canonical news URLs are far
	// shorter.
	renderMaxURL = 512
	// renderMaxSourceText bounds the "Outlet: title" text of one source.
	renderMaxSourceText = 256
	// renderMaxCitations bounds the citation links after one bullet.
	renderMaxCitations = 1024
	// renderNoteReserve is description room kept for the "…and N more
	// bullets" note, so that a cut bullet never pushes out the note.
	renderNoteReserve = 32
	// renderMaxTopic bounds the topic or query in titles and content.
	renderMaxTopic = 200
)

// Embed colours: blurple for briefings, amber when the language model was
// not used for some stories.
const (
	renderColor         = 0x5865F2
	renderColorFallback = 0xE0A526
)

// Render turns a briefing into Discord messages. The first message starts
// with a header embed (title, lede, window as Discord timestamps, a footer
// naming the window, the summarizer and any fallback reason); each story
// follows as one embed, with the headline linking to its first article,
// bullets with numbered citation links and a "Sources" field. A briefing
// without stories renders as one message saying nothing matched and which
// sources were searched.
//
// Messages split between stories, never inside one. A story too big for
// one embed drops its last bullets or sources and says how many; a bullet
// or title too long for its field is cut at a word boundary with "…". All
// text from feeds and the model is cleaned of invisible characters,
// defused (web addresses, invites and mention syntax rewritten, so that
// not even their text is left; see renderDefuse) and escaped, so it cannot
// format, mention, or link: the only links are the story's own http(s)
// article URLs (never an invite) and the only timestamps are the
// renderer's own.
//
// now stamps the header embed and caps article times that lie in the
// future. Render is deterministic: the same briefing and now give the same
// messages, so a half-posted briefing can be resumed part by part.
func Render(b digest.Briefing, now time.Time) []Message {
	header := renderHeader(b, now)
	if len(b.Stories) == 0 {
		return []Message{{Embeds: []*discordgo.MessageEmbed{header}}}
	}
	msgs := []Message{{Embeds: []*discordgo.MessageEmbed{header}}}
	total := renderEmbedLen(header)
	for _, s := range b.Stories {
		e := renderStory(s, now)
		n := renderEmbedLen(e)
		last := &msgs[len(msgs)-1]
		if len(last.Embeds) == renderMaxEmbeds || total+n > renderMaxTotal {
			msgs = append(msgs, Message{})
			last, total = &msgs[len(msgs)-1], 0
		}
		last.Embeds = append(last.Embeds, e)
		total += n
	}
	if len(msgs) > 1 {
		title := renderInline(renderBriefingTitle(b), false, renderMaxTopic)
		for i := range msgs {
			msgs[i].Content = fmt.Sprintf("**%s** · part %d of %d", title, i+1, len(msgs))
		}
	}
	return msgs
}

// RenderNothingNew is the one line a subscription that asks for it
// (digest.NothingNewPost) gets for a slot with nothing new since from.
func RenderNothingNew(topic string, from time.Time) Message {
	line := "-# Nothing new on " + renderInline(topic, false, renderMaxTopic)
	if renderHasTime(from) {
		line += fmt.Sprintf(" since <t:%d:f>", from.Unix())
	}
	return Message{Content: line + "."}
}

// renderBriefingTitle names the briefing by its topic, else its query.
func renderBriefingTitle(b digest.Briefing) string {
	switch {
	case strings.TrimSpace(b.Topic) != "":
		return "Briefing: " + b.Topic
	case strings.TrimSpace(b.Query) != "":
		return "Briefing: " + b.Query
	}
	return "Briefing"
}

// renderHeader builds the briefing's first embed: title, lede, window and
// footer, or the "nothing matched" reply when there are no stories.
func renderHeader(b digest.Briefing, now time.Time) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Title: renderInline(renderBriefingTitle(b), true, renderMaxTitle),
		Color: renderColor,
	}
	if b.FallbackReason != "" {
		e.Color = renderColorFallback
	}
	if !now.IsZero() {
		e.Timestamp = now.UTC().Format(time.RFC3339)
	}

	window := renderWindow(b.From, b.To)
	lede := strings.TrimSpace(b.Lede)
	if lede == "" && len(b.Stories) == 0 {
		lede = "Nothing matched."
	}
	var tail []string
	if window != "" {
		tail = append(tail, window)
	}
	if len(b.Stories) == 0 && len(b.Searched) > 0 {
		tail = append(tail, renderSearched(b.Searched, renderMaxDesc/2))
	}
	room := renderMaxDesc
	for _, t := range tail {
		room -= utf8.RuneCountInString(t) + 1
	}
	var lines []string
	if l := renderInline(lede, true, room); l != "" {
		lines = append(lines, l)
	}
	e.Description = strings.Join(append(lines, tail...), "\n")

	var foot []string
	if w := renderPlainWindow(b.From, b.To); w != "" {
		foot = append(foot, w)
	}
	if len(b.Stories) > 0 {
		switch {
		case b.Summarizer == digest.SummarizerLLM && strings.TrimSpace(b.Model) != "":
			foot = append(foot, "llm · "+renderClean(b.Model, renderMaxFooter))
		case b.Summarizer != "":
			foot = append(foot, renderClean(b.Summarizer, renderMaxFooter))
		}
		if r := renderClean(b.FallbackReason, renderMaxFooter); r != "" {
			foot = append(foot, r)
		}
	}
	if len(foot) > 0 {
		// Footers are plain text: Discord renders no markdown, mentions
		// or links there, so the text is cleaned but not escaped.
		// The footer gets what title and description leave of the total.
		room := min(renderMaxFooter, renderMaxTotal-utf8.RuneCountInString(e.Title)-utf8.RuneCountInString(e.Description))
		e.Footer = &discordgo.MessageEmbedFooter{Text: renderCut(renderPlainUnits(strings.Join(foot, " · ")), room)}
	}
	return e
}

// renderWindow formats a briefing window as Discord timestamps, which
// every reader sees in their own time zone.
func renderWindow(from, to time.Time) string {
	switch {
	case renderHasTime(from) && renderHasTime(to):
		return fmt.Sprintf("<t:%d:f> – <t:%d:f>", from.Unix(), to.Unix())
	case renderHasTime(to):
		return fmt.Sprintf("until <t:%d:f>", to.Unix())
	case renderHasTime(from):
		return fmt.Sprintf("since <t:%d:f>", from.Unix())
	}
	return ""
}

// renderPlainWindow formats a window for a footer, where timestamps do
// not render: in UTC, to the minute.
func renderPlainWindow(from, to time.Time) string {
	const layout = "2006-01-02 15:04"
	switch {
	case renderHasTime(from) && renderHasTime(to):
		return from.UTC().Format(layout) + " – " + to.UTC().Format(layout) + " UTC"
	case renderHasTime(to):
		return "until " + to.UTC().Format(layout) + " UTC"
	case renderHasTime(from):
		return "since " + from.UTC().Format(layout) + " UTC"
	}
	return ""
}

// renderHasTime reports whether t can be shown as a Discord timestamp.
func renderHasTime(t time.Time) bool { return !t.IsZero() && t.Unix() > 0 }

// renderSearched lists the searched sources in at most limit characters,
// naming as many as fit and counting the rest.
func renderSearched(names []string, limit int) string {
	head := fmt.Sprintf("Searched %d sources: ", len(names))
	if len(names) == 1 {
		head = "Searched 1 source: "
	}
	// Room is kept for the longest possible " and N more." ending.
	room := limit - utf8.RuneCountInString(head) - len(fmt.Sprintf(" and %d more.", len(names)))
	var shown []string
	n := 0
	for i, name := range names {
		s := renderInline(name, false, renderMaxSourceText)
		add := utf8.RuneCountInString(s)
		if i > 0 {
			add += 2 // ", "
		}
		if n+add > room {
			return head + strings.Join(shown, ", ") + fmt.Sprintf(" and %d more.", len(names)-i)
		}
		shown = append(shown, s)
		n += add
	}
	return head + strings.Join(shown, ", ") + "."
}

// renderStory builds one story's embed, within every per-embed limit and
// the per-message total, so that it always fits a message on its own.
func renderStory(s digest.BriefStory, now time.Time) *discordgo.MessageEmbed {
	links := make([]string, len(s.Articles))
	for i, a := range s.Articles {
		links[i], _ = renderLinkURL(a.URL)
	}
	prefix := ""
	if s.Update {
		prefix = "Update: "
	}
	title := renderInline(prefix+s.Headline, true, renderMaxTitle)
	if title == renderInline(prefix, true, renderMaxTitle) && len(s.Articles) > 0 {
		title = renderInline(prefix+s.Articles[0].Title, true, renderMaxTitle)
	}
	if title == renderInline(prefix, true, renderMaxTitle) {
		title = prefix + "Untitled story"
	}
	e := &discordgo.MessageEmbed{
		Title: title,
		Color: renderColor,
	}
	for _, l := range links {
		if l != "" {
			e.URL = l
			break
		}
	}

	e.Description = renderBullets(s.Bullets, links)

	// Sources fill what is left of the message total.
	srcs := make([]string, len(s.Articles))
	for i, a := range s.Articles {
		srcs[i] = renderSource(i, a, links[i], now)
	}
	budget := renderMaxTotal - utf8.RuneCountInString(e.Title) - utf8.RuneCountInString(e.Description)
	e.Fields = renderSourceFields(srcs, budget)
	return e
}

// renderBullets writes a story's description: one line per bullet, in
// order, each whole. A bullet longer than a description can hold is cut
// to the room left; when the next bullet does not fit, it and all after it
// are dropped and a last line says how many.
func renderBullets(bullets []digest.Bullet, links []string) string {
	// Room for the note is always kept, so it fits whenever needed.
	const limit = renderMaxDesc - renderNoteReserve
	var lines []string
	used := 0
	for i, bl := range bullets {
		sep := 0
		if len(lines) > 0 {
			sep = 1
		}
		room := limit - used - sep
		cites, n := renderCitations(bl.Citations, links)
		// Text beyond what a description holds cannot matter.
		units := renderEscapeUnits(renderClean(bl.Text, limit+2), false)
		text := renderUnitsLen(units)
		const mark = "• "
		var line string
		switch full := utf8.RuneCountInString(mark) + text + n; {
		case full <= room:
			line = mark + strings.Join(units, "") + cites
		case full > limit && room-(full-text) >= min(renderMinBulletText, text):
			// Only a bullet longer than a whole description is cut, and
			// then to the room left; a bullet that would fit an empty
			// description is kept whole or dropped, never cut.
			line = mark + renderCut(units, room-(full-text)) + cites
		default:
			n := len(bullets) - i
			return strings.Join(append(lines, fmt.Sprintf("_…and %d more %s_", n, renderPlural(n, "bullet"))), "\n")
		}
		lines = append(lines, line)
		used += sep + utf8.RuneCountInString(line)
	}
	return strings.Join(lines, "\n")
}

// renderMinBulletText is the least text a cut bullet keeps; with less
// room the bullet is dropped instead.
const renderMinBulletText = 40

// renderCitations writes a bullet's citations, " [1](<url>) [2](<url>)",
// and their length: only the story's own articles, each once, in the
// bullet's order; an article without a linkable URL is cited as plain
// "[n]", and citations beyond renderMaxCitations characters are left out.
func renderCitations(citations []int, links []string) (string, int) {
	var sb strings.Builder
	n := 0
	seen := make(map[int]bool)
	for _, c := range citations {
		if c < 0 || c >= len(links) || seen[c] {
			continue
		}
		seen[c] = true
		cite := fmt.Sprintf(` \[%d\]`, c+1)
		if links[c] != "" {
			cite = fmt.Sprintf(" [%d](<%s>)", c+1, links[c])
		}
		l := utf8.RuneCountInString(cite)
		if n+l > renderMaxCitations {
			break
		}
		sb.WriteString(cite)
		n += l
	}
	return sb.String(), n
}

// renderSource writes one source line: "[n] [Outlet: title](<url>)
// <t:unix:R>", the link only for a linkable URL and the time only when
// known, capped at now. Brackets in a linked title become parentheses.
func renderSource(i int, a digest.Article, link string, now time.Time) string {
	outlet := renderClean(a.Outlet, renderMaxSourceText)
	title := renderClean(a.Title, renderMaxSourceText)
	text := outlet + ": " + title
	switch {
	case outlet == "" && title == "":
		text = "article"
	case outlet == "":
		text = title
	case title == "":
		text = outlet
	}
	if link != "" {
		// Even escaped, an unbalanced bracket inside a masked link's text
		// keeps Discord from seeing the link; parentheses read the same.
		text = strings.NewReplacer("[", "(", "]", ")").Replace(text)
	}
	text = renderCut(renderEscapeUnits(text, false), renderMaxSourceText)
	line := fmt.Sprintf(`\[%d\] `, i+1)
	if link != "" {
		line += fmt.Sprintf("[%s](<%s>)", text, link)
	} else {
		line += text
	}
	t := a.Published
	if !now.IsZero() && t.After(now) {
		t = now
	}
	if renderHasTime(t) {
		line += fmt.Sprintf(" <t:%d:R>", t.Unix())
	}
	return line
}

// renderSourceFields packs source lines into "Sources" fields within the
// field limits and budget characters in all, dropping the last sources
// with a "…and N more sources" line when they do not all fit.
func renderSourceFields(lines []string, budget int) []*discordgo.MessageEmbedField {
	if len(lines) == 0 {
		return nil
	}
	// No more lines than budget holds need trying, however many there are.
	k, n := 0, 0
	for k < len(lines) {
		if n += utf8.RuneCountInString(lines[k]); n > budget {
			break
		}
		k++
	}
	for ; k >= 0; k-- {
		shown := lines[:k:k]
		if k < len(lines) {
			n := len(lines) - k
			shown = append(shown, fmt.Sprintf("_…and %d more %s_", n, renderPlural(n, "source")))
		}
		if fields, ok := renderPackFields(shown, budget); ok {
			return fields
		}
	}
	return nil
}

// renderPackFields fills fields with whole lines, each field's value at
// most the field value limit. It reports false when the fields exceed
// the field count or budget characters.
func renderPackFields(lines []string, budget int) ([]*discordgo.MessageEmbedField, bool) {
	var fields []*discordgo.MessageEmbedField
	var value []string
	n, total := 0, 0
	flush := func() {
		name := "Sources"
		if len(fields) > 0 {
			name = "Sources (continued)"
		}
		fields = append(fields, &discordgo.MessageEmbedField{Name: name, Value: strings.Join(value, "\n")})
		total += utf8.RuneCountInString(name) + n
		value, n = nil, 0
	}
	for _, l := range lines {
		ln := utf8.RuneCountInString(l)
		if ln > renderMaxFieldValue {
			return nil, false
		}
		if len(value) > 0 && n+1+ln > renderMaxFieldValue {
			flush()
		}
		if len(value) > 0 {
			n++
		}
		value = append(value, l)
		n += ln
	}
	if len(value) > 0 {
		flush()
	}
	return fields, len(fields) <= renderMaxFields && total <= budget
}

// renderPlural adds an "s" to word unless n is 1.
func renderPlural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// renderEmbedLen counts an embed's characters as Discord does towards the
// 6000-character message total: title, description, field names and
// values, footer text and author name, in code points.
func renderEmbedLen(e *discordgo.MessageEmbed) int {
	n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, f := range e.Fields {
		n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if e.Footer != nil {
		n += utf8.RuneCountInString(e.Footer.Text)
	}
	if e.Author != nil {
		n += utf8.RuneCountInString(e.Author.Name)
	}
	return n
}

// renderLinkURL returns raw as a link target, or false when it must not
// be linked: only absolute http(s) URLs with a host and no user info, at
// most renderMaxURL characters once escaped, and never a Discord invite
// (renderIsInvite), even as an article's own URL. Characters that could end a
// masked link early or break out of its <…> (spaces, < > ( ) [ ] \ ` "
// and the like) and non-ASCII bytes are percent-encoded.
func renderLinkURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if len(raw) > renderMaxURL {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.ContainsAny(u.Host, "[]") || !strings.HasPrefix(strings.ToLower(raw), u.Scheme+"://") || renderIsInvite(u) {
		return "", false
	}
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~:/?#@!$&'*+,;=%", c) >= 0:
			sb.WriteByte(c)
		default:
			sb.WriteByte('%')
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
		}
	}
	s := sb.String()
	if len(s) > renderMaxURL {
		return "", false
	}
	return s, true
}

// renderIsInvite reports whether u is a Discord invite, gift or server
// template, which Discord shows as a card to join or claim.
func renderIsInvite(u *url.URL) bool {
	host := strings.TrimPrefix(strings.TrimSuffix(strings.ToLower(u.Hostname()), "."), "www.")
	switch host {
	case "discord.gg", "discord.gift", "discord.new", "dsc.gg":
		return true
	case "discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com":
		p := strings.ToLower(u.EscapedPath())
		return strings.HasPrefix(p, "/invite/") || strings.HasPrefix(p, "/gifts/") || strings.HasPrefix(p, "/template/")
	}
	return false
}

// renderInline cleans and escapes outside text for one line of markdown
// (see renderClean and renderEscapeUnits) and cuts it to limit characters.
func renderInline(s string, lineStart bool, limit int) string {
	return renderCut(renderEscapeUnits(renderClean(s, limit+2), lineStart), limit)
}

// renderClean makes outside text safe to measure and escape: it strips
// what cannot be seen (renderStrip) and defuses what Discord would turn
// into a mention or a link (renderDefuse). It keeps at least limit
// characters of s, or all of it, and not many more: escaping never
// shortens text, so text cleaned to limit+2 characters is still cut, and
// escaped the same, by renderCut to limit. This bounds the work on huge
// input.
func renderClean(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	for window := limit; ; window *= 2 {
		stripped, cut := renderStrip(s, window)
		d := renderDefuse(stripped)
		// A removed link shortens the text; take more of s to fill it.
		if !cut || utf8.RuneCountInString(d) >= limit || window >= len(s) {
			return d
		}
	}
}

// renderStrip keeps at most limit characters of s, and reports whether it
// had to cut: invalid UTF-8 becomes U+FFFD; control characters and
// invisible format characters (zero-width spaces, joiners and non-joiners,
// word joiners, soft hyphens, bidirectional controls, byte order marks)
// are dropped, except a zero-width joiner or non-joiner between two
// non-ASCII characters (emoji sequences, Persian, Indic scripts) and the
// tags of an emoji flag; and runs of white space (new lines included)
// become one space, so outside text never starts a line.
func renderStrip(s string, limit int) (string, bool) {
	var sb strings.Builder
	space, n := false, 0
	var prev rune // the last rune written
	for i, r := range s {
		if n >= limit {
			return sb.String(), true
		}
		switch {
		case unicode.IsSpace(r):
			space = sb.Len() > 0
			continue
		case r == '\u200c' || r == '\u200d':
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if space || prev < utf8.RuneSelf || next < utf8.RuneSelf || unicode.IsSpace(next) || unicode.Is(unicode.Cf, next) {
				continue
			}
		case '\U000E0020' <= r && r <= '\U000E007F':
			if prev != '\U0001F3F4' && (prev < '\U000E0020' || prev > '\U000E007F') {
				continue
			}
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		}
		if space {
			sb.WriteByte(' ')
			space = false
			if n++; n >= limit {
				return sb.String(), true
			}
		}
		sb.WriteRune(r)
		prev = r
		n++
	}
	return sb.String(), false
}

// renderDefuse rewrites, in stripped outside text, what Discord would
// make a mention or a link, so that none is left even to read:
//   - web addresses (anything with a scheme such as https:// or hxxps://,
//     www. addresses, a domain or IP address followed by a path, so
//     invites such as discord.gg/x too) become "(link removed)": the only
//     links of a briefing are its own citations;
//   - <@id> and <@!id> become "@user", <@&id> "@role", <#id> "#channel",
//     </name:id> "/name" and <:name:id> custom emoji ":name:";
//   - the at sign (also its full-width and small forms) before "everyone"
//     or "here", in any case and in look-alike letters, is dropped.
func renderDefuse(s string) string {
	// Each rewrite needs a character that most text lacks.
	if strings.ContainsAny(s, "/.") {
		s = renderDefuseAddresses(s)
	}
	if strings.Contains(s, "<") {
		s = renderSyntaxRE.ReplaceAllStringFunc(s, renderSyntax)
	}
	if !strings.ContainsAny(s, "@＠﹫") {
		return s
	}
	return renderMassRE.ReplaceAllStringFunc(s, func(m string) string {
		word := strings.TrimLeft(m, "@＠﹫")
		if sk := digest.Skeleton(word); strings.HasPrefix(sk, "everyone") || strings.HasPrefix(sk, "here") {
			return word
		}
		return m
	})
}

// renderDefuseAddresses replaces the web addresses in stripped text
// (words are separated by single spaces) with "(link removed)", keeping
// the text before an address's scheme and the punctuation that only ends
// the sentence after it.
func renderDefuseAddresses(s string) string {
	words := strings.Split(s, " ")
	changed := false
	for i, w := range words {
		start, ok := renderAddressStart(w)
		if !ok {
			continue
		}
		end := len(strings.TrimRightFunc(w, func(r rune) bool { return strings.ContainsRune(".,;:!?)]}'\"»”’", r) }))
		if end <= start {
			end = len(w)
		}
		words[i] = w[:start] + "(link removed)" + w[end:]
		changed = true
	}
	if !changed {
		return s
	}
	return strings.Join(words, " ")
}

// renderAddressStart reports whether a word holds a web address, and
// where in the word it starts: a scheme and "://" (any scheme, so
// "hxxps://" too), www., or a domain name or IPv4 address followed by a
// path ("discord.gg/x", "evil.example/login"). A bare domain name
// ("Amazon.com") is not an address: Discord does not link it.
func renderAddressStart(w string) (int, bool) {
	if i := strings.Index(w, "://"); i >= 0 {
		start := i
		for start > 0 {
			r, size := utf8.DecodeLastRuneInString(w[:start])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '+' && r != '.' && r != '-' {
				break
			}
			start -= size
		}
		if start < i || i+3 < len(w) {
			if start > 0 && w[start-1] == '<' {
				start--
			}
			return start, true
		}
	}
	core := strings.TrimLeft(w, "([{<\"'«“‘")
	lead := len(w) - len(core)
	if len(core) > 4 && strings.EqualFold(core[:4], "www.") {
		return lead, true
	}
	if strings.Contains(core, "/") && renderDomainPathRE.MatchString(core) {
		return lead, true
	}
	return 0, false
}

// renderSyntax rewrites one match of renderSyntaxRE.
func renderSyntax(m string) string {
	switch sub := renderSyntaxRE.FindStringSubmatch(m); {
	case sub[1] != "":
		return "/" + sub[1]
	case sub[2] != "":
		return ":" + sub[2] + ":"
	case strings.HasPrefix(m, "<@&"):
		return "@role"
	case strings.HasPrefix(m, "<#"):
		return "#channel"
	}
	return "@user"
}

var (
	// renderDomainPathRE matches a domain name or IPv4 address, perhaps
	// with a port, followed by a path.
	renderDomainPathRE = regexp.MustCompile(`^(?:[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}|\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?/`)
	// renderSyntaxRE matches Discord's mention, command and custom emoji
	// syntax: </name:id> captures the command, <:name:id> the emoji.
	renderSyntaxRE = regexp.MustCompile(`</([-_\p{L}\p{N}]{1,32}(?: [-_\p{L}\p{N}]{1,32}){0,2}):\d+>|<a?:([\w~]{1,32}):\d+>|<@[!&]?\d+>|<#\d+>`)
	// renderMassRE matches at signs before a word.
	renderMassRE = regexp.MustCompile(`[@＠﹫]+\pL+`)
)

// renderEscapeUnits escapes cleaned outside text for Discord markdown and
// returns it as units, one per input rune, so that cutting between units
// never splits an escape:
//   - \ * _ ~ ` | [ ] ( ) get a backslash, so text cannot format, spoil,
//     or form a masked link;
//   - a zero-width space follows every @ and <, so @everyone, @here,
//     <@id>, <@&id>, <#id>, <t:…> timestamps, <:emoji:id> and <url>
//     autolinks stay inert;
//   - the colon of "://" gets a backslash, so bare URLs are not linked;
//   - at a line start (lineStart), # > - + and the dot of "1. " get a
//     backslash, so text cannot become a heading, quote or list.
func renderEscapeUnits(s string, lineStart bool) []string {
	rs := []rune(s)
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/4)
	ends := make([]int, len(rs))
	digits := lineStart // only digits so far at a line start
	for i, r := range rs {
		switch r {
		case '\\', '*', '_', '~', '`', '|', '[', ']', '(', ')':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case '@', '<':
			sb.WriteRune(r)
			sb.WriteString("\u200b")
		case ':':
			if i+2 < len(rs) && rs[i+1] == '/' && rs[i+2] == '/' {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		case '#', '>', '-', '+':
			if lineStart && i == 0 {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		case '.':
			if digits && i > 0 && i+1 < len(rs) && rs[i+1] == ' ' {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		default:
			sb.WriteRune(r)
		}
		digits = digits && '0' <= r && r <= '9'
		ends[i] = sb.Len()
	}
	return renderSplitUnits(sb.String(), ends)
}

// renderPlainUnits splits plain text (for footers, which render no
// markdown, mentions or links) into units of one rune each, for
// renderCut. A zero-width space still follows every @ and <, so that not
// even the text "@everyone" or "<t:" appears.
func renderPlainUnits(s string) []string {
	var sb strings.Builder
	var ends []int
	for _, r := range s {
		sb.WriteRune(r)
		if r == '@' || r == '<' {
			sb.WriteString("\u200b")
		}
		ends = append(ends, sb.Len())
	}
	return renderSplitUnits(sb.String(), ends)
}

// renderSplitUnits cuts s at the byte offsets ends into units that share
// s's memory.
func renderSplitUnits(s string, ends []int) []string {
	units := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		units[i] = s[start:end]
		start = end
	}
	return units
}

// renderUnitsLen counts the characters of units.
func renderUnitsLen(units []string) int {
	n := 0
	for _, u := range units {
		n += utf8.RuneCountInString(u)
	}
	return n
}

// renderCut joins units, cut to at most limit characters: when they do
// not fit, it keeps whole units up to the last space that leaves at least
// half the room used (else as many units as fit) and appends "…".
func renderCut(units []string, limit int) string {
	if renderUnitsLen(units) <= limit {
		return strings.Join(units, "")
	}
	if limit <= 0 {
		return ""
	}
	room := limit - 1 // for "…"
	n, keep, space := 0, 0, -1
	for i, u := range units {
		l := utf8.RuneCountInString(u)
		if n+l > room {
			break
		}
		n += l
		keep = i + 1
		if u == " " {
			space = i
		}
	}
	if space > 0 && 2*space >= keep {
		keep = space
	}
	return strings.TrimRight(strings.Join(units[:keep], ""), " ") + "…"
}

package sources

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/briefbot/briefbot/digest"
)

// Clean removes from plain text what is not the story and returns the rest,
// paragraphs separated by a blank line. The input is text as TextFromHTML
// and TextFromNode produce it: paragraphs separated by blank lines, perhaps
// with single line breaks inside a paragraph.
//
// Clean works line by line. It drops lines that are photo captions and
// credits ("Photo: …", "(Photo by …/Getty Images)", "Image caption, …",
// "File photo …", lines ending in "/ AFP" or "via Reuters"), comment
// prompts and forms ("Leave a Reply", "Comments are closed"), newsletter,
// share and follow prompts, site footers ("The post … appeared first on
// …", "© 2026 Outlet. All rights reserved."), "Read more" and "Continue
// reading" links, cookie notices, "Advertisement", tag lists, timestamps
// ("Updated 3 hours ago") and lines without a letter or digit. A heading
// such as "Related articles" or "Most read" is dropped together with the
// short, headline-like lines that follow it, and a WordPress comment
// heading ("3 thoughts on “…”") ends the text. From the end of a line it
// strips "Read more »"-style links, the link text after a "[…]" excerpt
// marker, a trailing "The post … appeared first on …" footer, a copyright
// notice and a parenthesized photo credit.
//
// Most patterns are anchored at the start of a line (credits and tails at
// its end) and, where a story sentence could begin the same way, limited to
// short lines or to lines that do not end like a sentence, so "The company
// said it would share the data." and "Leave a reply by Friday or lose your
// place, the notice said." are kept.
//
// Clean also drops the sentences that are instructions planted for a
// language model rather than news ("Ignore previous instructions and …",
// "SYSTEM: …", chat-template tokens; see digest.Injected), so that no
// summarizer reads or repeats them; a line that reads as one as a whole
// goes whole. Clean also collapses runs of whitespace inside a line, removes
// invisible characters, trims lines, and drops empty paragraphs and exact
// repeats of an earlier short paragraph. Clean is idempotent and never makes its
// input longer.
func Clean(text string) string {
	var (
		out  []string
		seen = make(map[string]bool)
		kept []string
		// run is how many more headline-like lines a heading may take.
		run = 0
	)
	endPara := func() {
		if len(kept) == 0 {
			return
		}
		p := strings.Join(kept, "\n")
		kept = kept[:0]
		// A short paragraph seen before is a repeated caption, pull
		// quote or prompt; a long one is text the page really repeats.
		if !seen[p] || len(strings.Fields(p)) > cleanMaxRepeatWords {
			seen[p] = true
			out = append(out, p)
		}
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	for raw := range strings.SplitSeq(text, "\n") {
		orig := textCollapse(raw)
		if orig == "" {
			endPara()
			continue
		}
		if cleanEndsText(orig) {
			break
		}
		if cleanIsHeading(orig) {
			run = cleanMaxListItems
			continue
		}
		if cleanEndsWithParen(orig) &&
			utf8.RuneCountInString(orig) <= cleanMaxCaption && cleanPhotoCreditRE.MatchString(orig) {
			continue // a caption ending in its credit
		}
		line := cleanStripTails(orig)
		switch {
		case line == "":
			continue
		case cleanIsHeading(line):
			run = cleanMaxListItems
			continue
		case run > 0 && cleanIsListItem(line):
			run--
			continue
		}
		run = 0
		if cleanIsJunk(line) {
			continue
		}
		if line = cleanStripInjected(line); line == "" {
			continue
		}
		kept = append(kept, line)
	}
	endPara()
	return strings.Join(out, "\n\n")
}

// cleanStripInjected returns line without its sentences that are
// injected instructions (digest.Injected), or "" when nothing is left or
// the rest still reads as one.
func cleanStripInjected(line string) string {
	if !digest.Injected(line) {
		return line
	}
	var kept []string
	for _, s := range digest.Sentences(line) {
		if !digest.Injected(s) {
			kept = append(kept, s)
		}
	}
	rest := strings.Join(kept, " ")
	if digest.Injected(rest) {
		return ""
	}
	return rest
}

// CleanTitle returns a feed's or an item's title, or "" when it is an
// instruction planted for a language model rather than a title
// (digest.Injected): an item then takes its title from its text, a feed
// its outlet name from the source's name.
func CleanTitle(title string) string {
	if digest.Injected(title) {
		return ""
	}
	return title
}

// cleanMaxRepeatWords is the longest paragraph, in words, dropped when it
// repeats an earlier one.
const cleanMaxRepeatWords = 30

// cleanMaxListItems bounds how many headline-like lines a heading such as
// "Related articles" takes with it.
const cleanMaxListItems = 12

// cleanMaxCaption is the length in runes up to which a line ending in a
// photo credit is taken for a caption; from longer lines only the credit is
// stripped.
const cleanMaxCaption = 300

// cleanPhotoCreditRE matches a parenthesized photo credit at the end of a
// line: "(Photo by Jane Doe/Getty Images)", "(AP Photo/Kim Min-su)".
var cleanPhotoCreditRE = regexp.MustCompile(`\((?:(?:AP |AFP |Reuters )?(?:[Pp]hoto|PHOTO|[Ii]mage|[Pp]icture)s?(?: by| courtesy| credit|:)|(?:AP|AFP|EPA|Reuters|Yonhap|Xinhua) (?:Photo|Images?)\b)[^()\n]*\)\.?$`)

// cleanRule drops a whole line that matches re. Rules whose words could
// also begin a story sentence set max, the longest line they apply to in
// runes, or fragment, which keeps lines that end like a sentence. Rules
// that are not anchored at the start of the line set hints, strings one of
// which the line must contain, to spare the regexp most lines.
type cleanRule struct {
	re       *regexp.Regexp
	max      int
	fragment bool
	hints    []string
}

// match reports whether the rule drops line, which is n runes long.
func (r cleanRule) match(line string, n int) bool {
	if r.max > 0 && n > r.max {
		return false
	}
	if r.fragment && cleanEndsSentence(line) {
		return false
	}
	if r.hints != nil && !cleanContainsAny(line, r.hints) {
		return false
	}
	return r.re.MatchString(line)
}

// cleanContainsAny reports whether s contains one of subs.
func cleanContainsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// cleanJunkRules are the whole-line rules, roughly in order of frequency.
var cleanJunkRules = []cleanRule{
	// Captions and credits.
	{re: regexp.MustCompile(`(?i)^(?:main |top |lead |header |featured |cover )?(?:photo|photograph|photos|image|images|picture|pictures|pic|video|graphic|illustration|photo illustration)(?: credits?)?\s*[:|]\s*\S`), max: 300},
	{re: regexp.MustCompile(`(?i)^(?:photo |image |picture )?credits?\s*[:|]\s*\S`), max: 200},
	{re: regexp.MustCompile(`(?i)^pictured(?: above| below| left| right| here)?\s*:\s*\S`), max: 300},
	{re: regexp.MustCompile(`(?i)^\((?:ap |afp |reuters )?(?:photo|photograph|image|picture)s?(?:\s+(?:by|courtesy|credit|from|via)\b|\s*:)[^()]*\)\.?$`), max: 250},
	{re: regexp.MustCompile(`(?i)^(?:photo|photograph|image|picture)s?\s+(?:by|courtesy(?: of)?|credit)\s+\S`), max: 120, fragment: true},
	{re: regexp.MustCompile(`(?i)^(?:image|media) (?:caption|source|copyright)\s*,`), max: 400},
	{re: regexp.MustCompile(`(?i)^file (?:photo|image|picture)\b`), max: 500},
	{re: regexp.MustCompile(`(?i)^(?:getty images|afp|ap|reuters|epa|shutterstock|alamy|yonhap|xinhua|ap photo|afp photo|reuters photo)(?: via getty images)?(?:\s*/\s*[^/]+){0,2}$`), max: 80},

	// Comment sections and forms.
	{re: regexp.MustCompile(`(?i)^leave a (?:reply|comment)(?: to \S.*?)?\s*(?:cancel reply)?[.:]?$`), max: 80},
	{re: regexp.MustCompile(`(?i)^your email address will not be published\b`), max: 160},
	{re: regexp.MustCompile(`(?i)^required fields are marked\b`), max: 60},
	{re: regexp.MustCompile(`(?i)^(?:comments are closed|cancel reply|post comment|post a comment|add a comment|add your comment|submit comment|show comments|view comments|load comments|join the (?:conversation|discussion)|comments|comment|\d+ comments?|comments \(\d+\)|(?:comment|name|e-?mail|website) \*|website|save my name, email, and website in this browser for the next time i comment)[.!:]?$`), max: 100},
	{re: regexp.MustCompile(`(?i)^notify me of (?:follow-up comments|new posts|new comments)\b`), max: 100},
	{re: regexp.MustCompile(`(?i)^this site uses akismet to reduce spam\b`), max: 160},

	// Newsletters, sharing, following.
	{re: regexp.MustCompile(`(?i)^sign up\b.*\b(?:newsletters?|inbox|e-?mails?|alerts|briefing)\b`), max: 200},
	{re: regexp.MustCompile(`(?i)^subscribe(?: now| today| here| free)?\b(?:\s*(?:to|for)\b.*|[\s.!:»›→]*)$`), max: 150},
	{re: regexp.MustCompile(`(?i)^(?:get|receive|want)\b.*\b(?:newsletter|inbox)\b`), max: 160},
	{re: regexp.MustCompile(`(?i)\bnewsletters?\b`), max: 80, fragment: true, hints: []string{"ewsletter", "EWSLETTER"}},
	{re: regexp.MustCompile(`(?i)^share (?:this|the) (?:article|story|post|page|video)\b`), max: 80},
	{re: regexp.MustCompile(`(?i)^share (?:on|via|to|with) (?:facebook|twitter|x|linkedin|whatsapp|e-?mail|reddit|bluesky|threads|telegram|pinterest|messenger|your friends)\b`), max: 80},
	{re: regexp.MustCompile(`(?i)^click to (?:share|email|print)\b`), max: 120},
	{re: regexp.MustCompile(`(?i)\(opens in (?:a )?new (?:window|tab)\)$`), max: 120, hints: []string{")"}},
	{re: regexp.MustCompile(`^(?:Like this:|Like Loading\.*|Loading\.\.\.|(?i:share this|share)[.:]?)$`), max: 30},
	{re: regexp.MustCompile(`(?i)^follow (?:us|@\S+|[\p{L}\p{N}.&'’ -]{1,40}?) on (?:facebook|twitter|x|instagram|linkedin|youtube|tiktok|bluesky|threads|mastodon|google news|whatsapp|telegram|flipboard|apple news)\b`), max: 160},
	{re: regexp.MustCompile(`(?i)^follow us\b[\s.!:]*$`), max: 30},

	// Site footers.
	{re: regexp.MustCompile(`(?i)^the post .+ appeared first on .+$`), max: 450},
	{re: regexp.MustCompile(`(?i)^(?:©|copyright\s*(?:©|\(c\)|\d{4})|\(c\)\s*(?:\d{4}|copyright))`), max: 300},
	{re: regexp.MustCompile(`(?i)\ball rights reserved\b`), max: 200, hints: []string{"ights", "IGHTS"}},
	{re: regexp.MustCompile(`(?i)^this (?:material|article) may not be (?:published|reproduced), broadcast\b`), max: 200},
	{re: regexp.MustCompile(`(?i)^our standards\s*:.*trust principles\.?$`), max: 120},
	{re: regexp.MustCompile(`(?i)^this (?:article|story|post|piece) (?:was )?(?:originally |first )?(?:published|appeared|posted) (?:on|in|by|at)\b`), max: 250},
	{re: regexp.MustCompile(`(?i)^originally (?:published|posted) (?:on|at|by)\b`), max: 200},
	{re: regexp.MustCompile(`^.+ was originally published in .+ on Medium, where people are continuing the conversation\b`), max: 500},
	{re: regexp.MustCompile(`^(?:submitted by\s+/?u/\S+|\[link\]\s*\[comments\])$`), max: 80},
	{re: regexp.MustCompile(`(?i)^(?:additional )?(?:reporting|writing) by\b.*\bedit(?:ing|ed) by\b`), max: 300},
	{re: regexp.MustCompile(`(?i)^edit(?:ing|ed) by\b`), max: 120, fragment: true},

	// Links to more.
	{re: regexp.MustCompile(`(?i)^(?:(?:read more|continue reading|keep reading|read the (?:full|whole|rest of the) (?:story|article|post)|read the rest|read full (?:story|article)|full story|view (?:the )?(?:full )?(?:article|story)|click here to read more)\b|more(?:\.\.\.|…))`), max: 160, fragment: true},
	{re: regexp.MustCompile(`(?i)^(?:read more|continue reading|read on|keep reading|full story|more)[\s.!:»›→>…-]*$`), max: 40},
	{re: regexp.MustCompile(`(?i)^(?:related|read more|also read|read also|see also|more from [^:]{1,40}|watch|listen|read)\s*:\s*\S`), max: 250, fragment: true},
	{re: regexp.MustCompile(`(?i)^(?:related|read more|also read|read also|see also)\s*:\s*\S`), max: 250},

	// Cookie notices.
	{re: regexp.MustCompile(`(?i)^we use cookies\b`), max: 400},
	{re: regexp.MustCompile(`(?i)^(?:this|our) (?:web)?site uses cookies\b`), max: 400},
	{re: regexp.MustCompile(`(?i)^by (?:continuing to (?:use|browse)|using) (?:this|our) (?:web)?site\b`), max: 300},
	{re: regexp.MustCompile(`(?i)^(?:(?:accept|allow|reject|decline|manage) (?:all |essential )?cookies|cookie (?:settings|preferences|policy))[.!]?$`), max: 40},

	// Ads and page furniture.
	{re: regexp.MustCompile(`(?i)^(?:advertisement|advertising|ad|sponsored|sponsored content|skip advertisement|story continues below(?: this)? advertisement|article continues below(?: this)?(?: advertisement)?|scroll to continue(?: with content)?|continue reading below)[\s.:-]*$`), max: 60},
	{re: regexp.MustCompile(`(?i)^(?:listen to (?:this|the) (?:article|story)|play (?:video|audio)|watch(?: the)? video|watch now|listen now)\b`), max: 60, fragment: true},
	{re: regexp.MustCompile(`(?i)^\d+\s*(?:min|mins|minute|minutes)\s+read$`), max: 30},
	{re: regexp.MustCompile(`(?i)^(?:tags?|filed under|categories|category|topics)\s*:\s*\S`), max: 200, fragment: true},
	{re: cleanTimestampRE, max: 80},
}

// cleanTimestampRE matches a lone timestamp line such as "Updated 3 hours
// ago" or "Published: March 3, 2026, 10:15 a.m. ET": a verb followed only by
// numbers, month and weekday names, time zones and relative-time words.
var cleanTimestampRE = regexp.MustCompile(`(?i)^(?:last\s+)?(?:updated|published|posted|first published|modified)(?:\s+(?:on|at))?\s*:?\s*` +
	`(?:(?:\d{1,4}(?:[:./-]\d{1,4})*(?:\s*(?:a\.?m\.?|p\.?m\.?|st|nd|rd|th|h))?` +
	`|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?` +
	`|mon(?:day)?|tues?(?:day)?|wed(?:nesday)?|thu(?:rs?)?(?:day)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?` +
	`|a\.?m\.?|p\.?m\.?|[a-z][sd]t|ae[sd]t|utc|gmt|kst|cet|cest|jst|et|pt|ago|just now|today|yesterday|on|at|and` +
	`|(?:second|sec|minute|min|hour|hr|day|week|month|year)s?)(?:[\s,|·•–—-]+|$))+$`)

// cleanHeadingRE matches a section heading that introduces a list of
// links rather than story text.
var cleanHeadingRE = regexp.MustCompile(`(?i)^(?:related|related (?:articles|stories|posts|coverage|content|links|reading|news|topics|videos?)|more on this (?:story|topic)|more (?:stories|news|headlines) from .{1,40}|more from .{1,40}|more stories|more like this|you (?:may|might) also (?:like|be interested in)|recommended|recommended (?:for you|stories|articles|reading|videos?)|most (?:read|popular|viewed|shared|watched)|trending(?: now| stories)?|editor'?’?s (?:picks|choice)|don'?’?t miss|also read|read also|read more|see also|further reading|what to read next|read next|up next|popular now)[\s.:»›]*$`)

// cleanEndRE matches a WordPress comment-section heading; what follows it
// is readers' comments.
var cleanEndRE = regexp.MustCompile(`(?i)^(?:\d+|no|one|two|three|four|five|six|seven|eight|nine|ten) (?:comments?|responses?|replies|thoughts?) (?:on|to) ["“‘].*["”’]\s*:?$`)

// cleanTail strips boilerplate from the end of a line, keeping the first
// submatch of re (the sentence end before the tail), if any. The regexp is
// tried only on lines for which applies reports true.
type cleanTail struct {
	re      *regexp.Regexp
	applies func(line string) bool
}

// cleanTails are the tails Clean strips. A line that is nothing but a tail
// is left to cleanJunkRules; each tail needs something before it.
var cleanTails = []cleanTail{
	// "… talks stalled. Read more »", "Continue reading “Title” on Outlet".
	{
		re: regexp.MustCompile(`([.!?…"”’)\]])\s*(?:Read [Mm]ore|READ MORE|Continue [Rr]eading|CONTINUE READING|Read the [Ff]ull (?:[Ss]tory|[Aa]rticle|[Pp]ost)|Read [Ff]ull (?:[Ss]tory|[Aa]rticle))(?:\s+(?:the main story|here|below|on|at|from|in|via)\b[^!?\n]{0,80}|\s*["“‘][^\n]{0,200}["”’](?:\s+(?:on|at)\s+[^!?\n]{1,80})?)?[\s»›→>…:.–—-]*$`),
		applies: func(line string) bool {
			return cleanContainsAny(line, []string{"Read", "READ", "Continue", "CONTINUE"})
		},
	},
	// The link text after an excerpt marker: "… stalled […] Continue".
	{
		re:      regexp.MustCompile(`(\[(?:…|\.\.\.|&hellip;|&#8230;)\])\s*[\p{Lu}»›→>][^.!?\n]{0,60}$`),
		applies: func(line string) bool { return strings.Contains(line, "[") },
	},
	// "The post X appeared first on Y." run into the last paragraph.
	{
		re:      regexp.MustCompile(`([.!?…"”’)\]])\s*The post .{1,300}? appeared first on [^\n]{1,150}$`),
		applies: func(line string) bool { return strings.Contains(line, " appeared first on ") },
	},
	// "© 2026 Outlet. All rights reserved." run into the last paragraph.
	{
		re:      regexp.MustCompile(`([.!?…"”’)\]])\s*(?:©|\([Cc]\)|Copyright\b)[^\n©]{0,150}[Aa]ll [Rr]ights [Rr]eserved\.?$`),
		applies: func(line string) bool { return cleanContainsAny(line, []string{"ights", "IGHTS"}) },
	},
	// "… said Tuesday. (Photo by Jane Doe/Getty Images)" in a line too long
	// to be a caption.
	{
		re:      regexp.MustCompile(`(\S)\s*\((?:(?:AP |AFP |Reuters )?(?:[Pp]hoto|PHOTO|[Ii]mage|[Pp]icture)s?(?: by| courtesy| credit|:)|(?:AP|AFP|EPA|Reuters|Yonhap|Xinhua) (?:Photo|Images?)\b)[^()\n]*\)\.?$`),
		applies: cleanEndsWithParen,
	},
}

// cleanTailWindow is how many bytes at the end of a line the tails are
// looked for in, and cleanMaxTails how many rounds of stripping a line may
// take; together they keep Clean linear on hostile input.
const (
	cleanTailWindow = 1024
	cleanMaxTails   = 8
)

// cleanStripTails strips tails until none is left, so that Clean is
// idempotent. A line that is still shrinking after cleanMaxTails rounds is
// a pile of links and is dropped whole.
func cleanStripTails(line string) string {
	for range cleanMaxTails {
		head, end := "", line
		if len(line) > cleanTailWindow {
			i := len(line) - cleanTailWindow
			for i < len(line) && !utf8.RuneStart(line[i]) {
				i++
			}
			head, end = line[:i], line[i:]
		}
		prev := end
		for _, t := range cleanTails {
			if t.applies(end) {
				end = t.re.ReplaceAllString(end, "$1")
			}
		}
		if end == prev {
			return line
		}
		line = strings.TrimSpace(head + end)
	}
	return ""
}

// cleanIsJunk reports whether a whole line is not part of the story.
func cleanIsJunk(line string) bool {
	if !strings.ContainsFunc(line, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
		return true // separators, dingbats, a lone ellipsis
	}
	n := utf8.RuneCountInString(line)
	if n <= 120 && cleanIsShareBar(line) {
		return true
	}
	if n <= 500 && cleanEndsWithCredit(line) {
		return true
	}
	for _, r := range cleanJunkRules {
		if r.match(line, n) {
			return true
		}
	}
	return false
}

// cleanIsHeading reports whether line is a heading over a list of links.
func cleanIsHeading(line string) bool {
	return utf8.RuneCountInString(line) <= 60 && cleanHeadingRE.MatchString(line)
}

// cleanEndsText reports whether line starts readers' comments.
func cleanEndsText(line string) bool {
	return utf8.RuneCountInString(line) <= 300 && cleanEndRE.MatchString(line)
}

// cleanIsListItem reports whether line looks like a linked headline: short
// and not ending like a sentence of prose.
func cleanIsListItem(line string) bool {
	if utf8.RuneCountInString(line) > 150 {
		return false
	}
	end := strings.TrimRight(cleanFootnoteRE.ReplaceAllString(line, ""), `"'”’)]»› `)
	if end == "" {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(end)
	return !strings.ContainsRune(".,;:", r)
}

// cleanFootnoteRE matches footnote markers at the end of a line: "[1]".
var cleanFootnoteRE = regexp.MustCompile(`(?:\[\d{1,3}\])+$`)

// cleanEndsSentence reports whether line ends like a sentence: with a
// full stop, question or exclamation mark, perhaps inside quotes.
func cleanEndsSentence(line string) bool {
	end := strings.TrimRight(line, `"'”’)] `)
	if end == "" {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(end)
	return r == '.' || r == '!' || r == '?' || r == '…'
}

// cleanIsShareBar reports whether line is a row of share buttons
// ("Share Facebook Twitter Email"): only share words and network names,
// with "share" or "tweet" among them or at least two networks.
func cleanIsShareBar(line string) bool {
	if utf8.RuneCountInString(line) > 120 {
		return false
	}
	share, networks := false, 0
	for w := range strings.FieldsFuncSeq(strings.ToLower(line), func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("|·•/,:", r)
	}) {
		switch w {
		case "share", "shares", "tweet", "copy", "link", "url", "this", "article", "story", "on", "via", "the", "print", "save", "e-mail", "email", "sms":
			share = share || w == "share" || w == "tweet"
		case "facebook", "twitter", "x", "linkedin", "whatsapp", "reddit", "telegram", "pinterest", "messenger", "flipboard", "pocket", "threads", "bluesky", "mastodon", "tumblr":
			networks++
		default:
			return false
		}
	}
	return share || networks >= 2
}

// cleanEndsWithParen reports whether line ends with ")" or ").".
func cleanEndsWithParen(line string) bool {
	return strings.HasSuffix(strings.TrimSuffix(line, "."), ")")
}

// cleanEndsWithCredit reports whether line ends with a news agency's photo
// credit, as captions do: "… Jane Doe / AFP", "… Handout via Reuters",
// "REUTERS/Jane Doe", "…/File Photo". Sentences crediting an agency end
// with a full stop ("the minister told AFP.") and are not matched.
func cleanEndsWithCredit(line string) bool {
	s := strings.TrimSpace(strings.TrimSuffix(line, ")"))
	if strings.HasSuffix(s, "/File Photo") {
		return true
	}
	if i := strings.LastIndex(s, "REUTERS/"); i >= 0 {
		if name := s[i+len("REUTERS/"):]; name != "" && len(name) <= 80 && !cleanEndsSentence(name) {
			r, _ := utf8.DecodeRuneInString(name)
			if unicode.IsUpper(r) {
				return true
			}
		}
	}
	if i := strings.LastIndex(s, "/"); i >= 0 {
		credit := strings.TrimSpace(s[i+1:])
		if agency, via, ok := strings.Cut(credit, " via "); ok {
			if cleanIsAgency(agency) && cleanIsAgency(via) {
				return true
			}
		} else if cleanIsAgency(credit) {
			return true
		}
	}
	if i := strings.LastIndex(s, " via "); i >= 0 && cleanIsAgency(s[i+len(" via "):]) {
		return true
	}
	return false
}

// cleanIsAgency reports whether s names a news or photo agency as it
// appears in photo credits.
func cleanIsAgency(s string) bool {
	switch s {
	case "AFP", "AP", "Reuters", "REUTERS", "Getty Images", "Getty", "EPA", "EPA-EFE",
		"Shutterstock", "Alamy", "Bloomberg", "Xinhua", "Yonhap", "Kyodo", "Anadolu",
		"AAP", "PA", "PA Images", "PA Wire", "dpa", "SIPA", "Sipa USA", "ZUMA Press",
		"NurPhoto", "Pool", "KCNA", "the AP", "The Associated Press", "Associated Press":
		return true
	}
	return false
}

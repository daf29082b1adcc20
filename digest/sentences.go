package digest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentences splits cleaned article text into sentences. Paragraphs are
// separated by blank lines; no sentence spans two paragraphs. Inside a
// paragraph, a single line break ends a sentence when the next line starts
// like one (a capital letter, digit or opening quote) and the line before
// does not end in a comma, colon, semicolon or dash; otherwise it is read as
// a space.
//
// A sentence ends at ".", "!", "?", "…" or "..." followed by white space
// and a character that can start a sentence (not a lower-case letter), with
// closing quotes and brackets kept on the sentence they close ("…said." Next).
// A period does not end a sentence after a title (Mr., Dr., St., Gen.), a
// month before a number (Jan. 5), a number marker (No. 3), or an initial
// or dotted abbreviation (J. Smith, U.S., a.m.) unless the next word is a
// common sentence opener ("The", "He", "But", ...). A period between a
// lower-case letter and a capitalized word with no space ("anything.Thus"),
// as scraped text often has, ends a sentence too. Decimals (3.5) and domain
// names never split.
//
// Sentences are trimmed and their runs of white space collapsed to one
// space; apart from white space, no byte of text is lost or reordered, and
// invalid UTF-8 passes through unchanged.
func Sentences(text string) []string {
	var out []string
	for _, para := range sentenceParagraphs(text) {
		lines := strings.Split(para, "\n")
		start := 0
		for i := range lines {
			if i+1 < len(lines) && !sentenceLineBreak(lines[i], lines[i+1]) {
				continue
			}
			chunk := strings.Join(lines[start:i+1], " ")
			start = i + 1
			out = sentenceSplitChunk(chunk, out)
		}
	}
	return out
}

// sentenceParagraphs splits text at blank lines (lines of white space
// only), normalizing line ends to "\n".
func sentenceParagraphs(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var (
		paras []string
		cur   []string
	)
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, strings.Join(cur, "\n"))
			cur = cur[:0]
		}
	}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return paras
}

// sentenceLineBreak reports whether a single line break between prev and
// next ends a sentence.
func sentenceLineBreak(prev, next string) bool {
	last, _ := utf8.DecodeLastRuneInString(prev)
	switch last {
	case ',', ';', ':', '-', '–', '—', '(', '/', '&':
		return false
	}
	first, _ := utf8.DecodeRuneInString(next)
	return !unicode.IsLower(first)
}

// sentenceSplitChunk splits one run of text without line structure into
// sentences and appends them to out.
func sentenceSplitChunk(s string, out []string) []string {
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '.' || r == '!' || r == '?' || r == '…':
			end := sentenceTerminatorEnd(s, i)
			if sentenceBreakAt(s, start, i, end) {
				out = sentenceAppend(out, s[start:end])
				start = end
			}
			i = end
			continue
		}
		i += size
	}
	return sentenceAppend(out, s[start:])
}

// sentenceTerminatorEnd returns the end of the run of terminal punctuation
// starting at i, with any closing quotes and brackets that follow it.
func sentenceTerminatorEnd(s string, i int) int {
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if r != '.' && r != '!' && r != '?' && r != '…' {
			break
		}
		j += size
	}
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !sentenceIsCloser(r) {
			break
		}
		j += size
	}
	return j
}

// sentenceIsCloser reports whether r closes a quotation or bracket.
func sentenceIsCloser(r rune) bool {
	switch r {
	case '"', '\'', '”', '’', '»', '›', ')', ']', '}':
		return true
	}
	return false
}

// sentenceBreakAt reports whether the terminal punctuation s[i:end] ends
// the sentence begun at start.
func sentenceBreakAt(s string, start, i, end int) bool {
	punct := s[i:end]
	// What follows: the break needs white space, except for the
	// "word.Word" run-together of scraped text.
	rest := s[end:]
	trimmed := strings.TrimLeftFunc(rest, unicode.IsSpace)
	if trimmed == "" {
		return false // the end of the chunk ends the sentence anyway
	}
	spaced := len(trimmed) < len(rest)
	next, _ := utf8.DecodeRuneInString(trimmed)
	if !spaced {
		return punct == "." && sentenceRunTogether(s, start, i, end)
	}
	if unicode.IsLower(next) {
		return false
	}
	if strings.ContainsAny(punct, "!?") || strings.Contains(punct, "…") || strings.Contains(punct, "..") {
		return true
	}
	// A single period (perhaps with closers): look at the word before it.
	if end > i+1 {
		return true // "said." Next: a quotation or bracket closed after the period
	}
	word := sentenceWordBefore(s, start, i)
	nextWord := sentenceWordAfter(trimmed)
	lw := strings.ToLower(word)
	switch {
	case word == "":
		return true
	case sentenceTitles[lw]:
		return false
	case sentenceBeforeNumbers[lw] && next >= '0' && next <= '9':
		return false
	case sentenceIsInitialism(word):
		return sentenceOpeners[nextWord]
	}
	return true
}

// sentenceRunTogether reports whether the period at i, with no space after
// it, joins two sentences run together ("anything.Thus"): a lower-case
// letter before it, a capitalized word after it.
func sentenceRunTogether(s string, start, i, end int) bool {
	prev, _ := utf8.DecodeLastRuneInString(s[start:i])
	if !unicode.IsLower(prev) {
		return false
	}
	word := sentenceWordBefore(s, start, i)
	if strings.ContainsRune(word, '.') || utf8.RuneCountInString(word) < 2 {
		return false
	}
	r1, n1 := utf8.DecodeRuneInString(s[end:])
	r2, _ := utf8.DecodeRuneInString(s[end+n1:])
	return unicode.IsUpper(r1) && unicode.IsLower(r2)
}

// sentenceWordBefore returns the word that ends at i, with any dots inside
// it ("U.S" for "U.S."), without leading quotes or brackets.
func sentenceWordBefore(s string, start, i int) string {
	j := i
	for j > start {
		r, size := utf8.DecodeLastRuneInString(s[start:j])
		if unicode.IsSpace(r) {
			break
		}
		j -= size
	}
	return strings.TrimLeftFunc(s[j:i], func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// sentenceWordAfter returns the leading word of s, without opening quotes.
func sentenceWordAfter(s string) string {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '’' })
	if end >= 0 {
		s = s[:end]
	}
	return s
}

// sentenceIsInitialism reports whether word (without its final period) is
// an initial ("J"), or letters joined by dots ("U.S", "a.m", "Ph.D").
func sentenceIsInitialism(word string) bool {
	if utf8.RuneCountInString(word) == 1 {
		r, _ := utf8.DecodeRuneInString(word)
		return unicode.IsUpper(r)
	}
	if !strings.Contains(word, ".") {
		return false
	}
	for part := range strings.SplitSeq(word, ".") {
		n := utf8.RuneCountInString(part)
		if n == 0 || n > 2 || strings.IndexFunc(part, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
			return false
		}
	}
	return true
}

// sentenceAppend appends s, trimmed and with white space collapsed, unless
// it is empty.
func sentenceAppend(out []string, s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		out = append(out, strings.Join(f, " "))
	}
	return out
}

// sentenceTitles are abbreviations that precede a name and never end a
// sentence.
var sentenceTitles = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "st": true,
	"gen": true, "lt": true, "col": true, "maj": true, "capt": true, "cpt": true,
	"sgt": true, "cmdr": true, "adm": true, "gov": true, "sen": true, "rep": true,
	"rev": true, "hon": true, "pres": true, "supt": true, "insp": true, "det": true,
	"mt": true, "ft": true, "messrs": true, "mme": true, "mlle": true,
	"vs": true, "v": true, "cf": true, "approx": true, "ave": true, "blvd": true,
}

// sentenceBeforeNumbers are abbreviations that do not end a sentence when a
// number follows (Jan. 5, No. 3, p. 12).
var sentenceBeforeNumbers = map[string]bool{
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true,
	"aug": true, "sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
	"no": true, "nos": true, "vol": true, "p": true, "pp": true, "fig": true,
	"art": true, "sec": true, "ch": true, "ed": true, "est": true,
}

// sentenceOpeners are words that commonly start a sentence; after an
// initialism (U.S., a.m.) they mean the period ended the sentence.
var sentenceOpeners = map[string]bool{
	"The": true, "A": true, "An": true, "He": true, "She": true, "It": true,
	"They": true, "We": true, "I": true, "You": true, "But": true, "And": true,
	"In": true, "On": true, "At": true, "This": true, "That": true, "These": true,
	"Those": true, "There": true, "His": true, "Her": true, "Its": true,
	"Their": true, "Our": true, "If": true, "When": true, "While": true,
	"After": true, "Before": true, "As": true, "However": true, "Meanwhile": true,
	"Officials": true, "Some": true, "Many": true, "Most": true, "One": true,
	"Two": true, "Still": true, "Yet": true, "So": true, "Since": true,
	"Last": true, "Earlier": true, "Later": true, "Now": true, "For": true,
	"According": true, "Under": true, "What": true, "Who": true, "Why": true,
	"How": true, "Both": true, "Neither": true, "Such": true, "Also": true,
}

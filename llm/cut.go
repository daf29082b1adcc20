package llm

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/prompts"
)

// estimateTokens approximates how many tokens s takes: a quarter of a
// token per ASCII byte (English averages about four characters a token)
// and one per other character (a CJK character is about one token; an
// accented letter is overcounted, which errs on the side of the budget).
func estimateTokens(s string) int {
	ascii, other := 0, 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			ascii++
		} else {
			other++
		}
	}
	return (ascii+3)/4 + other
}

// articleOverhead is the estimated tokens of an article's fence and
// header lines, beyond its outlet, title and text.
const articleOverhead = 30

// selection is what of a story the prompt shows.
type selection struct {
	// articles are numbered from 1, in the story's order.
	articles []prompts.Article
	// origin maps a prompt article (its Index minus 1) to its index in
	// Story.Articles.
	origin []int
}

// selectArticles picks what of a story to send, within capTokens of
// article text (estimated). Near-duplicates (wire copies) add nothing, so
// only the first of each group is sent and cited. When the rest is still
// too long, it is cut by relevance, never mid-sentence: whole articles
// from the end of the story (the least representative) while the titles
// alone do not fit, then the sentences least central to the story (least
// shared with its other articles) and latest in their article. A cut
// story sends a sentence once: one that repeats a sentence already chosen
// (rewrites of wire copy keep many of its sentences) is left out like an
// irrelevant one. Omitted runs of sentences are marked with "[…]".
func selectArticles(story digest.Story, capTokens int) selection {
	var sel selection
	var kept []digest.Article
	for i, a := range story.Articles {
		if slices.ContainsFunc(kept, func(k digest.Article) bool { return sameText(a, k) }) {
			continue
		}
		kept = append(kept, a)
		sel.origin = append(sel.origin, i)
	}

	overhead := func(a digest.Article) int {
		return articleOverhead + estimateTokens(a.Outlet) + estimateTokens(a.Title)
	}
	total := 0
	for _, a := range kept {
		total += overhead(a) + estimateTokens(a.Text)
	}
	if total <= capTokens {
		for k, a := range kept {
			sel.articles = append(sel.articles, promptArticle(k, a, a.Text))
		}
		return sel
	}

	// Drop whole articles from the end while the headers alone overflow.
	heads := 0
	for _, a := range kept {
		heads += overhead(a)
	}
	for len(kept) > 1 && heads > capTokens {
		heads -= overhead(kept[len(kept)-1])
		kept = kept[:len(kept)-1]
		sel.origin = sel.origin[:len(sel.origin)-1]
	}

	type unit struct {
		article, para, pos int // pos: sentence position in its article
		text               string
		tokens             int
		score              float64
	}
	var units []unit
	docs := make([][]string, len(kept))
	for k, a := range kept {
		pos := 0
		for p, para := range paragraphs(a.Text) {
			for _, s := range splitSentences(para) {
				units = append(units, unit{article: k, para: p, pos: pos, text: s, tokens: estimateTokens(s) + 1})
				docs[k] = append(docs[k], s)
				pos++
			}
		}
	}
	df := documentFrequency(kept)
	for i := range units {
		u := &units[i]
		u.score = centrality(u.text, df, kept[u.article].Title) / (1 + 0.15*float64(u.pos)) / (1 + 0.1*float64(u.article))
	}
	order := make([]int, len(units))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case units[a].score > units[b].score:
			return -1
		case units[a].score < units[b].score:
			return 1
		}
		return 0
	})
	room := capTokens - heads
	chosen := make([]bool, len(units))
	var sent []map[string]bool // the word pairs of each chosen sentence
	for _, i := range order {
		if units[i].tokens > room {
			continue
		}
		pairs := wordPairs(units[i].text)
		if slices.ContainsFunc(sent, func(s map[string]bool) bool { return repeats(pairs, s) }) {
			continue
		}
		chosen[i] = true
		room -= units[i].tokens
		sent = append(sent, pairs)
	}

	texts := make([]strings.Builder, len(kept))
	lastPara := make([]int, len(kept))
	gap := make([]bool, len(kept))
	for i := range lastPara {
		lastPara[i] = -1
	}
	for i, u := range units {
		b := &texts[u.article]
		if !chosen[i] {
			gap[u.article] = true
			continue
		}
		switch {
		case b.Len() == 0:
			if gap[u.article] {
				b.WriteString("[…] ")
			}
		case u.para != lastPara[u.article]:
			if gap[u.article] {
				b.WriteString(" […]")
			}
			b.WriteString("\n\n")
		case gap[u.article]:
			b.WriteString(" […] ")
		default:
			b.WriteByte(' ')
		}
		b.WriteString(u.text)
		gap[u.article] = false
		lastPara[u.article] = u.para
	}
	for k, a := range kept {
		text := texts[k].String()
		if gap[k] && text != "" {
			text += " […]"
		}
		sel.articles = append(sel.articles, promptArticle(k, a, text))
	}
	return sel
}

func promptArticle(k int, a digest.Article, text string) prompts.Article {
	return prompts.Article{Index: k + 1, Outlet: a.Outlet, Title: a.Title, Published: a.Published, Text: text}
}

// sameText reports whether two articles of a story carry the same text:
// the same article, an exact copy, or a near-duplicate (a wire copy).
func sameText(a, b digest.Article) bool {
	switch {
	case a.ID != "" && a.ID == b.ID:
		return true
	case a.ContentHash != "" && a.ContentHash == b.ContentHash:
		return true
	case a.DuplicateOf != "" && a.DuplicateOf == b.ID, b.DuplicateOf != "" && b.DuplicateOf == a.ID:
		return true
	}
	return digest.IsNearDuplicate(a.Signature, b.Signature)
}

// paragraphs splits text at line breaks into non-empty paragraphs.
func paragraphs(text string) []string {
	var ps []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			ps = append(ps, line)
		}
	}
	return ps
}

// abbreviations end with a dot that does not end a sentence.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "st": true, "gen": true,
	"sen": true, "rep": true, "gov": true, "lt": true, "col": true, "sgt": true, "capt": true,
	"jr": true, "sr": true, "inc": true, "corp": true, "ltd": true, "co": true,
	"vs": true, "etc": true, "jan": true, "feb": true, "mar": true, "apr": true, "aug": true,
	"sep": true, "sept": true, "oct": true, "nov": true, "dec": true, "approx": true, "est": true,
}

// splitSentences splits a paragraph into sentences at a full stop,
// question or exclamation mark (with any closing quotes or brackets)
// followed by a space and a capital, digit or opening quote, unless the
// dot ends an abbreviation or an initial ("U.S.", "J."). CJK full stops
// always end a sentence.
func splitSentences(p string) []string {
	rs := []rune(p)
	var out []string
	start := 0
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '。' || r == '！' || r == '？' {
			out = appendSentence(out, rs[start:i+1])
			start = i + 1
			continue
		}
		if r != '.' && r != '!' && r != '?' && r != '…' {
			continue
		}
		j := i + 1
		for j < len(rs) && strings.ContainsRune(`"'”’»)]`, rs[j]) {
			j++
		}
		if j >= len(rs) || !unicode.IsSpace(rs[j]) {
			continue
		}
		k := j
		for k < len(rs) && unicode.IsSpace(rs[k]) {
			k++
		}
		if k < len(rs) && !(unicode.IsUpper(rs[k]) || unicode.IsDigit(rs[k]) || strings.ContainsRune(`"'“‘«(`, rs[k]) || !unicode.IsLower(rs[k]) && unicode.IsLetter(rs[k])) {
			continue
		}
		if r == '.' {
			w := i
			for w > start && (unicode.IsLetter(rs[w-1]) || rs[w-1] == '.') {
				w--
			}
			word := strings.ToLower(strings.Trim(string(rs[w:i]), "."))
			if abbreviations[word] || (utf8.RuneCountInString(word) == 1 && unicode.IsUpper(rs[w])) || strings.Contains(word, ".") {
				continue
			}
		}
		out = appendSentence(out, rs[start:j])
		start = k
		i = k - 1
	}
	return appendSentence(out, rs[start:])
}

func appendSentence(out []string, rs []rune) []string {
	if s := strings.TrimSpace(string(rs)); s != "" {
		out = append(out, s)
	}
	return out
}

// documentFrequency counts, for each content word, in how many of the
// articles (title and text) it occurs.
func documentFrequency(articles []digest.Article) map[string]int {
	df := make(map[string]int)
	for _, a := range articles {
		seen := make(map[string]bool)
		for _, w := range digest.Words(a.Title + " " + a.Text) {
			if contentWord(w) && !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	return df
}

// contentWord reports whether a (lower-case) word carries meaning enough to
// measure centrality by: words of four letters or more, and numbers.
func contentWord(w string) bool {
	return utf8.RuneCountInString(w) >= 4 || strings.IndexFunc(w, unicode.IsDigit) >= 0 || strings.IndexFunc(w, func(r rune) bool { return r > unicode.MaxLatin1 }) >= 0
}

// centrality scores a sentence by how much of it the story's articles
// share (and its article's title states), normalized for length so that
// long sentences do not win by size alone.
func centrality(sentence string, df map[string]int, title string) float64 {
	inTitle := make(map[string]bool)
	for _, w := range digest.Words(title) {
		inTitle[w] = true
	}
	seen := make(map[string]bool)
	score := 0.0
	for _, w := range digest.Words(sentence) {
		if !contentWord(w) || seen[w] {
			continue
		}
		seen[w] = true
		score += float64(df[w])
		if inTitle[w] {
			score++
		}
	}
	return score / math.Sqrt(float64(len(seen)+4))
}

// wordPairs returns the pairs of consecutive words of a sentence (its one
// word if it has only one).
func wordPairs(sentence string) map[string]bool {
	words := digest.Words(sentence)
	pairs := make(map[string]bool, len(words))
	if len(words) == 1 {
		pairs[words[0]] = true
	}
	for i := 1; i < len(words); i++ {
		pairs[words[i-1]+" "+words[i]] = true
	}
	return pairs
}

// repeatShare is how much of a sentence's word pairs another sentence must
// contain for the first to repeat it: a copy of a twenty-word sentence
// with one word changed still repeats it (17 of its 19 pairs are shared),
// a sentence that only shares the story's names and phrases does not.
const repeatShare = 0.8

// repeats reports whether the sentence of word pairs p repeats the one of
// word pairs q: at least repeatShare of p's pairs are q's.
func repeats(p, q map[string]bool) bool {
	if len(p) == 0 {
		return false
	}
	shared := 0
	for w := range p {
		if q[w] {
			shared++
		}
	}
	return float64(shared) >= repeatShare*float64(len(p))
}

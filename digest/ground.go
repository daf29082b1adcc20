package digest

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Ungrounded returns the claims of a bullet that its sources do not
// support, in the order they appear in the bullet; an empty result means
// the bullet is grounded. Sources are the texts (title and text) of the
// articles the bullet cites.
//
// Three kinds of claim are checked, the kinds a summarizer invents most
// often and a reader trusts most:
//
//   - numbers: digits ("3.5", "1,200", "40%", "$3bn", "21st") and
//     spelled-out numbers from two up ("five", "twenty-one", "three
//     million"). They are compared by value: "1,200" is supported by
//     "1200", "3 million" by "3,000,000" and "5" by "five". A percentage
//     needs a percentage ("40%" by "40 per cent", not by "40 people").
//   - quotations of at least two words between "…", “…”, „…“ or «…»: the
//     quoted words must appear in this order in one source.
//   - names: runs of capitalised words ("Kim Jong Un", "Bank of Korea").
//     A capitalised common word that starts a sentence ("The", "After",
//     "Officials") is not a name. Each word of a name must occur in the
//     sources; titles such as "President" need not.
//
// Comparison ignores case and accents and respects word boundaries, so
// "Ban" is not supported by "Bank". A bullet that shares almost no
// vocabulary with its sources is taken to be a translation: its names and
// quotations are legitimately different, and only its numbers are checked.
// The heuristics are tuned for English and languages like it: uncased
// scripts (Korean, Chinese) have no capitalised names to check, and in
// languages that capitalise every noun (German) a paraphrased noun counts
// as a name.
func Ungrounded(bullet string, sources []string) []string {
	return groundClaims(bullet, sources, true)
}

// UngroundedSameLanguage is Ungrounded for a bullet known to be written in
// the language of its sources, as a summary is when no other language was
// asked for: it is never taken for a translation, so its names and
// quotations are always checked. An English bullet that shares few words
// with its English sources ("Mayor Ilse Varga has resigned, the council
// said.") is then no translation but a claim of what they do not say.
func UngroundedSameLanguage(bullet string, sources []string) []string {
	return groundClaims(bullet, sources, false)
}

// groundClaims is Ungrounded; mayTranslate false means the bullet is in
// its sources' language.
func groundClaims(bullet string, sources []string, mayTranslate bool) []string {
	idx := groundIndexSources(sources)
	toks := groundTokenize(bullet)
	translated := mayTranslate && groundLooksTranslated(toks, idx)

	var claims []string
	seen := make(map[string]bool)
	add := func(c string) {
		if c != "" && !seen[c] {
			seen[c] = true
			claims = append(claims, c)
		}
	}
	type found struct {
		pos   int
		claim string
	}
	var all []found
	quotes := groundQuotes(bullet)
	// A quotation is checked whole: what is inside it is not checked again.
	quoted := func(pos int) bool {
		return !translated && slices.ContainsFunc(quotes, func(q groundQuote) bool { return pos > q.pos && pos < q.end })
	}
	for _, n := range groundNumbers(toks, false) {
		if !quoted(n.pos) && !idx.hasNumber(n) {
			all = append(all, found{n.pos, n.text})
		}
	}
	if !translated {
		for _, q := range quotes {
			if !idx.hasPhrase(groundWords(q.inner)) {
				all = append(all, found{q.pos, q.text})
			}
		}
		for _, nm := range groundNames(toks) {
			if !quoted(nm.pos) && !idx.hasWords(nm.words) {
				all = append(all, found{nm.pos, nm.text})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b found) int { return a.pos - b.pos })
	for _, f := range all {
		add(f.claim)
	}
	return claims
}

// groundIndex is what the sources say, folded for comparison.
type groundIndex struct {
	words   map[string]bool
	phrases []string // one per source: " w1 w2 ... wn "
	numbers []groundNumber
	script  string // the script most of the sources are written in
}

func groundIndexSources(sources []string) groundIndex {
	idx := groundIndex{words: make(map[string]bool), script: groundScript(strings.Join(sources, " "))}
	for _, s := range sources {
		ws := groundWords(s)
		for _, w := range ws {
			idx.words[w] = true
		}
		toks := groundTokenize(s)
		for _, t := range toks {
			if t.kind == groundWord && strings.Contains(t.text, ".") {
				idx.words[groundFold(strings.ReplaceAll(t.text, ".", ""))] = true // "U.S." is also "us"
			}
		}
		idx.phrases = append(idx.phrases, " "+strings.Join(ws, " ")+" ")
		idx.numbers = append(idx.numbers, groundNumbers(toks, true)...)
	}
	return idx
}

func (idx groundIndex) hasNumber(n groundNumber) bool {
	for _, m := range idx.numbers {
		if groundSameValue(n.value, m.value) && (!n.percent || m.percent) {
			return true
		}
	}
	return false
}

func (idx groundIndex) hasPhrase(words []string) bool {
	if len(words) == 0 {
		return true
	}
	p := " " + strings.Join(words, " ") + " "
	for _, s := range idx.phrases {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func (idx groundIndex) hasWords(words []string) bool {
	for _, w := range words {
		if !idx.words[w] {
			return false
		}
	}
	return true
}

// groundLooksTranslated reports whether the bullet is in another language
// than its sources: written in another script, or sharing less than a
// sixth of its words with them over at least eight words.
func groundLooksTranslated(toks []groundToken, idx groundIndex) bool {
	if len(idx.words) == 0 {
		return false
	}
	var text strings.Builder
	total, shared := 0, 0
	for _, t := range toks {
		if t.kind != groundWord {
			continue
		}
		text.WriteString(t.text)
		for _, w := range groundWords(t.text) {
			if len([]rune(w)) < 2 {
				continue
			}
			total++
			if idx.words[w] {
				shared++
			}
		}
	}
	if s := groundScript(text.String()); s != "" && s != idx.script {
		return true
	}
	return total >= 8 && shared*6 < total
}

// groundScripts are the scripts told apart when looking for translations.
var groundScripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Hangul", unicode.Hangul}, {"Han", unicode.Han}, {"Hiragana", unicode.Hiragana},
	{"Katakana", unicode.Katakana}, {"Arabic", unicode.Arabic}, {"Hebrew", unicode.Hebrew},
	{"Thai", unicode.Thai}, {"Devanagari", unicode.Devanagari},
}

// groundScript returns the script most letters of s are written in, or ""
// for text without letters. Japanese kana count as Han, which they are
// written with.
func groundScript(s string) string {
	counts := make(map[string]int)
	for _, r := range s {
		for _, sc := range groundScripts {
			if unicode.Is(sc.table, r) {
				name := sc.name
				if name == "Hiragana" || name == "Katakana" {
					name = "Han"
				}
				counts[name]++
				break
			}
		}
	}
	best, n := "", 0
	for _, sc := range groundScripts {
		if counts[sc.name] > n {
			best, n = sc.name, counts[sc.name]
		}
	}
	return best
}

// groundFold lower-cases s and strips accents from Latin letters.
func groundFold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // combining marks of decomposed text
		}
		if f, ok := groundFolds[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// groundFolds maps accented lower-case letters to their plain spelling. It
// is built once and only read.
var groundFolds = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ð': "d", 'ł': "l", 'ø': "o", 'đ': "d", 'ħ': "h", 'ı': "i"}
	for plain, accented := range map[string]string{
		"a": "àáâãäåāăąǎ",
		"c": "çćĉċč",
		"d": "ď",
		"e": "èéêëēĕėęě",
		"g": "ĝğġģ",
		"h": "ĥ",
		"i": "ìíîïĩīĭįǐ",
		"j": "ĵ",
		"k": "ķ",
		"l": "ĺļľŀ",
		"n": "ñńņň",
		"o": "òóôõöōŏőǒ",
		"r": "ŕŗř",
		"s": "śŝşšș",
		"t": "ţťŧț",
		"u": "ùúûüũūŭůűųǔ",
		"w": "ŵ",
		"y": "ýÿŷ",
		"z": "źżž",
	} {
		for _, r := range accented {
			m[r] = plain
		}
	}
	return m
}()

// groundWords splits folded text into words of letters and digits.
func groundWords(s string) []string {
	return strings.FieldsFunc(groundFold(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

type groundKind int

const (
	groundWord groundKind = iota
	groundNum
	groundPunct
)

// groundToken is a word, a number or a punctuation mark of a text.
type groundToken struct {
	text string
	kind groundKind
	pos  int // rune offset in the text
	// start marks the first word of a sentence (or of a quotation).
	start bool
	// digits and suffix split a number token: "3.5bn" is "3.5" and "bn".
	digits, suffix string
}

// groundTokenize splits text into tokens. Words keep inner apostrophes and
// hyphens ("Kim's", "Jong-un") and abbreviation dots ("U.S"); numbers keep
// inner separators ("1,200", "3.5") and attached suffixes ("21st", "3bn").
func groundTokenize(s string) []groundToken {
	rs := []rune(s)
	var toks []groundToken
	start := true
	isWordRune := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) }
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			if r == '\n' {
				start = true
			}
			i++
		case unicode.IsDigit(r):
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || ((rs[j] == '.' || rs[j] == ',') && j+1 < len(rs) && unicode.IsDigit(rs[j+1]) && unicode.IsDigit(rs[j-1]))) {
				j++
			}
			k := j
			for k < len(rs) && isWordRune(rs[k]) {
				k++
			}
			kind := groundNum
			if i > 0 && unicode.IsLetter(rs[i-1]) {
				kind = groundWord // part of an identifier such as "G7"
			}
			toks = append(toks, groundToken{text: string(rs[i:k]), kind: kind, pos: i, start: start, digits: string(rs[i:j]), suffix: string(rs[j:k])})
			start = false
			i = k
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			j := i + 1
			seg := 1 // letters since the last inner dot
			for j < len(rs) {
				c := rs[j]
				if isWordRune(c) {
					j++
					seg++
					continue
				}
				next := j+1 < len(rs) && unicode.IsLetter(rs[j+1])
				if next && (c == '\'' || c == '’' || c == '-' || c == '‐') {
					j++
					seg = 0
					continue
				}
				if next && c == '.' && seg == 1 {
					j++
					seg = 0
					continue
				}
				break
			}
			toks = append(toks, groundToken{text: string(rs[i:j]), kind: groundWord, pos: i, start: start})
			start = false
			i = j
		default:
			toks = append(toks, groundToken{text: string(r), kind: groundPunct, pos: i})
			switch r {
			case '.', '!', '?', ':', ';', '…', '"', '“', '„', '«', '»', '(', '—', '•':
				start = true
			}
			i++
		}
	}
	return toks
}

// groundNumber is a number stated in a text.
type groundNumber struct {
	text    string
	pos     int
	value   float64
	percent bool
}

// groundNumbers finds the numbers among toks. In sources (source true)
// every number counts; in bullets "one" alone is too often a pronoun to
// be a claim.
func groundNumbers(toks []groundToken, source bool) []groundNumber {
	var nums []groundNumber
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		var value, raw float64
		j := i + 1 // first token after the number
		spelled := false
		switch t.kind {
		case groundNum:
			v, ok := groundParseDigits(t.digits)
			if !ok {
				continue
			}
			value, raw = v, v
			if m, ok := groundSuffixes[strings.ToLower(t.suffix)]; ok {
				value *= m
			}
		case groundWord:
			v, n, ok := groundSpelled(toks[i:])
			if !ok {
				continue
			}
			value, raw, j, spelled = v, v, i+n, true
		default:
			continue
		}
		for j < len(toks) && toks[j].kind == groundWord {
			m, ok := groundScales[groundFold(toks[j].text)]
			if !ok {
				break
			}
			value *= m
			j++
		}
		percent := false
		if j < len(toks) {
			switch w := groundFold(toks[j].text); {
			case w == "%" || w == "percent" || w == "pct" || w == "prozent" || w == "pourcent":
				percent = true
				j++
			case w == "per" && j+1 < len(toks) && groundFold(toks[j+1].text) == "cent":
				percent = true
				j += 2
			}
		}
		if spelled && !source && value == 1 && j == i+1 {
			continue
		}
		nums = append(nums, groundNumber{text: groundJoin(toks[i:j]), pos: t.pos, value: value, percent: percent})
		if source && raw != value {
			// "100m" may be metres, "3 million people" supports "3 people"
			// in a looser paraphrase: sources state the bare number too.
			nums = append(nums, groundNumber{text: t.text, pos: t.pos, value: raw, percent: percent})
		}
		i = j - 1
	}
	return nums
}

// groundJoin writes tokens back as text, without a space before "%".
func groundJoin(toks []groundToken) string {
	var b strings.Builder
	for k, t := range toks {
		if k > 0 && t.text != "%" {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// groundParseDigits reads "1,200", "1.200.000", "3.5" or "3,5" as a value.
// A lone separator followed by exactly three digits is a thousands
// separator when it is a comma and a decimal point when it is a dot.
func groundParseDigits(s string) (float64, bool) {
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	var dec byte
	switch {
	case lastDot >= 0 && lastComma >= 0:
		dec = '.'
		if lastComma > lastDot {
			dec = ','
		}
	case lastComma >= 0:
		if !groundThousands(s, ',') {
			dec = ','
		}
	case lastDot >= 0:
		if strings.Count(s, ".") > 1 && groundThousands(s, '.') {
			dec = 0
		} else {
			dec = '.'
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == dec:
			b.WriteByte('.')
		case c == '.' || c == ',':
			// a thousands separator
		default:
			b.WriteByte(c)
		}
	}
	v, err := strconv.ParseFloat(b.String(), 64)
	return v, err == nil
}

// groundThousands reports whether every group after the first separator
// has exactly three digits.
func groundThousands(s string, sep byte) bool {
	groups := strings.Split(s, string(sep))
	if len(groups[0]) > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

func groundSameValue(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// groundSuffixes are the scales that may follow digits directly ("3bn",
// "$5m", "10k"). Other letters after digits (ordinals, units, counters:
// "21st", "400ft", "1,300명") leave the value as it is.
var groundSuffixes = map[string]float64{
	"k": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "b": 1e9, "bn": 1e9, "tn": 1e12, "trn": 1e12,
}

// groundScales are scale words that multiply the number before them.
var groundScales = map[string]float64{
	"hundred": 100, "thousand": 1e3, "million": 1e6, "millions": 1e6, "mn": 1e6, "mln": 1e6,
	"billion": 1e9, "billions": 1e9, "bn": 1e9, "trillion": 1e12, "tn": 1e12,
}

// groundUnits are the spelled-out numbers below a hundred that are not
// compounds.
var groundUnits = map[string]float64{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
	"fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
	"nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
	"seventy": 70, "eighty": 80, "ninety": 90,
}

// groundSpelled reads a spelled-out number at the start of toks ("five",
// "twenty-one", "twenty one") and returns its value and how many tokens it
// took. Scale words after it are left to the caller.
func groundSpelled(toks []groundToken) (float64, int, bool) {
	parts := strings.FieldsFunc(groundFold(toks[0].text), func(r rune) bool { return r == '-' || r == '‐' })
	if len(parts) == 0 {
		return 0, 0, false
	}
	var v float64
	for _, p := range parts {
		u, ok := groundUnits[p]
		if !ok {
			return 0, 0, false
		}
		v += u
	}
	n := 1
	if len(parts) == 1 && v >= 20 && v < 100 && len(toks) > 1 && toks[1].kind == groundWord {
		if u, ok := groundUnits[groundFold(toks[1].text)]; ok && u > 0 && u < 10 {
			v += u
			n++
		}
	}
	return v, n, true
}

// groundQuote is a quotation in a text.
type groundQuote struct {
	text, inner string
	pos, end    int // rune offsets of the opening and closing marks
}

// groundQuotePairs maps opening quotation marks to their closing marks.
var groundQuotePairs = map[rune]string{'"': `"`, '“': "”", '„': "“”", '«': "»", '「': "」", '『': "』"}

// groundQuotes finds quotations of at least two words.
func groundQuotes(s string) []groundQuote {
	rs := []rune(s)
	var qs []groundQuote
	for i := 0; i < len(rs); i++ {
		closers, ok := groundQuotePairs[rs[i]]
		if !ok {
			continue
		}
		j := i + 1
		for j < len(rs) && !strings.ContainsRune(closers, rs[j]) {
			j++
		}
		if j == len(rs) {
			break
		}
		inner := string(rs[i+1 : j])
		if inner != strings.TrimSpace(inner) {
			continue // a closing mark taken for an opening one: `said, " she`
		}
		if len(groundWords(inner)) >= 2 {
			qs = append(qs, groundQuote{text: string(rs[i : j+1]), inner: inner, pos: i, end: j})
		}
		i = j
	}
	return qs
}

// groundName is a run of capitalised words in a bullet.
type groundName struct {
	text  string
	pos   int
	words []string // folded words that must occur in the sources
}

// groundNames finds names: runs of capitalised words, joined by
// connectors such as "of" or "van", that do not merely start a sentence
// with a common word.
func groundNames(toks []groundToken) []groundName {
	var names []groundName
	for i := 0; i < len(toks); i++ {
		if !groundIsName(toks[i]) {
			continue
		}
		j := i + 1
		for j < len(toks) {
			if groundIsName(toks[j]) && !toks[j].start {
				j++
				continue
			}
			if j+1 < len(toks) && toks[j].kind == groundWord && groundConnectors[toks[j].text] && groundIsName(toks[j+1]) && !toks[j+1].start {
				j += 2
				continue
			}
			break
		}
		var words []string
		for _, t := range toks[i:j] {
			if groundConnectors[t.text] {
				continue
			}
			for _, w := range groundWords(strings.ReplaceAll(groundTrimPossessive(t.text), ".", "")) {
				if !groundTitles[w] {
					words = append(words, w)
				}
			}
		}
		if len(words) > 0 {
			names = append(names, groundName{text: groundTrimPossessive(groundJoin(toks[i:j])), pos: toks[i].pos, words: words})
		}
		i = j - 1
	}
	return names
}

// groundIsName reports whether t may be (part of) a name: a capitalised
// word that is not a common word starting a sentence, nor "I".
func groundIsName(t groundToken) bool {
	if t.kind != groundWord {
		return false
	}
	first := []rune(t.text)[0]
	if !unicode.IsUpper(first) || t.text == "I" {
		return false
	}
	if t.start {
		w := groundFold(groundTrimPossessive(t.text))
		if groundCommon[w] || (strings.HasSuffix(w, "ly") && len(w) > 4) {
			return false // a function word, a frequent noun, an adverb
		}
		if _, ok := groundUnits[w]; ok {
			return false
		}
	}
	return true
}

func groundTrimPossessive(s string) string {
	for _, p := range []string{"'s", "’s", "'", "’"} {
		if t, ok := strings.CutSuffix(s, p); ok && t != "" {
			return t
		}
	}
	return s
}

// groundConnectors may join the capitalised words of one name.
var groundConnectors = map[string]bool{
	"of": true, "de": true, "du": true, "des": true, "del": true, "della": true, "der": true,
	"den": true, "van": true, "von": true, "la": true, "le": true, "al": true, "bin": true,
	"da": true, "di": true, "dos": true, "y": true,
}

// groundTitles are words of a name that a paraphrase may add or drop.
var groundTitles = map[string]bool{
	"president": true, "prime": true, "minister": true, "mr": true, "mrs": true, "ms": true,
	"dr": true, "sir": true, "dame": true, "king": true, "queen": true, "prince": true,
	"princess": true, "pope": true, "chancellor": true, "secretary": true, "general": true,
	"senator": true, "sen": true, "rep": true, "governor": true, "gov": true, "mayor": true,
	"judge": true, "justice": true, "chief": true, "ceo": true, "chairman": true,
	"chairwoman": true, "chair": true, "vice": true, "deputy": true, "leader": true,
	"lord": true, "lady": true, "premier": true, "spokesperson": true, "spokesman": true,
	"spokeswoman": true, "foreign": true, "state": true, "pm": true, "gen": true,
	"sgt": true, "capt": true, "col": true, "lt": true, "prof": true, "rev": true,
}

// groundCommon are capitalised only because they start a sentence. The
// list holds function words and the nouns news bullets most often start
// with; a missed one is still found in a source case-insensitively.
var groundCommon = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`
		a an the this that these those there here it its in on at after before during while
		when where why how what who whom whose which but and or so yet as if for from with
		without by to of also meanwhile however although though despite since until under
		over about according both all some many most several other others another each every
		no not nor he she they we you his her their our my your them us one more less only
		just still even then now today yesterday tomorrow later earlier last next new amid
		among between against into onto through across around near nearly almost about
		officials police authorities analysts experts critics residents lawmakers talks
		protesters investors shares prices markets government governments troops forces
		rescuers witnesses voters leaders negotiators diplomats sources researchers
		scientists doctors workers students reports report data figures prosecutors
		regulators companies firms banks demonstrators per yes yeah enough cops
		victims people families parents children officers soldiers fans users
		customers consumers employees staff members supporters opponents
		republicans democrats conservatives liberals meanwhile still instead
		overall once twice finally first second third next last please note
		le la les un une des et en au aux der die das ein eine und el los las y`) {
		m[w] = true
	}
	return m
}()

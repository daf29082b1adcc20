package digest

import (
	"cmp"
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Extractive is the built-in summarizer: it needs no network and writes
// bullets only from sentences of the story's own articles, each citing the
// articles it appears in.
//
// Summarize splits each article's text into sentences and throws away
// boilerplate (see extractIsBoilerplate): sentences under 6 or over 60
// words, questions, lines that do not end like a sentence (headings,
// captions, datelines on their own), sentences with links, e-mail
// addresses or @handles, calls to click, subscribe, sign up, read more or
// follow, copyright lines, photo captions and credits, bylines, instructions
// injected for language models (see Injected), lines that
// are mostly not letters or mostly capitals, fragments that start in
// lower case, and, once the
// summarizer knows the briefing's other stories (WithStories), sentences
// that recur across them. A leading dateline ("GENEVA (Reuters) -") is cut
// from a kept sentence. Near-identical sentences in several articles (wire
// copies) become one candidate that cites all of them.
//
// Each candidate scores
//
//	score = cos(s, centroid) × (0.25 + 0.75/√(1+pos)) × (1 + 0.3·ln outlets)
//
// where the vectors are TF-IDF over the story's sentences (stop words
// left out), centroid is the sum of all sentence occurrences in the story
// (a wire sentence carried by three outlets counts three times), pos is
// the sentence's position among its article's kept sentences (the lead is
// 0: news puts the news first) and outlets counts the outlets carrying it.
// The summary is chosen greedily by maximal marginal relevance, 0.5·score
// (scaled to the best) minus 0.5·(highest cosine with a chosen sentence);
// a sentence with cosine above 0.3 to a chosen one is never taken. The
// word budget is strict: a sentence that does not fit is skipped in favour
// of a shorter one.
//
// Bullets appear in reading order: by position in their article (leads
// first), then by article order in the story.
//
// The zero value is ready to use; so is NewExtractive(). An Extractive is
// safe for concurrent use.
type Extractive struct {
	// MaxBulletsOverride, when positive, replaces the 1 to 4 bullet limit
	// of SummaryRequest.MaxBullets (and its default of 3). It exists for
	// evaluation runs that summarize at a reference summary's length; the
	// bot leaves it zero.
	MaxBulletsOverride int

	// seen maps a sentence key to the IDs of the articles, from the
	// stories given to WithStories, that contain it; storyOf maps those
	// article IDs to their story's index.
	seen    map[string][]string
	storyOf map[string]int
	// stories counts the stories given to WithStories.
	stories int
}

var _ Summarizer = (*Extractive)(nil)

// NewExtractive returns an extractive summarizer with default settings.
func NewExtractive() *Extractive {
	return &Extractive{}
}

// Tuning of the extractive summarizer.
const (
	// extractDefaultBullets and extractDefaultWords apply when a
	// SummaryRequest leaves MaxBullets or MaxWords zero.
	extractDefaultBullets = 3
	extractDefaultWords   = 80
	extractMinWords       = 6
	extractMaxWords       = 60
	// extractSameSentence is the word-set Jaccard similarity above which
	// two sentences count as the same sentence (a wire copy lightly
	// edited).
	extractSameSentence = 0.8
	// extractRedundant is the cosine similarity to a chosen sentence above
	// which a candidate is never chosen.
	extractRedundant = 0.3
	// extractLambda weighs relevance against redundancy in MMR.
	extractLambda = 0.5
	// extractLead is the weight of the position prior: a lead sentence
	// scores its full centrality, a later one down to 1 − extractLead of
	// it.
	extractLead = 0.75
	// extractSupport is the bonus per e-fold of outlets carrying a
	// sentence.
	extractSupport = 0.3
)

// ErrEmptyStory reports a summary request for a story without articles.
var ErrEmptyStory = errors.New("story has no articles")

// WithStories returns a copy of e that also treats as boilerplate the
// sentences recurring across a briefing's stories: when summarizing one of
// them, a sentence is rejected when it occurs in articles of two or more
// other stories, or in more than half of the other stories' articles (and
// at least two). Site footers, newsletter pitches and embed notices repeat
// like that; news sentences do not. The stories are typically all the
// stories of one briefing, including the one being summarized.
func (e *Extractive) WithStories(stories []Story) *Extractive {
	c := &Extractive{
		MaxBulletsOverride: e.MaxBulletsOverride,
		seen:               make(map[string][]string),
		storyOf:            make(map[string]int),
		stories:            len(stories),
	}
	for si, s := range stories {
		for _, a := range s.Articles {
			if _, dup := c.storyOf[a.ID]; dup {
				continue
			}
			c.storyOf[a.ID] = si
			keys := make(map[string]bool)
			for _, sent := range Sentences(a.Text) {
				if k := extractKey(sent); k != "" && !keys[k] {
					keys[k] = true
					c.seen[k] = append(c.seen[k], a.ID)
				}
			}
		}
	}
	return c
}

// extractCandidate is a sentence that may become a bullet: one text, found
// in one or more of the story's articles.
type extractCandidate struct {
	text  string
	words int   // strings.Fields count, for the budget
	set   []int // the distinct words, as ascending numbers
	cites []int // article indices, ascending
	// pos is the sentence's position among its article's kept sentences,
	// the smallest over the articles citing it.
	pos     int
	article int // the first citing article
	outlets int
	vec     []clusterTerm
	score   float64
}

// Summarize writes a headline and bullets for req.Story (see Extractive).
// It fails only when the story has no articles or ctx is done; a story of
// title-only articles yields the headline and no bullets.
func (e *Extractive) Summarize(ctx context.Context, req SummaryRequest) (Summary, error) {
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	arts := req.Story.Articles
	if len(arts) == 0 {
		return Summary{}, ErrEmptyStory
	}
	maxBullets := req.MaxBullets
	if maxBullets <= 0 {
		maxBullets = extractDefaultBullets
	}
	maxBullets = min(maxBullets, 4)
	if e.MaxBulletsOverride > 0 {
		maxBullets = e.MaxBulletsOverride
	}
	maxWords := req.MaxWords
	if maxWords <= 0 {
		maxWords = extractDefaultWords
	}

	sum := Summary{Headline: extractHeadline(arts)}
	cands := e.candidates(arts)
	if len(cands) == 0 {
		return sum, nil
	}
	extractScore(cands)
	chosen := extractSelect(cands, maxBullets, maxWords)
	slices.SortFunc(chosen, func(a, b *extractCandidate) int {
		return cmp.Or(cmp.Compare(a.pos, b.pos), cmp.Compare(a.article, b.article))
	})
	for _, c := range chosen {
		sum.Bullets = append(sum.Bullets, Bullet{Text: c.text, Citations: slices.Clone(c.cites)})
	}
	return sum, nil
}

// candidates returns the story's non-boilerplate sentences, near-identical
// ones merged.
func (e *Extractive) candidates(arts []Article) []*extractCandidate {
	inStory := make(map[string]bool, len(arts))
	for _, a := range arts {
		inStory[a.ID] = true
	}
	others := 0
	for id := range e.storyOf {
		if !inStory[id] {
			others++
		}
	}
	var (
		cands []*extractCandidate
		byKey = make(map[string]*extractCandidate)
		vocab = make(map[string]int)
		sets  extractSets
	)
	for ai, a := range arts {
		if a.TextOrigin == TextTitleOnly {
			continue
		}
		pos := 0
		for _, s := range Sentences(a.Text) {
			s = extractStripDateline(s)
			if extractIsBoilerplate(s) {
				continue
			}
			key := extractKey(s)
			if e.recurs(key, inStory, others) {
				continue
			}
			c := byKey[key]
			if c == nil {
				set := extractWordSet(key, vocab)
				if i := sets.similar(set); i >= 0 {
					c = cands[i]
				} else {
					c = &extractCandidate{text: s, words: len(strings.Fields(s)), set: set, pos: pos, article: ai}
					cands = append(cands, c)
					sets.add(set)
				}
				byKey[key] = c
			}
			if !slices.Contains(c.cites, ai) {
				c.cites = append(c.cites, ai)
			}
			c.pos = min(c.pos, pos)
			pos++
		}
	}
	for _, c := range cands {
		slices.Sort(c.cites)
		outlets := make(map[string]bool)
		for _, i := range c.cites {
			outlets[rankOutlet(arts[i])] = true
		}
		c.outlets = len(outlets)
	}
	return cands
}

// recurs reports whether the sentence with key recurs across the other
// stories given to WithStories: inStory holds the current story's article
// IDs, otherArticles counts the other stories' articles.
func (e *Extractive) recurs(key string, inStory map[string]bool, otherArticles int) bool {
	ids := e.seen[key]
	if len(ids) < 2 {
		return false
	}
	found := 0
	stories := make(map[int]bool)
	for _, id := range ids {
		if !inStory[id] {
			found++
			stories[e.storyOf[id]] = true
		}
	}
	return len(stories) >= 2 || (found >= 2 && 2*found > otherArticles)
}

// extractScore sets each candidate's vector and score.
func extractScore(cands []*extractCandidate) {
	// IDF over the candidates.
	ids := make(map[string]int)
	var df []int
	tfs := make([]map[int]float64, len(cands))
	for i, c := range cands {
		tf := make(map[int]float64)
		for _, w := range Words(c.text) {
			if clusterStopWords[w] || (utf8.RuneCountInString(w) < 2 && !clusterIsDigits(w)) {
				continue
			}
			id, ok := ids[w]
			if !ok {
				id = len(ids)
				ids[w] = id
				df = append(df, 0)
			}
			if tf[id] == 0 {
				df[id]++
			}
			tf[id]++
		}
		tfs[i] = tf
	}
	n := float64(len(cands))
	for i, c := range cands {
		v := make([]clusterTerm, 0, len(tfs[i]))
		for id, tf := range tfs[i] {
			v = append(v, clusterTerm{id, tf * math.Log((n+1)/float64(df[id]))})
		}
		c.vec = extractNormalize(v)
	}

	// The centroid sums every occurrence of every sentence: a sentence
	// that several articles carry weighs as often.
	sum := make(map[int]float64)
	for _, c := range cands {
		for _, t := range c.vec {
			sum[t.id] += t.w * float64(len(c.cites))
		}
	}
	centroid := make([]clusterTerm, 0, len(sum))
	for id, w := range sum {
		centroid = append(centroid, clusterTerm{id, w})
	}
	centroid = extractNormalize(centroid)
	for _, c := range cands {
		centrality := extractCosine(c.vec, centroid)
		position := 1 / math.Sqrt(1+float64(c.pos))
		support := 1 + extractSupport*math.Log(float64(c.outlets))
		c.score = centrality * ((1 - extractLead) + extractLead*position) * support
	}
}

// extractSelect picks candidates by maximal marginal relevance within the
// bullet and word limits.
func extractSelect(cands []*extractCandidate, maxBullets, maxWords int) []*extractCandidate {
	var (
		chosen []*extractCandidate
		words  int
		used   = make([]bool, len(cands))
	)
	top := 0.0
	for _, c := range cands {
		top = max(top, c.score)
	}
	for len(chosen) < maxBullets {
		best, bestVal := -1, math.Inf(-1)
		for i, c := range cands {
			if used[i] || words+c.words > maxWords {
				continue
			}
			redundancy := 0.0
			for _, o := range chosen {
				redundancy = max(redundancy, extractCosine(c.vec, o.vec))
			}
			if redundancy > extractRedundant {
				continue
			}
			val := extractLambda*c.score/top - (1-extractLambda)*redundancy
			if val > bestVal {
				best, bestVal = i, val
			}
		}
		if best < 0 {
			break
		}
		used[best] = true
		chosen = append(chosen, cands[best])
		words += cands[best].words
	}
	return chosen
}

// extractNormalize sorts v by id and scales it to unit length.
func extractNormalize(v []clusterTerm) []clusterTerm {
	slices.SortFunc(v, func(a, b clusterTerm) int { return a.id - b.id })
	var norm float64
	for _, t := range v {
		norm += t.w * t.w
	}
	if norm > 0 {
		norm = math.Sqrt(norm)
		for i := range v {
			v[i].w /= norm
		}
	}
	return v
}

// extractCosine is the dot product of two unit vectors sorted by id.
func extractCosine(a, b []clusterTerm) float64 {
	var dot float64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i].id < b[j].id:
			i++
		case a[i].id > b[j].id:
			j++
		default:
			dot += a[i].w * b[j].w
			i++
			j++
		}
	}
	return dot
}

// extractKey normalizes a sentence for exact comparison.
func extractKey(s string) string {
	return strings.Join(Words(s), " ")
}

// extractWordSet returns the distinct words of a sentence key as
// ascending numbers, numbering new words in vocab.
func extractWordSet(key string, vocab map[string]int) []int {
	var set []int
	for w := range strings.FieldsSeq(key) {
		id, ok := vocab[w]
		if !ok {
			id = len(vocab)
			vocab[w] = id
		}
		set = append(set, id)
	}
	slices.Sort(set)
	return slices.Compact(set)
}

// extractSets finds near-identical sentences: among the word sets added,
// the first at least extractSameSentence similar to a given one. Only
// sets sharing a probe word with it are compared (prefix filtering): of
// a set of n words, the probe words are the last n − ⌈0.8·n⌉ + 1. Two
// sets that similar share at least ⌈0.8·m⌉ words, m the size of either,
// so the last word they share is among the probe words of both. The last
// words are those first seen latest, which tend to be the rarer ones, so
// the sets sharing one are few.
type extractSets struct {
	sets [][]int
	// probed maps a word to the sets (indexes, ascending) it is a probe
	// word of.
	probed map[int][]int
	near   []int
}

// probe returns the probe words of set.
func (x *extractSets) probe(set []int) []int {
	n := len(set)
	// int truncates: one probe word more at most.
	k := n - int(extractSameSentence*float64(n)) + 1
	return set[n-min(k, n):]
}

// similar returns the index of the first set added at least
// extractSameSentence similar to set, or -1.
func (x *extractSets) similar(set []int) int {
	probe := x.probe(set)
	shared := 0
	for _, w := range probe {
		shared += len(x.probed[w])
	}
	if shared < len(x.sets) {
		// Fewer than all: compare those. (Probe words that are common
		// words have long lists.)
		x.near = x.near[:0]
		for _, w := range probe {
			x.near = append(x.near, x.probed[w]...)
		}
		slices.Sort(x.near)
		for _, i := range slices.Compact(x.near) {
			if extractJaccard(set, x.sets[i]) >= extractSameSentence {
				return i
			}
		}
		return -1
	}
	for i, o := range x.sets {
		if extractJaccard(set, o) >= extractSameSentence {
			return i
		}
	}
	return -1
}

// add adds a set, the next index.
func (x *extractSets) add(set []int) {
	if x.probed == nil {
		x.probed = make(map[int][]int)
	}
	for _, w := range x.probe(set) {
		x.probed[w] = append(x.probed[w], len(x.sets))
	}
	x.sets = append(x.sets, set)
}

// extractJaccard is the Jaccard similarity of two word sets.
func extractJaccard(a, b []int) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if min(len(a), len(b)) < int(extractSameSentence*float64(max(len(a), len(b)))) {
		return 0 // cannot reach the threshold
	}
	both := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			both++
			i++
			j++
		}
	}
	return float64(both) / float64(len(a)+len(b)-both)
}

// extractHeadline returns the representative article's title without a
// trailing site name, or the first non-empty title.
func extractHeadline(arts []Article) string {
	for _, a := range arts {
		if t := extractCleanTitle(a.Title, a.Outlet); t != "" {
			return t
		}
	}
	return ""
}

// extractTitleSeparators split a site name from a title.
var extractTitleSeparators = []string{" | ", " - ", " – ", " — ", " :: ", " • "}

// extractSiteWords are words that mark a title suffix as a site name.
var extractSiteWords = regexp.MustCompile(`(?i)\b(news|times|post|daily|herald|journal|tribune|gazette|telegraph|guardian|press|radio|tv|online|agency|reuters|ap|afp|bbc|cnn|npr|wire|review|magazine|media|network|observer|chronicle|independent|standard|mail|express|today|weekly|report)\b|\.(com|org|net|co|io|news)\b`)

// extractCleanTitle removes a trailing " - Outlet" or " | Outlet" from a
// title: always when the suffix is the article's outlet, else when it is
// short and looks like a site name (or follows " | ").
func extractCleanTitle(title, outlet string) string {
	title = strings.Join(strings.Fields(title), " ")
	outlet = strings.ToLower(strings.TrimSpace(outlet))
	for {
		cut := -1
		for _, sep := range extractTitleSeparators {
			i := strings.LastIndex(title, sep)
			if i <= 0 {
				continue
			}
			suffix := strings.TrimSpace(title[i+len(sep):])
			prefix := strings.TrimSpace(title[:i])
			words := len(strings.Fields(suffix))
			site := (outlet != "" && strings.ToLower(suffix) == outlet) ||
				(words <= 4 && (sep == " | " || extractSiteWords.MatchString(suffix)))
			if site && len(strings.Fields(prefix)) >= 2 && i > cut {
				cut = i
			}
		}
		if cut < 0 {
			return title
		}
		title = strings.TrimSpace(title[:cut])
	}
}

// extractDatelineRE matches a leading dateline: "GENEVA (Reuters) - ",
// "SEOUL, March 3 (Yonhap) -- ", "WASHINGTON — ".
var extractDatelineRE = regexp.MustCompile(`^\p{Lu}[\p{Lu}\p{Lt} .'’-]{1,40}(?:,\s*[\p{L}.]+(?:\s+\d{1,2})?)?\s*(?:\([^()]{1,40}\))?\s*(?:-{1,2}|–|—|:)\s+`)

// extractStripDateline cuts a leading dateline from a sentence.
func extractStripDateline(s string) string {
	loc := extractDatelineRE.FindStringIndex(s)
	if loc == nil {
		return s
	}
	// The place name must be in capitals: a sentence that starts "A
	// spokesman - ..." keeps its start.
	head := s[:loc[1]]
	if p := strings.IndexAny(head, ",(-–—:"); p > 0 {
		head = head[:p]
	}
	letters, upper := 0, 0
	for _, r := range head {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	if letters < 3 || upper < letters {
		return s
	}
	return s[loc[1]:]
}

// extractJunkPhrases mark sentences that are site furniture rather than
// news. They are matched in the lower-cased sentence at word boundaries; a
// trailing "*" lets the phrase run on ("newsletter*" matches
// "newsletters").
var extractJunkPhrases = []string{
	"http*", "www.*", "click*", "subscribe", "sign up", "signing up", "read more", "follow us",
	"all rights reserved", "newsletter*", "cookie", "cookies", "continue reading", "privacy policy",
	"terms of use", "terms of service", "download the app", "download our app", "share this",
	"learn more", "copyright", "©*", "via ap", "via afp", "via reuters", "via getty", "getty images",
	"ap photo", "afp photo", "reuters photo", "epa photo", "shutterstock", "photo:*", "photo by",
	"photograph by", "photos by", "image:*", "image by", "picture:*", "picture by", "video:*",
	"caption:*", "credit:*", "photo credit", "image credit", "courtesy of", "reporting by",
	"writing by", "editing by", "additional reporting", "contributed to this report",
	"not available in your",
}

// extractAddressRE matches e-mail addresses and @handles; extractCreditRE
// matches agency credits after a slash ("Jane Roe/AP") and "(c) 2026".
var (
	extractAddressRE = regexp.MustCompile(`[\w.+-]+@[\w-]+\.\w|(?:^|[\s(])@\w`)
	extractCreditRE  = regexp.MustCompile(`(?i)/\s*(?:ap|afp|reuters|getty images|epa)\b|\(c\)\s*\d{4}`)
)

// extractIsJunk reports whether a sentence has one of extractJunkPhrases,
// an address or an agency credit.
func extractIsJunk(s string) bool {
	lower := strings.ToLower(s)
	for _, p := range extractJunkPhrases {
		if extractHasPhrase(lower, p) {
			return true
		}
	}
	if strings.Contains(s, "@") && extractAddressRE.MatchString(s) {
		return true
	}
	return strings.ContainsAny(s, "/(") && extractCreditRE.MatchString(s)
}

// extractHasPhrase reports whether phrase occurs in s at word boundaries
// (see extractJunkPhrases).
func extractHasPhrase(s, phrase string) bool {
	open := strings.HasSuffix(phrase, "*")
	phrase = strings.TrimSuffix(phrase, "*")
	for from := 0; ; {
		i := strings.Index(s[from:], phrase)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(phrase)
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if (i == 0 || !extractIsWordRune(before)) && (open || end == len(s) || !extractIsWordRune(after)) {
			return true
		}
		from = i + 1
	}
}

// extractIsWordRune reports whether r is part of a word.
func extractIsWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// extractCaptionStartRE matches sentences that begin like a caption.
var extractCaptionStartRE = regexp.MustCompile(`^(?i:(?:photo|image|picture|caption|file photo|credit|advertisement|editor's note)s?\b|(?:above|top|left|right|pictured|video|watch|listen|related|file|source)\s*[:|]|(?:updated|published|posted|last updated|first published)\s*(?:at|on|:))`)

// extractBylineRE matches a byline: "By Jane Doe", "By Jane Doe and John
// Roe, Associated Press".
var extractBylineRE = regexp.MustCompile(`^(?:By|BY|Written by|Reporting by)\s+\p{Lu}`)

// extractIsBoilerplate reports whether a sentence must never become a
// bullet.
func extractIsBoilerplate(s string) bool {
	words := strings.Fields(s)
	if len(words) < extractMinWords || len(words) > extractMaxWords {
		return true
	}
	end, _ := utf8.DecodeLastRuneInString(strings.TrimRightFunc(s, sentenceIsCloser))
	switch end {
	case '.', '!', '…':
	default:
		// A question, or no sentence at all: a heading, a caption, a
		// dateline alone, a menu.
		return true
	}
	letters, upper, other := 0, 0, 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		case unicode.IsSpace(r):
		default:
			other++
		}
	}
	if letters < 2*other || letters < 20 {
		return true // mostly digits and symbols
	}
	if float64(upper) > 0.6*float64(letters) {
		return true // ALL-CAPS furniture
	}
	if extractIsJunk(s) || extractCaptionStartRE.MatchString(s) || Injected(s) {
		return true
	}
	if extractBylineRE.MatchString(s) && extractIsNameList(words[1:]) {
		return true
	}
	// A sentence should start like one, not mid-way (a lower-case start
	// is a fragment left by extraction).
	first, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(first)
}

// extractIsNameList reports whether words are only capitalized names,
// initials and joiners, as in a byline.
func extractIsNameList(words []string) bool {
	for _, w := range words {
		w = strings.Trim(w, ",.;:")
		if w == "" || w == "and" || w == "&" || w == "of" || w == "the" || w == "for" {
			continue
		}
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

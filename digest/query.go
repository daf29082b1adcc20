package digest

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Query limits: longer queries and queries with more words and phrases
// are refused by ParseQuery.
const (
	// MaxQueryLength is the most characters (runes) a query may have,
	// as written and in canonical form (Query.String).
	MaxQueryLength = 500
	// MaxQueryTerms is the most words and phrases a query may have.
	MaxQueryTerms = 50
)

// Query is a parsed topic or search query. It is immutable and safe for
// concurrent use.
//
// The language is what people type into search boxes:
//
//	north korea            both words (implicit AND), anywhere in the article
//	"north korea"          the phrase: the words in this order, next to each other
//	pyongyang OR seoul     either word; OR binds looser than AND, so
//	                       a b OR c means (a b) OR c
//	-sport                 articles without the word (also -"a phrase", -(a OR b))
//	(talks OR summit) kim  parentheses group
//
// An exclusion applies to the whole group it is in (the query, or the
// parentheses around it), not only to its side of an OR:
// `"north korea" OR pyongyang -sport` leaves out sport articles of both
// alternatives, and String writes it `("north korea" OR pyongyang) -sport`.
// Each side of an OR needs a word or phrase of its own.
//
// OR, AND and NOT are operators only in capitals ("or" is a word); AND is
// optional, NOT is the same as "-". Curly quotes (“ ” „ « ») work like
// straight ones. Matching ignores case, the accents of Latin letters
// ("pyŏngyang" is "Pyongyang") and punctuation: words are runs of letters
// and digits, so "Kim" does not match "Kimberly", and a query word such as
// "jong-un" is the phrase "jong un", which matches "Jong-un" and "Jong Un".
// Words of punctuation only ("&", "—") are ignored.
type Query struct {
	root  *queryNode
	terms []string
}

// QueryError reports a query that cannot be parsed, and where.
type QueryError struct {
	Query string
	// Pos is the 0-based rune offset of the problem in Query, or -1 when
	// the problem is the query as a whole (empty, too long, nothing to
	// look for).
	Pos int
	Msg string
}

// Error returns a message such as
// `query "north korea)": unexpected ")" at column 12`.
func (e *QueryError) Error() string {
	if e.Pos < 0 {
		return fmt.Sprintf("query %q: %s", e.Query, e.Msg)
	}
	return fmt.Sprintf("query %q: %s at column %d", e.Query, e.Msg, e.Pos+1)
}

// queryOp is the kind of a query node.
type queryOp uint8

const (
	queryTerm queryOp = iota // a word or phrase
	queryAnd
	queryOr
	queryNot
)

// queryNode is a node of a parsed query.
type queryNode struct {
	op queryOp
	// words are a term's folded words, in order: one for a word, more for
	// a phrase.
	words []string
	kids  []*queryNode
	// pos is where the node starts in the query, in runes.
	pos int
}

// ParseQuery parses a query (see Query for the language). A malformed
// query yields a *QueryError saying what is wrong and where.
func ParseQuery(s string) (*Query, error) {
	n := utf8.RuneCountInString(s)
	if n > MaxQueryLength {
		return nil, &QueryError{Query: s, Pos: -1, Msg: fmt.Sprintf("the query is longer than %d characters", MaxQueryLength)}
	}
	if strings.TrimSpace(s) == "" {
		return nil, &QueryError{Query: s, Pos: -1, Msg: "empty query"}
	}
	items, err := queryLex(s)
	if err != nil {
		return nil, err
	}
	p := &queryParser{src: s, items: items}
	root, err := p.parseOr(-1)
	if err != nil {
		return nil, err
	}
	if it := p.peek(); it.kind != queryItemEOF {
		// Only an unmatched ")" stops parseOr at the top level.
		return nil, p.errorf(it.pos, "unexpected %q", ")")
	}
	if !queryPositive(root) {
		// Alternatives were checked by parseOr: only exclusions are left.
		return nil, &QueryError{Query: s, Pos: -1, Msg: "a query needs at least one word or phrase to look for"}
	}
	q := &Query{root: root}
	// The canonical form adds quotes and parentheses and may fold to more
	// letters; it must parse too, as String promises.
	if utf8.RuneCountInString(q.String()) > MaxQueryLength {
		return nil, &QueryError{Query: s, Pos: -1, Msg: fmt.Sprintf("the query is longer than %d characters written in full (with quotes and parentheses)", MaxQueryLength)}
	}
	seen := make(map[string]bool)
	q.root.walkPositive(func(t *queryNode) {
		term := strings.Join(t.words, " ")
		if !seen[term] {
			seen[term] = true
			q.terms = append(q.terms, term)
		}
	})
	return q, nil
}

// Match reports whether the document (an article's title and text) matches
// the query.
func (q *Query) Match(d *QueryDoc) bool {
	return q.root.match(d)
}

// Terms returns the query's positive words and phrases (those not under a
// negation), folded (lower case, without accents), a phrase's words joined
// by single spaces, each once, in query order. Every document the query
// matches contains at least one of them, so a full-text index can find the
// candidates: ParseQuery refuses queries for which this would not hold
// ("-sport", "a OR -b").
func (q *Query) Terms() []string {
	return slices.Clone(q.terms)
}

// String returns the query in canonical form: folded words, phrases in
// straight quotes, "-" for NOT, no AND, only the parentheses needed.
// Spellings of a query that differ in just these ways have the same
// String, and parsing it gives the same query back.
func (q *Query) String() string {
	var b strings.Builder
	q.root.write(&b)
	return b.String()
}

// match reports whether n matches d.
func (n *queryNode) match(d *QueryDoc) bool {
	switch n.op {
	case queryTerm:
		return d.hasPhrase(n.words)
	case queryAnd:
		for _, k := range n.kids {
			if !k.match(d) {
				return false
			}
		}
		return true
	case queryOr:
		for _, k := range n.kids {
			if k.match(d) {
				return true
			}
		}
		return false
	default: // queryNot
		return !n.kids[0].match(d)
	}
}

// walkPositive calls fn for each term of n not under a negation, in order.
func (n *queryNode) walkPositive(fn func(*queryNode)) {
	switch n.op {
	case queryTerm:
		fn(n)
	case queryAnd, queryOr:
		for _, k := range n.kids {
			k.walkPositive(fn)
		}
	}
}

// write writes n in canonical form.
func (n *queryNode) write(b *strings.Builder) {
	switch n.op {
	case queryTerm:
		if len(n.words) == 1 {
			b.WriteString(n.words[0])
			return
		}
		b.WriteByte('"')
		b.WriteString(strings.Join(n.words, " "))
		b.WriteByte('"')
	case queryAnd:
		for i, k := range n.kids {
			if i > 0 {
				b.WriteByte(' ')
			}
			if k.op == queryOr {
				b.WriteByte('(')
				k.write(b)
				b.WriteByte(')')
			} else {
				k.write(b)
			}
		}
	case queryOr:
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(" OR ")
			}
			// Unparenthesized, the exclusions would apply to every
			// alternative.
			if k.op == queryAnd && slices.ContainsFunc(k.kids, func(k *queryNode) bool { return k.op == queryNot }) {
				b.WriteByte('(')
				k.write(b)
				b.WriteByte(')')
			} else {
				k.write(b)
			}
		}
	case queryNot:
		b.WriteByte('-')
		k := n.kids[0]
		if k.op == queryTerm {
			k.write(b)
			return
		}
		b.WriteByte('(')
		k.write(b)
		b.WriteByte(')')
	}
}

// queryPositive reports whether every document n matches contains one of
// n's terms not under a negation.
func queryPositive(n *queryNode) bool {
	switch n.op {
	case queryTerm:
		return true
	case queryAnd:
		return slices.ContainsFunc(n.kids, queryPositive)
	case queryOr:
		for _, k := range n.kids {
			if !queryPositive(k) {
				return false
			}
		}
		return true
	default: // queryNot
		return false
	}
}

// queryItemKind is the kind of a lexical item of a query.
type queryItemKind uint8

const (
	queryItemEOF queryItemKind = iota
	queryItemWord
	queryItemPhrase
	queryItemOr
	queryItemAnd
	queryItemNot // NOT or "-"
	queryItemOpen
	queryItemClose
)

// queryItem is a lexical item: a word or phrase with its folded words, an
// operator or a parenthesis.
type queryItem struct {
	kind  queryItemKind
	text  string // as written, for messages
	words []string
	pos   int // in runes
}

// queryIsQuote reports whether r opens or closes a phrase.
func queryIsQuote(r rune) bool {
	switch r {
	case '"', '“', '”', '„', '«', '»':
		return true
	}
	return false
}

// queryLex splits s into items. Phrases run from one quote character to
// the next. A "-" starts an exclusion when a word, phrase, group or another
// "-" follows it directly; inside a word it separates words ("jong-un").
func queryLex(s string) ([]queryItem, error) {
	rs := []rune(s)
	var items []queryItem
	terms := 0
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(':
			items = append(items, queryItem{kind: queryItemOpen, text: "(", pos: i})
			i++
		case r == ')':
			items = append(items, queryItem{kind: queryItemClose, text: ")", pos: i})
			i++
		case queryIsQuote(r):
			end := i + 1
			for end < len(rs) && !queryIsQuote(rs[end]) {
				end++
			}
			if end == len(rs) {
				return nil, &QueryError{Query: s, Pos: i, Msg: "quote is never closed"}
			}
			text := string(rs[i+1 : end])
			words := queryWords(text)
			if len(words) == 0 {
				return nil, &QueryError{Query: s, Pos: i, Msg: "empty phrase"}
			}
			if terms++; terms > MaxQueryTerms {
				return nil, &QueryError{Query: s, Pos: i, Msg: fmt.Sprintf("too many words and phrases (at most %d)", MaxQueryTerms)}
			}
			items = append(items, queryItem{kind: queryItemPhrase, text: string(rs[i : end+1]), words: words, pos: i})
			i = end + 1
		case r == '-' && i+1 < len(rs) && (queryIsWordRune(rs[i+1]) || queryIsQuote(rs[i+1]) || rs[i+1] == '(' || rs[i+1] == '-'):
			items = append(items, queryItem{kind: queryItemNot, text: "-", pos: i})
			i++
		default:
			end := i + 1
			for end < len(rs) && !unicode.IsSpace(rs[end]) && rs[end] != '(' && rs[end] != ')' && !queryIsQuote(rs[end]) {
				end++
			}
			text := string(rs[i:end])
			it := queryItem{text: text, pos: i}
			switch text {
			case "OR":
				it.kind = queryItemOr
			case "AND":
				it.kind = queryItemAnd
			case "NOT":
				it.kind = queryItemNot
			case "-":
				return nil, &QueryError{Query: s, Pos: i, Msg: `"-" needs a word, phrase or group right after it`}
			case "|", "||":
				return nil, &QueryError{Query: s, Pos: i, Msg: fmt.Sprintf("%q is not an operator: write OR, in capitals, between alternatives", text)}
			default:
				it.kind = queryItemWord
				it.words = queryWords(text)
			}
			i = end
			if it.kind == queryItemWord {
				if len(it.words) == 0 {
					continue // punctuation only: "&", "—"
				}
				if terms++; terms > MaxQueryTerms {
					return nil, &QueryError{Query: s, Pos: it.pos, Msg: fmt.Sprintf("too many words and phrases (at most %d)", MaxQueryTerms)}
				}
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// queryParser is a recursive-descent parser over lexed items:
//
//	or    = and { "OR" and }
//	and   = unary { ["AND"] unary }
//	unary = ("-" | "NOT") primary | primary
//	primary = word | phrase | "(" or ")"
type queryParser struct {
	src   string
	items []queryItem
	next  int
}

func (p *queryParser) peek() queryItem {
	if p.next < len(p.items) {
		return p.items[p.next]
	}
	return queryItem{kind: queryItemEOF, pos: utf8.RuneCountInString(p.src)}
}

func (p *queryParser) take() queryItem {
	it := p.peek()
	if p.next < len(p.items) {
		p.next++
	}
	return it
}

func (p *queryParser) errorf(pos int, format string, args ...any) error {
	return &QueryError{Query: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// parseOr parses alternatives up to a ")" or the end. open is the position
// of the "(" that began the group, or -1 at the top level.
//
// When there are alternatives, the exclusions of each apply to the whole
// group: "a OR b -c" is "(a OR b) -c", as in the topic
// `"north korea" OR pyongyang -sport`. Each alternative must then have a
// word or phrase of its own. A parenthesized group is one unit: in
// "(a -c) OR b" the exclusion stays with a.
func (p *queryParser) parseOr(open int) (*queryNode, error) {
	var alts [][]*queryNode
	for {
		units, err := p.parseAnd(open, alts != nil)
		if err != nil {
			return nil, err
		}
		alts = append(alts, units)
		if p.peek().kind != queryItemOr {
			break
		}
		p.take()
	}
	if len(alts) == 1 {
		return queryAll(alts[0]), nil
	}
	var kids, excluded []*queryNode
	seen := make(map[string]bool)
	for _, units := range alts {
		var kept []*queryNode
		positive := false
		for _, u := range units {
			if u.op != queryNot {
				kept = append(kept, u)
				positive = positive || queryPositive(u)
				continue
			}
			var b strings.Builder
			u.write(&b)
			if !seen[b.String()] {
				seen[b.String()] = true
				excluded = append(excluded, u)
			}
		}
		if !positive {
			return nil, p.errorf(units[0].pos, "each side of OR needs a word or phrase to look for, not only exclusions")
		}
		if alt := queryAll(kept); alt.op == queryOr {
			kids = append(kids, alt.kids...)
		} else {
			kids = append(kids, alt)
		}
	}
	or := &queryNode{op: queryOr, kids: kids, pos: kids[0].pos}
	if len(excluded) == 0 {
		return or, nil
	}
	return &queryNode{op: queryAnd, kids: append([]*queryNode{or}, excluded...), pos: or.pos}, nil
}

// queryAll returns the conjunction of units, nested conjunctions flattened.
func queryAll(units []*queryNode) *queryNode {
	if len(units) == 1 {
		return units[0]
	}
	var kids []*queryNode
	for _, u := range units {
		if u.op == queryAnd {
			kids = append(kids, u.kids...)
		} else {
			kids = append(kids, u)
		}
	}
	return &queryNode{op: queryAnd, kids: kids, pos: kids[0].pos}
}

// parseAnd parses the units of a conjunction: words, phrases, groups and
// exclusions. afterOr says whether an OR precedes it.
func (p *queryParser) parseAnd(open int, afterOr bool) ([]*queryNode, error) {
	var units []*queryNode
	for {
		it := p.peek()
		switch it.kind {
		case queryItemAnd:
			p.take()
			if units == nil {
				return nil, p.errorf(it.pos, "AND needs a word or phrase before it")
			}
			if k := p.peek().kind; k == queryItemEOF || k == queryItemClose || k == queryItemOr || k == queryItemAnd {
				return nil, p.errorf(it.pos, "AND needs a word or phrase after it")
			}
			continue
		case queryItemEOF, queryItemClose, queryItemOr:
			if units != nil {
				return units, nil
			}
			switch {
			case afterOr:
				return nil, p.errorf(p.items[p.next-1].pos, "OR needs a word or phrase after it")
			case it.kind == queryItemOr:
				return nil, p.errorf(it.pos, "OR needs a word or phrase before it")
			case it.kind == queryItemClose && open >= 0:
				return nil, p.errorf(open, "empty parentheses")
			case it.kind == queryItemClose:
				return nil, p.errorf(it.pos, "unexpected %q", ")")
			case open >= 0:
				return nil, p.errorf(open, "%q is never closed", "(")
			default:
				// Words of punctuation only, which are ignored.
				return nil, p.errorf(-1, "a query needs at least one word or phrase to look for")
			}
		}
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		units = append(units, n)
	}
}

// parseUnary parses an optionally excluded word, phrase or group.
func (p *queryParser) parseUnary() (*queryNode, error) {
	it := p.peek()
	if it.kind != queryItemNot {
		return p.parsePrimary()
	}
	p.take()
	switch p.peek().kind {
	case queryItemWord, queryItemPhrase, queryItemOpen:
	default:
		return nil, p.errorf(it.pos, "%q needs a word, phrase or group right after it", it.text)
	}
	n, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	return &queryNode{op: queryNot, kids: []*queryNode{n}, pos: it.pos}, nil
}

// parsePrimary parses a word, a phrase or a parenthesized group.
func (p *queryParser) parsePrimary() (*queryNode, error) {
	it := p.take()
	switch it.kind {
	case queryItemWord, queryItemPhrase:
		return &queryNode{op: queryTerm, words: it.words, pos: it.pos}, nil
	case queryItemOpen:
		n, err := p.parseOr(it.pos)
		if err != nil {
			return nil, err
		}
		if p.take().kind != queryItemClose {
			return nil, p.errorf(it.pos, "%q is never closed", "(")
		}
		n.pos = it.pos
		return n, nil
	default: // NOT: parseUnary lets no other item through
		return nil, p.errorf(it.pos, "%q needs a word, phrase or group right after it", it.text)
	}
}

// queryIsWordRune reports whether r belongs to a word: letters, digits and
// other numbers, combining marks and private-use characters. The set is
// that of SQLite's unicode61 full-text tokenizer (plus marks, which it
// drops), so that a phrase found here is found by the full-text index too.
func queryIsWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r) || unicode.Is(unicode.Co, r)
}

// queryWords splits text into folded words.
func queryWords(text string) []string {
	var words []string
	queryScan(text, func(word string) {
		if w := queryFold(word); w != "" {
			words = append(words, w)
		}
	})
	return words
}

// queryASCIIWord says which ASCII bytes belong to words.
var queryASCIIWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = queryIsWordRune(rune(c))
	}
	return t
}()

// queryScan calls fn with each word of text, unfolded.
func queryScan(text string, fn func(word string)) {
	start := -1
	for i := 0; i < len(text); {
		c := text[i]
		word, size := false, 1
		if c < utf8.RuneSelf {
			word = queryASCIIWord[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(text[i:])
			word = queryIsWordRune(r)
		}
		if word {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			fn(text[start:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		fn(text[start:])
	}
}

// queryFold returns word in lower case without the accents of Latin
// letters: "Pyŏngyang" becomes "pyongyang". Only marks on Latin letters are
// removed, as SQLite's unicode61 tokenizer with remove_diacritics 2 does;
// in other scripts marks make different letters (Russian "й" is not "и",
// Japanese "が" is not "か").
func queryFold(word string) string {
	switch queryASCIICase(word) {
	case queryLowerASCII:
		return word
	case queryUpperASCII:
		return strings.ToLower(word)
	}
	d := norm.NFD.String(strings.ToLower(word))
	var b strings.Builder
	b.Grow(len(d))
	latin := false
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			if latin {
				continue
			}
		} else {
			latin = unicode.Is(unicode.Latin, r)
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// Results of queryASCIICase.
const (
	queryLowerASCII = iota // ASCII without capitals
	queryUpperASCII        // ASCII with capitals
	queryNonASCII
)

// queryASCIICase tells whether word is ASCII, and has capitals.
func queryASCIICase(word string) int {
	upper := false
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= utf8.RuneSelf {
			return queryNonASCII
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if upper {
		return queryUpperASCII
	}
	return queryLowerASCII
}

// QueryDoc is a document tokenized for matching: an article's title and
// text as folded words, each with its positions. Build it once with
// NewQueryDoc and match it against many queries.
type QueryDoc struct {
	// ids numbers the distinct words.
	ids map[string]int32
	// The positions of the word numbered i are pos[start[i]:start[i+1]],
	// ascending.
	start []int32
	pos   []int32
}

// NewQueryDoc tokenizes a document's title and text. A phrase never
// matches across the end of the title and the start of the text.
func NewQueryDoc(title, text string) *QueryDoc {
	b := queryDocBuilder{
		ids: make(map[string]int32, (len(title)+len(text))/12+8),
		occ: make([]queryOccurrence, 0, (len(title)+len(text))/5+8),
	}
	queryScan(title, b.add)
	b.next++ // a gap between title and text
	queryScan(text, b.add)

	// Lay the positions out word by word.
	d := &QueryDoc{ids: b.ids, start: make([]int32, len(b.counts)+1)}
	for i, c := range b.counts {
		d.start[i+1] = d.start[i] + c
	}
	fill := b.counts // reused: the next free slot of each word
	copy(fill, d.start)
	d.pos = make([]int32, len(b.occ))
	for _, o := range b.occ {
		d.pos[fill[o.id]] = o.pos
		fill[o.id]++
	}
	return d
}

// queryOccurrence is one occurrence of a word in a document.
type queryOccurrence struct{ id, pos int32 }

// queryDocBuilder numbers the words of a document and notes their
// occurrences.
type queryDocBuilder struct {
	ids    map[string]int32
	counts []int32 // occurrences of each word
	occ    []queryOccurrence
	next   int32 // the next position
	lower  []byte
}

// add notes the next word of the document.
func (b *queryDocBuilder) add(word string) {
	var id int32
	var ok bool
	switch queryASCIICase(word) {
	case queryLowerASCII:
		id, ok = b.ids[word]
	case queryUpperASCII:
		b.lower = b.lower[:0]
		for i := 0; i < len(word); i++ {
			c := word[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.lower = append(b.lower, c)
		}
		if id, ok = b.ids[string(b.lower)]; !ok { // no allocation
			word = string(b.lower)
		}
	default:
		word = queryFold(word)
		id, ok = b.ids[word]
	}
	if !ok {
		id = int32(len(b.counts))
		b.ids[word] = id
		b.counts = append(b.counts, 0)
	}
	b.counts[id]++
	b.occ = append(b.occ, queryOccurrence{id, b.next})
	b.next++
}

// positions returns the positions of a folded word, ascending.
func (d *QueryDoc) positions(word string) []int32 {
	id, ok := d.ids[word]
	if !ok {
		return nil
	}
	return d.pos[d.start[id]:d.start[id+1]]
}

// has reports whether the document contains the folded word.
func (d *QueryDoc) has(word string) bool {
	_, ok := d.ids[word]
	return ok
}

// hasPhrase reports whether the document contains the folded words
// consecutively.
func (d *QueryDoc) hasPhrase(words []string) bool {
	if len(words) == 1 {
		return d.has(words[0])
	}
	var buf [8][]int32
	lists := buf[:0]
	if len(words) > len(buf) {
		lists = make([][]int32, 0, len(words))
	}
	lists = lists[:len(words)]
	anchor := 0
	for i, w := range words {
		lists[i] = d.positions(w)
		if len(lists[i]) == 0 {
			return false
		}
		if len(lists[i]) < len(lists[anchor]) {
			anchor = i
		}
	}
next:
	for _, p := range lists[anchor] {
		first := p - int32(anchor)
		for i, l := range lists {
			if i == anchor {
				continue
			}
			if _, ok := slices.BinarySearch(l, first+int32(i)); !ok {
				continue next
			}
		}
		return true
	}
	return false
}

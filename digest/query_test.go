package digest

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// queryTestDoc is a made-up article used by the matching tests.
var queryTestDoc = struct{ title, text string }{
	title: "Kim Jong-un meets envoy in Pyŏngyang",
	text: `North Korea's leader Kim Jong Un met a visiting envoy on Monday, state media said. ` +
		`The talks in the capital covered sanctions and food aid; Kimberly Smith, an analyst in Seoul, ` +
		`said the meeting was "a small step". No football was mentioned. Café owners near the ` +
		`Taedong river reported 40% fewer visitors.`,
}

func TestQueryMatch(t *testing.T) {
	doc := NewQueryDoc(queryTestDoc.title, queryTestDoc.text)
	tests := []struct {
		name  string
		query string
		want  bool
	}{
		{"word", "envoy", true},
		{"word absent", "missile", false},
		{"case-insensitive", "ENVOY", true},
		{"word boundary", "kimber", false},
		{"whole word found", "kimberly", true},
		{"kim is not kimberly", "smith -kim", false},
		{"accent in text, none in query", "pyongyang", true},
		{"accent in query, none in text", "péyongyang OR cafe", true},
		{"accent in both", "pyŏngyang", true},
		{"accents on other letters", "pÿöngyàng", true},
		{"implicit and", "envoy sanctions", true},
		{"implicit and, one missing", "envoy missile", false},
		{"explicit AND", "envoy AND sanctions", true},
		{"lower-case and is a word", "envoy and sanctions", true},
		{"lower-case or is a word", "envoy or missile", false},
		{"or", "missile OR envoy", true},
		{"or, neither", "missile OR nuclear", false},
		{"or binds looser", "missile envoy OR sanctions", true},
		{"or binds looser, neither side", "missile envoy OR sanctions nuclear", false},
		{"phrase", `"kim jong un"`, true},
		{"phrase across a hyphen", `"jong un" meets`, true},
		{"hyphenated query word is a phrase", "jong-un", true},
		{"phrase out of order", `"jong kim"`, false},
		{"phrase words apart", `"north leader"`, false},
		{"phrase across punctuation", `"said the talks"`, true},
		{"phrase not across title and text", `"pyongyang north"`, false},
		{"curly quotes", "“north korea”", true},
		{"low-high quotes", "„north korea“", true},
		{"guillemets", "«north korea»", true},
		{"apostrophe splits", "korea s", true},
		{"exclusion of absent word", "envoy -missile", true},
		{"exclusion of present word", "envoy -football", false},
		{"exclusion with NOT", "envoy NOT football", false},
		{"excluded phrase present", `envoy -"food aid"`, false},
		{"excluded phrase absent", `envoy -"aid food"`, true},
		{"excluded group", "envoy -(missile OR football)", false},
		{"excluded group absent", "envoy -(missile OR nuclear)", true},
		{"group", "(missile OR envoy) (nuclear OR sanctions)", true},
		{"group fails", "(missile OR envoy) (nuclear OR drills)", false},
		{"double exclusion", "envoy -(-sanctions)", true},
		{"double exclusion absent", "envoy -(-missile)", false},
		{"digits", "40", true},
		{"punctuation words are ignored", "envoy & sanctions —", true},
		{"design example", `"north korea" OR pyongyang OR "kim jong un" -sport`, true},
		{"design example excluded", `"north korea" OR pyongyang OR "kim jong un" -football`, false},
		{"exclusion applies to all alternatives", "envoy OR missile -football", false},
		{"exclusion in a group applies to the group", "(envoy OR missile -football) OR smith", true},
		{"exclusion in a group stays there", "(envoy -football) OR smith", true},
		{"exclusions of both sides", "envoy -missile OR talks -football", false},
		{"plus prefix is a word", "+envoy", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Match(doc); got != tt.want {
				t.Errorf("ParseQuery(%q).Match: got %v, want %v (parsed as %s)", tt.query, got, tt.want, q)
			}
		})
	}
}

func TestQueryMatchScripts(t *testing.T) {
	tests := []struct {
		name, text, query string
		want              bool
	}{
		{"decomposed accent in text", "Cafe\u0301 society", "café", true},
		{"decomposed accent in query", "Café society", "cafe\u0301", true},
		{"Vietnamese", "Tin tức Việt Nam", "viet nam", true},
		{"Turkish dotted capital", "İSTANBUL", "istanbul", true},
		{"Korean", "한국 정부는 월요일", "한국", true},
		{"Korean inside a longer word", "한국의 정부", "한국", false},
		{"Greek lower and upper", "ΑΘΗΝΑ", "αθηνα", true},
		{"Cyrillic й is not и", "Мой дом", "мои", false},
		{"kana voicing mark counts", "がっこう", "かっこう", false},
		{"Hindi", "हिन्दी समाचार", "हिन्दी", true},
		{"German sharp s is kept", "Straße", "strasse", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Match(NewQueryDoc("", tt.text)); got != tt.want {
				t.Errorf("ParseQuery(%q).Match(%q): got %v, want %v", tt.query, tt.text, got, tt.want)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		wantPos int
		wantMsg string // a part of Msg
	}{
		{"empty", "", -1, "empty query"},
		{"blank", "  \t ", -1, "empty query"},
		{"unexpected close", "north korea)", 11, `unexpected ")"`},
		{"close first", ") a", 0, `unexpected ")"`},
		{"unclosed paren", "a (b OR c", 2, `"(" is never closed`},
		{"unclosed paren at end", "a (", 2, `"(" is never closed`},
		{"nested unclosed", "((a)", 0, `"(" is never closed`},
		{"empty parens", "a () b", 2, "empty parentheses"},
		{"unterminated quote", `a "north korea`, 2, "quote is never closed"},
		{"unterminated curly quote", "a “north", 2, "quote is never closed"},
		{"empty phrase", `a "" b`, 2, "empty phrase"},
		{"phrase of punctuation", `a "--" b`, 2, "empty phrase"},
		{"or at end", "a OR", 2, "OR needs a word or phrase after it"},
		{"or at start", "OR a", 0, "OR needs a word or phrase before it"},
		{"or twice", "a OR OR b", 2, "OR needs a word or phrase after it"},
		{"or before close", "(a OR) b", 3, "OR needs a word or phrase after it"},
		{"or after open", "b (OR a)", 3, "OR needs a word or phrase before it"},
		{"and at start", "AND a", 0, "AND needs a word or phrase before it"},
		{"and at end", "a AND", 2, "AND needs a word or phrase after it"},
		{"and before or", "a AND OR b", 2, "AND needs a word or phrase after it"},
		{"minus alone", "a - b", 2, `"-" needs a word, phrase or group right after it`},
		{"minus at end", "a -", 2, `"-" needs a word, phrase or group right after it`},
		{"minus before close", "(a -)", 3, `"-" needs a word, phrase or group right after it`},
		{"double minus", "a --b", 2, `"-" needs a word, phrase or group right after it`},
		{"not at end", "a NOT", 2, `"NOT" needs a word, phrase or group right after it`},
		{"minus before or", "a -OR b", 2, `"-" needs a word, phrase or group right after it`},
		{"pipe", "a | b", 2, "write OR"},
		{"only exclusion", "-sport", -1, "a query needs at least one word or phrase to look for"},
		{"only exclusions", `-sport -"world cup"`, -1, "a query needs at least one word or phrase to look for"},
		{"only punctuation", "& —", -1, "a query needs at least one word or phrase to look for"},
		{"exclusion alternative", "a OR -b", 5, "each side of OR"},
		{"exclusions alternative", "a OR -b -c", 5, "each side of OR"},
		{"exclusion alternative first", "-b OR a", 0, "each side of OR"},
		{"exclusion alternative in group", "x (a OR -b) -(c)", 8, "each side of OR"},
		{"exclusion group alternative", "a OR (-b -c)", 5, "each side of OR"},
		{"double exclusion only", "-(-a)", -1, "a query needs at least one word"},
		{"too long", strings.Repeat("a", MaxQueryLength+1), -1, "longer than 500 characters"},
		{"too many terms", strings.Repeat("a ", MaxQueryTerms) + "b", 2 * MaxQueryTerms, "too many words and phrases (at most 50)"},
		{"too many phrases", strings.Repeat(`"a" `, MaxQueryTerms) + `"b"`, 4 * MaxQueryTerms, "too many words and phrases"},
		{"position counts runes", "“ŏ” )", 4, `unexpected ")"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.query)
			if err == nil {
				t.Fatalf("ParseQuery(%q): got %s, want an error", tt.query, q)
			}
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("ParseQuery(%q): got %T %v, want a *QueryError", tt.query, err, err)
			}
			if qe.Query != tt.query {
				t.Errorf("Query: got %q, want %q", qe.Query, tt.query)
			}
			if qe.Pos != tt.wantPos {
				t.Errorf("ParseQuery(%q): Pos %d, want %d (%v)", tt.query, qe.Pos, tt.wantPos, err)
			}
			if !strings.Contains(qe.Msg, tt.wantMsg) {
				t.Errorf("ParseQuery(%q): Msg %q, want it to contain %q", tt.query, qe.Msg, tt.wantMsg)
			}
		})
	}
	// Limits are inclusive.
	if _, err := ParseQuery(strings.Repeat("a ", MaxQueryTerms)); err != nil {
		t.Errorf("%d terms: %v", MaxQueryTerms, err)
	}
	if _, err := ParseQuery(strings.Repeat("ŏ", MaxQueryLength)); err != nil {
		t.Errorf("%d runes: %v", MaxQueryLength, err)
	}
}

func TestQueryErrorMessage(t *testing.T) {
	tests := []struct {
		query string
		want  string
	}{
		{"north korea)", `query "north korea)": unexpected ")" at column 12`},
		{"-sport", `query "-sport": a query needs at least one word or phrase to look for`},
		{"", `query "": empty query`},
	}
	for _, tt := range tests {
		_, err := ParseQuery(tt.query)
		if err == nil {
			t.Fatalf("ParseQuery(%q): no error", tt.query)
		}
		if got := err.Error(); got != tt.want {
			t.Errorf("ParseQuery(%q): error %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestQueryStringAndTerms(t *testing.T) {
	tests := []struct {
		query      string
		wantString string
		wantTerms  []string
	}{
		{"Pyŏngyang", "pyongyang", []string{"pyongyang"}},
		{`"North  Korea"`, `"north korea"`, []string{"north korea"}},
		{"Kim Jong-un", `kim "jong un"`, []string{"kim", "jong un"}},
		{"a b OR c", "a b OR c", []string{"a", "b", "c"}},
		{"a (b OR c)", "a (b OR c)", []string{"a", "b", "c"}},
		{"(a b) OR (c)", "a b OR c", []string{"a", "b", "c"}},
		{"a (b c) d", "a b c d", []string{"a", "b", "c", "d"}},
		{"(a OR b) OR c", "a OR b OR c", []string{"a", "b", "c"}},
		{"a AND b", "a b", []string{"a", "b"}},
		{"a NOT b", "a -b", []string{"a"}},
		{`a -"b c" -(d OR e) -(f g)`, `a -"b c" -(d OR e) -(f g)`, []string{"a"}},
		{"a -(-b)", "a -(-b)", []string{"a"}},
		{"a -(b)", "a -b", []string{"a"}},
		{"a a A", "a a a", []string{"a"}},
		{"“a b” «c»", `"a b" c`, []string{"a b", "c"}},
		{"or and not", "or and not", []string{"or", "and", "not"}},
		{`"north korea" OR pyongyang OR "kim jong un" -sport`, `("north korea" OR pyongyang OR "kim jong un") -sport`,
			[]string{"north korea", "pyongyang", "kim jong un"}},
		{"a -x OR b c -y -x", "(a OR b c) -x -y", []string{"a", "b", "c"}},
		{"(a OR b -x) OR c", "((a OR b) -x) OR c", []string{"a", "b", "c"}},
		{"(a -x) OR c", "(a -x) OR c", []string{"a", "c"}},
		{"(a OR b -x) y", "(a OR b) -x y", []string{"a", "b", "y"}},
		{"a (-b -c) OR d", "(a -b -c) OR d", []string{"a", "d"}},
		{"x & y", "x y", []string{"x", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.String(); got != tt.wantString {
				t.Errorf("String: got %q, want %q", got, tt.wantString)
			}
			if diff := cmp.Diff(q.Terms(), tt.wantTerms); diff != "" {
				t.Errorf("Terms (-got +want):\n%s", diff)
			}
			again, err := ParseQuery(q.String())
			if err != nil {
				t.Fatalf("re-parse %q: %v", q.String(), err)
			}
			if again.String() != q.String() {
				t.Errorf("re-parsed String: got %q, want %q", again.String(), q.String())
			}
		})
	}
}

// Terms returns a copy: callers may change it.
func TestQueryTermsCopy(t *testing.T) {
	q, err := ParseQuery("a b")
	if err != nil {
		t.Fatal(err)
	}
	q.Terms()[0] = "changed"
	if got := q.Terms()[0]; got != "a" {
		t.Errorf("Terms after changing a returned slice: got %q, want %q", got, "a")
	}
}

// queryDocContains reports whether the folded phrase occurs in d; used to
// check the recall promise of Terms.
func queryDocContains(d *QueryDoc, term string) bool {
	return d.hasPhrase(strings.Split(term, " "))
}

func BenchmarkNewQueryDoc(b *testing.B) {
	title, text := queryBenchArticle(1)
	b.SetBytes(int64(len(title) + len(text)))
	for b.Loop() {
		NewQueryDoc(title, text)
	}
}

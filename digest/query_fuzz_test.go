package digest

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseQuery checks that a query either fails with a *QueryError
// pointing inside it, or has positive terms and a canonical String that
// re-parses to the same query: same String, same Terms, same matches;
// and that every document it matches contains one of its Terms.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		`"north korea" OR pyongyang OR "kim jong un" -sport`,
		"a (b OR -c) -(d e)", "Kim Jong-un", "“ŏ” ()", "a OR OR b", "-sport", `a -"" b`,
		"(a OR b) OR (c d)", "x -(-y)", "İSTANBUL NOT Café", "a AND b", "& — | ||",
		`„Zitat“ «cité» NOT (a OR "b c")`, "((((a))))", `"unterminated`, "a) (b", "ǅ ﬁ ß ẞ",
	} {
		f.Add(s, "Kim Jong-un in Pyŏngyang: north korea talks, sport and café.")
	}
	f.Fuzz(func(t *testing.T, s, text string) {
		q, err := ParseQuery(s)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("ParseQuery(%q): error %T %v is not a *QueryError", s, err, err)
			}
			if qe.Pos < -1 || qe.Pos > utf8.RuneCountInString(s) {
				t.Fatalf("ParseQuery(%q): Pos %d out of range", s, qe.Pos)
			}
			return
		}
		if len(q.Terms()) == 0 {
			t.Fatalf("ParseQuery(%q) accepted a query without positive terms", s)
		}
		canon := q.String()
		again, err := ParseQuery(canon)
		if err != nil {
			t.Fatalf("ParseQuery(%q).String() = %q does not parse: %v", s, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("ParseQuery(%q): String %q re-parses to %q", s, canon, again.String())
		}
		if diff := cmp.Diff(again.Terms(), q.Terms()); diff != "" {
			t.Fatalf("ParseQuery(%q): re-parsed Terms differ (-got +want):\n%s", s, diff)
		}
		// The same answer for a document, and the recall promise of Terms.
		for _, d := range []*QueryDoc{NewQueryDoc(s, text), NewQueryDoc("", text), NewQueryDoc(canon, "")} {
			m := q.Match(d)
			if again.Match(d) != m {
				t.Fatalf("ParseQuery(%q): %q matches differently", s, canon)
			}
			if m {
				found := false
				for _, term := range q.Terms() {
					if queryDocContains(d, term) {
						found = true
						break
					}
				}
				if !found {
					t.Fatalf("ParseQuery(%q) matches a document containing none of its terms %q", s, q.Terms())
				}
			}
		}
	})
}

package digest

import (
	"strings"
	"testing"
)

// FuzzSentences checks that splitting text into sentences loses or
// reorders nothing but white space, and yields no empty or unnormalized
// sentence.
func FuzzSentences(f *testing.F) {
	for _, s := range []string{
		"",
		"Mr. Smith went to Washington. He met the U.S. envoy at 10 a.m.",
		"\"Quoted.\" Next… and ... then?! Yes.",
		"anything.Thus 3.5 J. Smith\n\nPara two\nline",
		"\xff\xfe. \x85 \u2028 x.Y",
		"북한은 말했다. 그리고 끝。 最后！ «Fin.» (Aside.) e.g. this",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := Sentences(text)
		// Joined with spaces: the invalid bytes ending one sentence and
		// starting the next must not join into a character.
		if a, b := sentenceNoSpace(text), sentenceNoSpace(strings.Join(got, " ")); a != b {
			t.Fatalf("Sentences(%q) = %q: non-space content changed", text, got)
		}
		for _, s := range got {
			if s == "" || s != strings.Join(strings.Fields(s), " ") {
				t.Fatalf("Sentences(%q): sentence %q is empty or not normalized", text, s)
			}
		}
	})
}

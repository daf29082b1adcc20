package digest

import (
	"slices"
	"testing"
)

// FuzzUngrounded checks that grounding never panics, is deterministic,
// returns each claim once, and finds a bullet grounded in itself, alone
// or among other sources; and that UngroundedSameLanguage, which never
// takes a bullet for a translation, finds a bullet ungrounded whenever
// Ungrounded does.
func FuzzUngrounded(f *testing.F) {
	f.Add(`Ri said "real progress" on 40% of 1,200.5 items`, groundSource)
	f.Add("„Zitat hier“ sagte Merz, 3,5 Mio.", "Merz: 3,5")
	f.Add("Five of twenty-one ministers met Kim Jong Un and the Bank of Korea on the 21st; $3bn was «promis».", "Kim met 5 of 21.")
	f.Add("北京 said 3 million; Président Macron «d'accord»", "Macron a dit 3 000 000")
	f.Add("Mayor Ilse Varga has resigned, the council said.", "A storm warning was issued for the coast.")
	f.Fuzz(func(t *testing.T, bullet, source string) {
		got := Ungrounded(bullet, []string{source})
		if again := Ungrounded(bullet, []string{source}); !slices.Equal(again, got) {
			t.Fatalf("Ungrounded(%q, %q) = %q, then %q", bullet, source, got, again)
		}
		seen := map[string]bool{}
		for _, c := range got {
			if c == "" || seen[c] {
				t.Fatalf("Ungrounded(%q, %q) = %q: empty or repeated claim", bullet, source, got)
			}
			seen[c] = true
		}
		if got := Ungrounded(bullet, []string{bullet}); len(got) > 0 {
			t.Errorf("Ungrounded(%q, itself) = %q, want none", bullet, got)
		}
		if got := Ungrounded(bullet, []string{source, bullet}); len(got) > 0 {
			t.Errorf("Ungrounded(%q, [%q, itself]) = %q, want none", bullet, source, got)
		}
		// Not claim for claim: a quotation checked whole covers the
		// numbers in it (`„0 A“` rather than "0").
		if same := UngroundedSameLanguage(bullet, []string{source}); len(got) > 0 && len(same) == 0 {
			t.Errorf("Ungrounded(%q, %q) = %q, but UngroundedSameLanguage finds it grounded", bullet, source, got)
		}
		if got := UngroundedSameLanguage(bullet, []string{source, bullet}); len(got) > 0 {
			t.Errorf("UngroundedSameLanguage(%q, [%q, itself]) = %q, want none", bullet, source, got)
		}
	})
}

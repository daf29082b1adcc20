package digest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSentences(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"empty", "", nil},
		{"white space only", " \n\n\t ", nil},
		{"no terminal punctuation", "Envoys meet in Geneva", []string{"Envoys meet in Geneva"}},
		{
			"two plain sentences",
			"The envoys met on Monday. They spoke for two hours.",
			[]string{"The envoys met on Monday.", "They spoke for two hours."},
		},
		{
			"titles",
			"Mr. Park met Dr. Lee at St. Mary's hospital. Gen. Ortiz was absent.",
			[]string{"Mr. Park met Dr. Lee at St. Mary's hospital.", "Gen. Ortiz was absent."},
		},
		{
			"dotted abbreviation mid-sentence",
			"The U.S. envoy and the U.N. observer arrived. Talks began.",
			[]string{"The U.S. envoy and the U.N. observer arrived.", "Talks began."},
		},
		{
			"dotted abbreviation ends sentence",
			"The talks were hosted by the U.S. The next round is in May.",
			[]string{"The talks were hosted by the U.S.", "The next round is in May."},
		},
		{
			"initials",
			"The statement was signed by J. R. Smith and A. Kovacs. Both declined to comment.",
			[]string{"The statement was signed by J. R. Smith and A. Kovacs.", "Both declined to comment."},
		},
		{
			"month before day",
			"The summit ended on Jan. 12 without a deal. Talks resumed on Feb. 3.",
			[]string{"The summit ended on Jan. 12 without a deal.", "Talks resumed on Feb. 3."},
		},
		{
			"decimals and times",
			"Exports rose 3.5 percent by 10 a.m. on Friday. Markets were calm.",
			[]string{"Exports rose 3.5 percent by 10 a.m. on Friday.", "Markets were calm."},
		},
		{
			"quote after period",
			`"We will return next week," she said. "Nothing is agreed." Then she left.`,
			[]string{`"We will return next week," she said.`, `"Nothing is agreed."`, "Then she left."},
		},
		{
			"curly quotes",
			"He called it “a first step.” Others were less sure.",
			[]string{"He called it “a first step.”", "Others were less sure."},
		},
		{
			"question inside quote continues",
			`"Why now?" he asked. Nobody answered.`,
			[]string{`"Why now?" he asked.`, "Nobody answered."},
		},
		{
			"ellipses",
			"He paused... and went on. Then silence… Nothing more was said.",
			[]string{"He paused... and went on.", "Then silence…", "Nothing more was said."},
		},
		{
			"exclamation and question",
			"What a day! Will they meet again? Perhaps.",
			[]string{"What a day!", "Will they meet again?", "Perhaps."},
		},
		{
			"paragraphs",
			"First paragraph without a stop\n\nSecond paragraph. Two sentences.",
			[]string{"First paragraph without a stop", "Second paragraph.", "Two sentences."},
		},
		{
			"heading line",
			"Talks resume\nThe envoys met on Monday.",
			[]string{"Talks resume", "The envoys met on Monday."},
		},
		{
			"wrapped line",
			"The envoys met on Monday and\nagreed to meet again.",
			[]string{"The envoys met on Monday and agreed to meet again."},
		},
		{
			"run-together scraped sentences",
			"They spoke about anything.Thus the day ended. See example.com for more.",
			[]string{"They spoke about anything.", "Thus the day ended.", "See example.com for more."},
		},
		{
			"lower-case after period",
			"Prices were approx. ten percent higher, i.e. too high.",
			[]string{"Prices were approx. ten percent higher, i.e. too high."},
		},
		{
			"number after period",
			"Officials counted the votes. 12 delegates abstained.",
			[]string{"Officials counted the votes.", "12 delegates abstained."},
		},
		{
			"white space collapsed",
			"  The   envoys\tmet.   ",
			[]string{"The envoys met."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sentences(tt.text)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Sentences(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

// sentenceNoSpace is text without its white space.
func sentenceNoSpace(s string) string {
	return strings.Join(strings.Fields(s), "")
}

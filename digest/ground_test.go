package digest

import (
	"slices"
	"testing"
)

const groundSource = `Talks resume in Geneva as envoys seek a deal.
GENEVA — Envoys from North Korea and the United States met on Monday at the Hôtel Président Wilson for a third round of talks, officials said. ` +
	`Kim Yo-jong's adviser, Ri Son Gwon, told reporters the delegations had made "real but fragile progress" on sanctions relief. ` +
	`The sides discussed lifting 40 per cent of the restrictions imposed since 2017, worth about $3.5bn a year, and the return of 1,200 workers. ` +
	`Seven senior officials from the Bank of Korea joined the second day. President Lee Jae-myung welcomed the meeting.`

func TestUngrounded(t *testing.T) {
	tests := []struct {
		name    string
		bullet  string
		sources []string
		want    []string
	}{
		{"grounded paraphrase without names or numbers", "Envoys held another round of negotiations and reported some progress.", []string{groundSource}, nil},
		{"grounded names and numbers", "North Korea and the United States discussed lifting 40% of restrictions imposed since 2017 in Geneva.", []string{groundSource}, nil},
		{"number forms compared by value", "The deal is worth $3.5 billion a year and would return 1200 workers; 7 officials from the Bank of Korea attended.", []string{groundSource}, nil},
		{"hallucinated number", "The sides discussed lifting 45% of the restrictions.", []string{groundSource}, []string{"45%"}},
		{"hallucinated thousands", "The return of 1,500 workers was discussed.", []string{groundSource}, []string{"1,500"}},
		{"decimal differs", "The deal is worth $3.2bn a year.", []string{groundSource}, []string{"3.2bn"}},
		{"percent needs percent", "Envoys discussed 2017% more relief.", []string{groundSource}, []string{"2017%"}},
		{"spelled-out number", "Nine officials from the Bank of Korea joined.", []string{groundSource}, []string{"Nine"}},
		{"spelled-out number grounded by digits", "The return of workers since 2017 involved seven officials.", []string{groundSource}, nil},
		{"invented name", "Envoys met John Bolton in Geneva on Monday.", []string{groundSource}, []string{"John Bolton"}},
		{"invented place", "The talks moved to Vienna on Monday.", []string{groundSource}, []string{"Vienna"}},
		{"name at sentence start is checked", "Pompeo said the talks made progress.", []string{groundSource}, []string{"Pompeo"}},
		{"common word at sentence start is not a name", "After the talks, officials said progress was fragile. Officials said so.", []string{groundSource}, nil},
		{"accent and case insensitive", "Envoys met at the Hotel President Wilson in GENEVA.", []string{groundSource}, nil},
		{"possessive and hyphenated name", "Kim Yo-jong's adviser Ri Son Gwon spoke in Geneva.", []string{groundSource}, nil},
		{"title may be added", "President Ri Son Gwon spoke on Monday.", []string{groundSource}, nil},
		{"word boundaries", "Ban Ki-moon attended.", []string{"Bank of Korea officials and Kim attended. Moon was there."}, []string{"Ban Ki-moon"}},
		{"quote present", `Ri said the talks made "real but fragile progress" on relief.`, []string{groundSource}, nil},
		{"curly quote present", "Ri said the talks made “Real but Fragile progress”.", []string{groundSource}, nil},
		{"quote not in source", `Ri called the talks "a historic breakthrough" on Monday.`, []string{groundSource}, []string{`"a historic breakthrough"`}},
		{"quote words reordered", "Ri spoke of “fragile but real progress”.", []string{groundSource}, []string{"“fragile but real progress”"}},
		{"names inside a grounded quote are not checked again", `Ri said the talks made "real but fragile progress".`, []string{groundSource}, nil},
		{"numbers inside an invented quote reported with it", `Ri said "we lifted 90 sanctions".`, []string{groundSource}, []string{`"we lifted 90 sanctions"`}},
		{"unbalanced straight quotes", `Progress was "real," Ri said, adding, "it is fragile`, []string{groundSource}, nil},
		{"units and ordinals after digits", "The 3rd round lasted 400ft of talks since 2017.", []string{"The third round, the 3rd, covered 400 ft since 2017."}, nil},
		{"dotted abbreviation", "U.S. envoys met US officials.", []string{"US envoys met U.S. officials."}, nil},
		{"adverb at sentence start", "Notably, envoys met.", []string{groundSource}, nil},
		{"one-word scare quote ignored", `Ri called it "progress".`, []string{groundSource}, nil},
		{"no sources", "Envoys met in Geneva on Monday to discuss 40% relief.", nil, []string{"Envoys", "Geneva", "Monday", "40%"}},
		{"quote must be in one source", `Ri said "real progress" was made.`, []string{"Ri said it was real.", "Progress was made."}, []string{`"real progress"`}},
		{"translation checks numbers only", "북한과 미국 대표단이 제네바에서 만나 제재 완화의 40%를 논의했다. 노동자 1,300명.", []string{groundSource}, []string{"1,300명"}},
		{"identifier with digits is a name", "The G20 summit followed.", []string{"The G7 summit followed."}, []string{"G20"}},
		{"repeated claim reported once", "Vienna hosted talks; Vienna was calm.", []string{groundSource}, []string{"Vienna"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Ungrounded(tt.bullet, tt.sources)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Ungrounded(%q) = %q, want %q", tt.bullet, got, tt.want)
			}
		})
	}
}

func TestGroundParseDigits(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"1,200", 1200},
		{"1,200,000", 1200000},
		{"1.200.000", 1200000},
		{"3.5", 3.5},
		{"3,5", 3.5},
		{"1,234.5", 1234.5},
		{"1.234,5", 1234.5},
		{"2017", 2017},
	}
	for _, tt := range tests {
		got, ok := groundParseDigits(tt.in)
		if !ok || got != tt.want {
			t.Errorf("groundParseDigits(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
		}
	}
}

func TestGroundFold(t *testing.T) {
	if got, want := groundFold("Hôtel Président Ærø Łódź Straße São"), "hotel president aero lodz strasse sao"; got != want {
		t.Errorf("groundFold = %q, want %q", got, want)
	}
	if got, want := groundFold("Pre\u0301sident"), "president"; got != want {
		t.Errorf("groundFold(decomposed) = %q, want %q", got, want)
	}
}

func TestUngroundedSameLanguage(t *testing.T) {
	src := []string{"Storm warning issued for the coast\nForecasters issued a storm warning for the coast on Monday, with gusts of up to 90 kilometres an hour expected overnight."}
	bullet := "Mayor Ilse Varga has resigned, the council said."
	if got := Ungrounded(bullet, src); len(got) != 0 {
		t.Logf("Ungrounded takes %q for a translation: %v", bullet, got)
	}
	if got, want := UngroundedSameLanguage(bullet, src), []string{"Mayor Ilse Varga"}; !slices.Equal(got, want) {
		t.Errorf("UngroundedSameLanguage(%q) = %q, want %q", bullet, got, want)
	}
	if got := UngroundedSameLanguage("Forecasters issued a storm warning with gusts of 90 kilometres an hour.", src); len(got) != 0 {
		t.Errorf("a grounded bullet: %q", got)
	}
}

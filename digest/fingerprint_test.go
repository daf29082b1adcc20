package digest

import (
	"strings"
	"testing"
)

const story = `Negotiators from the two delegations met for a third consecutive day on Monday in a lakeside hotel, trying to revive talks that stalled after the summit in the spring ended without a joint statement. ` +
	`Officials familiar with the meetings said the sides exchanged written proposals on sanctions relief and inspections but did not narrow their differences on the sequencing of steps. ` +
	`A spokesperson for the host government said further rounds were planned for later in the month and urged both parties to show flexibility.`

const other = `The city council approved a new budget on Tuesday that raises spending on public transport and road repairs while freezing property taxes for a second year. ` +
	`Council members debated for several hours before the vote, and critics said the plan relied on optimistic forecasts of sales tax revenue that might not hold if the economy slows. ` +
	`The mayor said the budget balanced the needs of commuters and homeowners and promised quarterly reports on spending.`

func TestSignatureSimilarity(t *testing.T) {
	tests := []struct {
		name     string
		a, b     string
		wantNear bool
	}{
		{"identical", story, story, true},
		{"formatting only", story, strings.ToUpper(strings.ReplaceAll(story, ",", " ;")), true},
		{"one word changed", story, strings.Replace(story, "further", "more", 1), true},
		{"headline line added", story, "BREAKING: " + story + " More to follow.", true},
		{"last sentence trimmed", story, story[:strings.LastIndex(story, "A spokesperson")], true},
		{"different story", story, other, false},
		{"too short", "Talks resume at lakeside hotel", "Talks resume at lakeside hotel", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := Sign(tt.a), Sign(tt.b)
			if got := IsNearDuplicate(a, b); got != tt.wantNear {
				t.Errorf("IsNearDuplicate = %v (similarity %.2f), want %v", got, a.Similarity(b), tt.wantNear)
			}
		})
	}
}

func TestBandKeys(t *testing.T) {
	a, b := Sign(story), Sign(strings.Replace(story, "further", "more", 1))
	ka, kb := a.BandKeys(), b.BandKeys()
	if len(ka) != SignatureBands {
		t.Fatalf("got %d keys, want %d", len(ka), SignatureBands)
	}
	shared := 0
	for i := range ka {
		if ka[i] == kb[i] {
			shared++
		}
		if ka[i]>>32 != int64(i) {
			t.Errorf("key %d = %#x: band number not in the high bits", i, ka[i])
		}
	}
	if shared == 0 {
		t.Error("near-duplicates share no band key")
	}
	if Signature(nil).BandKeys() != nil {
		t.Error("nil signature has band keys")
	}
}

func TestContentHashAndID(t *testing.T) {
	if ContentHash("Title", "Some text.") != ContentHash("title ", "some   text") {
		t.Error("content hash depends on case, spacing or punctuation")
	}
	if ContentHash("A", "B C") == ContentHash("A B", "C") {
		t.Error("content hash does not separate title from text")
	}
	if ArticleID("https://x.example/a", "s", "g", "h") == ArticleID("", "s", "g", "h") {
		t.Error("URL and GUID identities collide")
	}
	if id := ArticleID("https://x.example/a", "", "", ""); len(id) != 20 {
		t.Errorf("ID %q: want 20 hex digits", id)
	}
}

func BenchmarkSign(b *testing.B) {
	text := strings.Repeat(story+" ", 5)
	for b.Loop() {
		Sign(text)
	}
}

package digest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTopicSetMatch(t *testing.T) {
	topics := []Topic{
		{ID: 7, Name: "korea-talks", Query: `"north korea" OR pyongyang OR "kim jong un" -sport`},
		{ID: 3, Name: "food", Query: `"food aid" OR famine`},
		{ID: 12, Name: "football", Query: "football OR soccer"},
		{ID: 5, Name: "seoul-sport", Query: "seoul sport"},
		{ID: 9, Name: "not-kimberly", Query: "kim -kimberly"},
		{ID: 1, Name: "envoy-any", Query: "(envoy OR ambassador) (talks OR meeting)"},
	}
	set, err := NewTopicSet(topics)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a    Article
		want []int64
	}{
		{
			name: "several, ascending",
			a: Article{
				Title: "Kim Jong-un meets envoy in Pyŏngyang",
				Text:  "The talks covered food aid. Kimberly Smith in Seoul said so.",
			},
			want: []int64{1, 3, 7},
		},
		{
			name: "exclusion",
			a:    Article{Title: "North Korea sport news", Text: "Seoul hosts a sport event."},
			want: []int64{5},
		},
		{
			name: "word in title only",
			a:    Article{Title: "Soccer", Text: "A match."},
			want: []int64{12},
		},
		{
			name: "kim without kimberly",
			a:    Article{Title: "Kim arrives", Text: "Kim Jong Un arrived."},
			want: []int64{7, 9},
		},
		{name: "none", a: Article{Title: "Weather", Text: "Rain tomorrow."}},
		{name: "empty article", a: Article{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := set.Match(tt.a)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("Match (-got +want):\n%s", diff)
			}
			// The same as matching each topic on its own.
			d := NewQueryDoc(tt.a.Title, tt.a.Text)
			var each []int64
			for _, id := range []int64{1, 3, 5, 7, 9, 12} {
				for _, tp := range topics {
					if tp.ID == id && mustParseQuery(t, tp.Query).Match(d) {
						each = append(each, id)
					}
				}
			}
			if diff := cmp.Diff(got, each); diff != "" {
				t.Errorf("Match differs from matching topics one by one (-set +each):\n%s", diff)
			}
		})
	}
}

func TestNewTopicSetErrors(t *testing.T) {
	_, err := NewTopicSet([]Topic{
		{ID: 1, Name: "fine", Query: "a"},
		{ID: 2, Name: "broken", Query: "north korea)"},
	})
	var qe *QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("bad query: got %v, want a *QueryError", err)
	}
	if !strings.Contains(err.Error(), `topic "broken"`) {
		t.Errorf("bad query: error %q does not name the topic", err)
	}

	_, err = NewTopicSet([]Topic{{ID: 4, Name: "one", Query: "a"}, {ID: 4, Name: "two", Query: "b"}})
	if err == nil || !strings.Contains(err.Error(), `"one"`) || !strings.Contains(err.Error(), `"two"`) {
		t.Errorf("same ID twice: got %v, want an error naming both topics", err)
	}

	set, err := NewTopicSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Match(Article{Title: "anything"}); got != nil {
		t.Errorf("empty set: got %v, want nil", got)
	}
}

func mustParseQuery(t *testing.T, s string) *Query {
	t.Helper()
	q, err := ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// queryBenchVocabulary is the made-up vocabulary of benchmark articles: a
// few hundred frequent short words and many rarer long ones, drawn with a
// Zipf distribution like words of real text.
func queryBenchVocabulary() []string {
	common := strings.Fields(`the of and to a in is that for it as was with be by on not he
		i this are or his from at which but have an they you were her she there
		been one all we their has would when if so no will more said who about
		than them some could into its time only other new people two over also
		after first year most government minister talks week officials state`)
	r := rand.New(rand.NewPCG(7, 7))
	const letters = "abcdefghijklmnopqrstuvwxyz"
	words := append([]string(nil), common...)
	for len(words) < 30000 {
		n := 4 + r.IntN(8)
		var b strings.Builder
		for range n {
			b.WriteByte(letters[r.IntN(len(letters))])
		}
		words = append(words, b.String())
	}
	return words
}

var queryBenchWords = queryBenchVocabulary()

// queryBenchArticle returns a made-up article of about 600 words, with
// capitals, punctuation and a few accented words.
func queryBenchArticle(seed uint64) (title, text string) {
	r := rand.New(rand.NewPCG(seed, 1))
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(queryBenchWords)-1))
	sentence := func(n int) string {
		var b strings.Builder
		for i := range n {
			w := queryBenchWords[zipf.Uint64()]
			if i == 0 || r.IntN(12) == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			if r.IntN(200) == 0 {
				w += "é"
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(w)
			if i < n-1 && r.IntN(10) == 0 {
				b.WriteByte(',')
			}
		}
		return b.String()
	}
	var b strings.Builder
	for words := 0; words < 600; {
		n := 8 + r.IntN(25)
		b.WriteString(sentence(n))
		b.WriteString(". ")
		words += n
	}
	return sentence(10), b.String()
}

// queryBenchTopics returns n made-up topics with queries in the shapes
// people write: words, phrases, alternatives and exclusions, drawn from the
// less frequent part of the vocabulary.
func queryBenchTopics(n int) []Topic {
	r := rand.New(rand.NewPCG(3, 3))
	word := func() string { return queryBenchWords[200+r.IntN(20000)] }
	topics := make([]Topic, n)
	for i := range topics {
		var q string
		switch i % 5 {
		case 0:
			q = fmt.Sprintf(`"%s %s" OR %s OR "%s %s %s" -%s`, word(), word(), word(), word(), word(), word(), word())
		case 1:
			q = fmt.Sprintf("%s %s", word(), word())
		case 2:
			q = fmt.Sprintf("(%s OR %s) (%s OR %s)", word(), word(), word(), word())
		case 3:
			q = fmt.Sprintf(`%s OR %s OR %s OR %s -"%s %s"`, word(), word(), word(), word(), word(), word())
		case 4:
			q = word()
		}
		topics[i] = Topic{ID: int64(i + 1), Name: fmt.Sprint("topic-", i), Query: q}
	}
	return topics
}

func BenchmarkTopicSetMatch(b *testing.B) {
	set, err := NewTopicSet(queryBenchTopics(500))
	if err != nil {
		b.Fatal(err)
	}
	articles := make([]Article, 200)
	var bytes int
	for i := range articles {
		articles[i].Title, articles[i].Text = queryBenchArticle(uint64(i))
		bytes += len(articles[i].Title) + len(articles[i].Text)
	}
	b.SetBytes(int64(bytes / len(articles)))
	matches, i := 0, 0
	start := time.Now()
	for b.Loop() {
		matches += len(set.Match(articles[i%len(articles)]))
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "articles/s")
	b.ReportMetric(float64(matches)/float64(i), "topics/article")
}

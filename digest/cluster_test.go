package digest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// clusterFixture is a file of digest/testdata/stories: made-up articles,
// each labelled with the event it reports.
type clusterFixture struct {
	Articles []struct {
		ID          string    `json:"id"`
		Event       string    `json:"event"`
		Outlet      string    `json:"outlet"`
		Title       string    `json:"title"`
		Published   time.Time `json:"published"`
		Updated     time.Time `json:"updated"`
		Text        string    `json:"text"`
		DuplicateOf string    `json:"duplicate_of"`
	} `json:"articles"`
}

// clusterLoadFixture reads testdata/stories/name and returns its articles
// (signatures and content hashes computed) and each article's event by ID.
func clusterLoadFixture(t testing.TB, name string) ([]Article, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "stories", name))
	if err != nil {
		t.Fatal(err)
	}
	var fx clusterFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var arts []Article
	events := make(map[string]string)
	for _, a := range fx.Articles {
		arts = append(arts, Article{
			ID:          a.ID,
			Outlet:      a.Outlet,
			URL:         "https://" + strings.ReplaceAll(strings.ToLower(a.Outlet), " ", "") + ".example/" + a.ID,
			Title:       a.Title,
			Text:        a.Text,
			TextOrigin:  TextFromPage,
			Published:   a.Published,
			Updated:     a.Updated,
			ContentHash: ContentHash(a.Title, a.Text),
			Signature:   Sign(a.Text),
			DuplicateOf: a.DuplicateOf,
		})
		events[a.ID] = a.Event
	}
	return arts, events
}

// clusterGroups returns the article IDs of each story, each list sorted,
// lists sorted by first ID: a comparable picture of a clustering.
func clusterGroups(stories []Story) [][]string {
	var groups [][]string
	for _, s := range stories {
		var ids []string
		for _, a := range s.Articles {
			ids = append(ids, a.ID)
		}
		slices.Sort(ids)
		groups = append(groups, ids)
	}
	slices.SortFunc(groups, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return groups
}

// clusterWantGroups returns the groups of clusterGroups that the events
// call for.
func clusterWantGroups(events map[string]string) [][]string {
	byEvent := make(map[string][]string)
	for id, ev := range events {
		byEvent[ev] = append(byEvent[ev], id)
	}
	var groups [][]string
	for _, ids := range byEvent {
		slices.Sort(ids)
		groups = append(groups, ids)
	}
	slices.SortFunc(groups, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return groups
}

func TestClusterFixture(t *testing.T) {
	arts, events := clusterLoadFixture(t, "kestria.json")
	stories := Cluster(arts, ClusterOptions{})
	if diff := cmp.Diff(clusterWantGroups(events), clusterGroups(stories)); diff != "" {
		t.Errorf("stories mismatch (-want +got):\n%s", diff)
	}
	for _, s := range stories {
		if got, want := s.ID, StoryID(s.Articles); got != want {
			t.Errorf("story ID = %q, want %q", got, want)
		}
	}
	// Stories come in order of their first article.
	for i := 1; i < len(stories); i++ {
		if clusterFirst(stories[i]).Before(clusterFirst(stories[i-1])) {
			t.Errorf("story %d starts before story %d", i, i-1)
		}
	}
}

// clusterFirst is the publish time of a story's first article.
func clusterFirst(s Story) time.Time {
	first := s.Articles[0].Published
	for _, a := range s.Articles {
		if a.Published.Before(first) {
			first = a.Published
		}
	}
	return first
}

func TestClusterDeterministic(t *testing.T) {
	arts, _ := clusterLoadFixture(t, "kestria.json")
	want := Cluster(arts, ClusterOptions{})
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		shuffled := slices.Clone(arts)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := Cluster(shuffled, ClusterOptions{})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("shuffle %d: stories differ (-want +got):\n%s", i, diff)
		}
	}
}

func TestClusterRepresentative(t *testing.T) {
	arts, _ := clusterLoadFixture(t, "kestria.json")
	for _, s := range Cluster(arts, ClusterOptions{}) {
		if s.Articles[0].ID == "cp-envoys" || !strings.HasSuffix(s.Articles[0].ID, "-envoys") {
			continue
		}
		// The wire story and its two copies make the wire text the
		// centre of the story; the earliest copy comes first.
		t.Errorf("envoys story led by %q, want the wire original cp-envoys", s.Articles[0].ID)
	}
}

func TestClusterCases(t *testing.T) {
	day := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	wire := "Envoys from the two countries met in Geneva on Monday for the first time since their leaders' summit collapsed in January without a joint statement, officials said, and agreed to meet again before the end of the month to discuss sanctions relief and border monitors."
	tests := []struct {
		name     string
		articles []Article
		opts     ClusterOptions
		want     [][]string
	}{
		{
			name: "duplicate of links unlike texts",
			articles: []Article{
				{ID: "a", Title: "Envoys meet in Geneva", Text: "Envoys met.", Published: day},
				{ID: "b", Title: "Football result", Text: "The home side won.", Published: day, DuplicateOf: "a"},
			},
			want: [][]string{{"a", "b"}},
		},
		{
			name: "near-duplicate signatures days apart",
			articles: []Article{
				{ID: "a", Title: "Envoys meet", Text: wire, Signature: Sign(wire), Published: day},
				{ID: "b", Title: "Talks resume", Text: wire + " More to follow.", Signature: Sign(wire + " More to follow."), Published: day.Add(96 * time.Hour)},
			},
			want: [][]string{{"a", "b"}},
		},
		{
			name: "shared country name only",
			articles: []Article{
				{ID: "a", Title: "Kestria envoys meet Dalmor envoys in Geneva", Text: "Kestria sent envoys to Geneva for talks with Dalmor on sanctions.", Published: day},
				{ID: "b", Title: "Kestria beat Orvania at football", Text: "Kestria won the football match against Orvania in Varno.", Published: day},
				{ID: "c", Title: "Kestria trade fair opens in Varno", Text: "Kestria opened its trade fair with exhibitors from many countries.", Published: day},
				{ID: "d", Title: "Kestria and Dalmor envoys hold Geneva talks", Text: "Envoys of Kestria and Dalmor held talks in Geneva about sanctions.", Published: day},
			},
			want: [][]string{{"a", "d"}, {"b"}, {"c"}},
		},
		{
			name: "same words a week apart stay apart",
			articles: []Article{
				{ID: "a", Title: "Storm closes roads in the south", Text: "A storm closed roads in the south and cut power to villages.", Published: day},
				{ID: "b", Title: "Storm closes roads in the south", Text: "A storm closed roads in the south again, cutting power.", Published: day.Add(7 * 24 * time.Hour)},
				{ID: "c", Title: "Trade fair opens", Text: "The trade fair opened with exhibitors.", Published: day},
			},
			opts: ClusterOptions{Threshold: 0.45},
			want: [][]string{{"a"}, {"b"}, {"c"}},
		},
		{
			name: "same words the same day join",
			articles: []Article{
				{ID: "a", Title: "Storm closes roads in the south", Text: "A storm closed roads in the south and cut power to villages.", Published: day},
				{ID: "b", Title: "Storm closes roads in the south", Text: "A storm closed roads in the south again, cutting power.", Published: day.Add(3 * time.Hour)},
				{ID: "c", Title: "Trade fair opens", Text: "The trade fair opened with exhibitors.", Published: day},
			},
			opts: ClusterOptions{Threshold: 0.45},
			want: [][]string{{"a", "b"}, {"c"}},
		},
		{
			name: "empty articles stay alone",
			articles: []Article{
				{ID: "a", Published: day},
				{ID: "b", Published: day},
			},
			want: [][]string{{"a"}, {"b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clusterGroups(Cluster(tt.articles, tt.opts))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stories mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClusterEmpty(t *testing.T) {
	if got := Cluster(nil, ClusterOptions{}); got != nil {
		t.Errorf("Cluster(nil) = %v, want nil", got)
	}
}

// clusterSynthetic returns n made-up articles about n/5 events, each event
// with its own vocabulary plus words every article shares.
func clusterSynthetic(n int) []Article {
	r := rand.New(rand.NewPCG(7, 11))
	common := strings.Fields("kestria varno government officials country people city report minister")
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	arts := make([]Article, n)
	events := max(1, n/5)
	for i := range arts {
		ev := r.IntN(events)
		vocab := make([]string, 30)
		for k := range vocab {
			vocab[k] = fmt.Sprintf("ev%dword%d", ev, k)
		}
		pick := func(k int) string {
			var b strings.Builder
			for range k {
				if r.IntN(3) == 0 {
					b.WriteString(common[r.IntN(len(common))])
				} else {
					b.WriteString(vocab[r.IntN(len(vocab))])
				}
				b.WriteByte(' ')
			}
			return b.String()
		}
		arts[i] = Article{
			ID:        fmt.Sprintf("a%04d", i),
			Outlet:    fmt.Sprintf("Outlet %d", r.IntN(20)),
			Title:     pick(10),
			Text:      pick(400),
			Published: start.Add(time.Duration(r.IntN(72)) * time.Hour),
		}
	}
	return arts
}

func BenchmarkCluster500(b *testing.B) {
	arts := clusterSynthetic(500)
	b.ReportAllocs()
	for b.Loop() {
		Cluster(arts, ClusterOptions{})
	}
}

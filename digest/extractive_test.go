package digest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// extractBoilerplateMarks are pieces of the fixture's boilerplate; no
// bullet may contain one.
var extractBoilerplateMarks = []string{
	"Sign up", "newsletter", "Click", "Photo", "credit", "Follow us", "www.",
	"By Marta", "By Tom", "All rights reserved", "has reported on Kestria", "Listen to",
	"Updated at", "(Continental Press)", "GENEVA",
}

func TestExtractiveFixture(t *testing.T) {
	arts, events := clusterLoadFixture(t, "kestria.json")
	stories := Cluster(arts, ClusterOptions{})
	ex := NewExtractive().WithStories(stories)
	limits := []struct {
		name                 string
		maxBullets, maxWords int
	}{
		{"defaults", 0, 0},
		{"one short bullet", 1, 30},
		{"two bullets", 2, 80},
		{"four bullets", 4, 120},
		{"tight budget", 4, 20},
	}
	for _, st := range stories {
		event := events[st.Articles[0].ID]
		for _, lim := range limits {
			t.Run(event+"/"+lim.name, func(t *testing.T) {
				sum, err := ex.Summarize(context.Background(), SummaryRequest{Story: st, MaxBullets: lim.maxBullets, MaxWords: lim.maxWords})
				if err != nil {
					t.Fatal(err)
				}
				if sum.Headline == "" {
					t.Error("no headline")
				}
				wantBullets, wantWords := lim.maxBullets, lim.maxWords
				if wantBullets == 0 {
					wantBullets = 3
				}
				if wantWords == 0 {
					wantWords = 80
				}
				if len(sum.Bullets) > wantBullets {
					t.Errorf("got %d bullets, want at most %d", len(sum.Bullets), wantBullets)
				}
				if lim.maxWords >= 30 && len(sum.Bullets) == 0 {
					t.Error("no bullets")
				}
				words := 0
				for _, b := range sum.Bullets {
					words += len(strings.Fields(b.Text))
					extractCheckBullet(t, st, b)
				}
				if words > wantWords {
					t.Errorf("bullets have %d words, want at most %d", words, wantWords)
				}
			})
		}
	}
}

// extractCheckBullet checks that a bullet is free of boilerplate, cites
// valid articles, comes from the first one it cites, and cites every
// article that carries it.
func extractCheckBullet(t *testing.T, st Story, b Bullet) {
	t.Helper()
	for _, mark := range extractBoilerplateMarks {
		if strings.Contains(b.Text, mark) {
			t.Errorf("bullet %q contains boilerplate %q", b.Text, mark)
		}
	}
	if len(b.Citations) == 0 {
		t.Errorf("bullet %q cites nothing", b.Text)
		return
	}
	for _, c := range b.Citations {
		if c < 0 || c >= len(st.Articles) {
			t.Errorf("bullet %q cites %d of %d articles", b.Text, c, len(st.Articles))
			return
		}
	}
	key := extractKey(b.Text)
	if !strings.Contains(extractKey(st.Articles[b.Citations[0]].Text), key) {
		t.Errorf("bullet %q is not in the article it cites first", b.Text)
	}
	for i, a := range st.Articles {
		if strings.Contains(extractKey(a.Text), key) && !slices.Contains(b.Citations, i) {
			t.Errorf("bullet %q: article %d (%s) carries it but is not cited (cites %v)", b.Text, i, a.ID, b.Citations)
		}
	}
}

func TestExtractiveWireCopiesCiteAll(t *testing.T) {
	arts, events := clusterLoadFixture(t, "kestria.json")
	var envoys []Article
	for _, a := range arts {
		if events[a.ID] == "envoys" {
			envoys = append(envoys, a)
		}
	}
	st := Story{ID: StoryID(envoys), Articles: envoys}
	sum, err := NewExtractive().Summarize(context.Background(), SummaryRequest{Story: st, MaxBullets: 4, MaxWords: 200})
	if err != nil {
		t.Fatal(err)
	}
	// The wire copies are articles 0 to 2; at least one chosen sentence
	// comes from the wire text, and it cites all three copies.
	wire := false
	for _, b := range sum.Bullets {
		if strings.Contains(extractKey(envoys[0].Text), extractKey(b.Text)) {
			wire = true
			if diff := cmp.Diff([]int{0, 1, 2}, b.Citations[:min(3, len(b.Citations))]); diff != "" {
				t.Errorf("wire bullet %q citations (-want +got):\n%s", b.Text, diff)
			}
		}
	}
	if !wire {
		t.Errorf("no bullet from the wire story among %v", sum.Bullets)
	}
}

func TestExtractiveEdgeCases(t *testing.T) {
	day := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	long := "Envoys from both countries met in Geneva on Monday for four hours of talks. " +
		"They agreed to meet again before the end of the month, a Swiss official said. " +
		"The previous summit collapsed in January over the sequencing of sanctions relief."
	tests := []struct {
		name        string
		ex          *Extractive
		story       Story
		maxBullets  int
		wantErr     error
		wantHead    string
		wantBullets int
	}{
		{
			name:    "no articles",
			ex:      NewExtractive(),
			story:   Story{},
			wantErr: ErrEmptyStory,
		},
		{
			name: "title-only articles",
			ex:   NewExtractive(),
			story: Story{Articles: []Article{
				{ID: "a", Title: "Envoys meet in Geneva - Daily Ledger", Outlet: "Daily Ledger", TextOrigin: TextTitleOnly, Published: day},
				{ID: "b", Title: "Geneva talks resume", TextOrigin: TextTitleOnly, Published: day},
			}},
			wantHead: "Envoys meet in Geneva",
		},
		{
			name: "empty text",
			ex:   NewExtractive(),
			story: Story{Articles: []Article{
				{ID: "a", Title: "Envoys meet in Geneva", Published: day},
			}},
			wantHead: "Envoys meet in Geneva",
		},
		{
			name: "headline from a later article",
			ex:   NewExtractive(),
			story: Story{Articles: []Article{
				{ID: "a", Text: long, Published: day},
				{ID: "b", Title: "Envoys meet | Radio Kestria", Published: day},
			}},
			wantHead:    "Envoys meet",
			wantBullets: 3,
		},
		{
			name:        "bullet limit caps at four",
			ex:          NewExtractive(),
			story:       Story{Articles: []Article{{ID: "a", Title: "Envoys meet", Text: long + " " + long2}}},
			maxBullets:  9,
			wantHead:    "Envoys meet",
			wantBullets: 4,
		},
		{
			name:        "override lifts the bullet limit",
			ex:          &Extractive{MaxBulletsOverride: 9},
			story:       Story{Articles: []Article{{ID: "a", Title: "Envoys meet", Text: long + " " + long2}}},
			maxBullets:  2,
			wantHead:    "Envoys meet",
			wantBullets: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, err := tt.ex.Summarize(context.Background(), SummaryRequest{Story: tt.story, MaxBullets: tt.maxBullets, MaxWords: 1000})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if sum.Headline != tt.wantHead {
				t.Errorf("got headline %q, want %q", sum.Headline, tt.wantHead)
			}
			if len(sum.Bullets) != tt.wantBullets {
				t.Errorf("got %d bullets %v, want %d", len(sum.Bullets), sum.Bullets, tt.wantBullets)
			}
		})
	}
}

// long2 is more made-up story text for the bullet limit cases.
const long2 = "Opposition leaders criticised the government for offering concessions without guarantees. " +
	"Switzerland offered to host a third round of talks in the spring if needed."

func TestExtractiveCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewExtractive().Summarize(ctx, SummaryRequest{Story: Story{Articles: []Article{{ID: "a", Title: "T"}}}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestExtractiveBulletOrder(t *testing.T) {
	a := Article{ID: "a", Title: "Envoys meet", Text: "Envoys from both countries met in Geneva on Monday for four hours of talks.\n\n" +
		"Opposition leaders in the capital criticised the talks as a waste of time and money.\n\n" +
		"Switzerland offered to host a second round of talks in Geneva later this month."}
	b := Article{ID: "b", Title: "Talks in Geneva", Text: "A Swiss official said the envoys agreed to return to Geneva for more talks soon."}
	sum, err := NewExtractive().Summarize(context.Background(), SummaryRequest{Story: Story{Articles: []Article{a, b}}, MaxBullets: 4, MaxWords: 200})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, bl := range sum.Bullets {
		got = append(got, fmt.Sprint(bl.Citations[0], ":", strings.Fields(bl.Text)[0]))
	}
	// Leads first (article order breaks the tie), then later sentences.
	want := []string{"0:Envoys", "1:A", "0:Opposition", "0:Switzerland"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bullet order (-want +got):\n%s", diff)
	}
}

func TestExtractIsBoilerplate(t *testing.T) {
	tests := []struct {
		name     string
		sentence string
		want     bool
	}{
		{"news sentence", "Envoys from Kestria and Dalmor met in Geneva on Monday.", false},
		{"quote", `"We came to listen, and we listened," Venn told reporters after the meeting.`, false},
		{"too short", "Talks resume in Geneva.", true},
		{"too long", strings.Repeat("word ", 61) + "end.", true},
		{"question", "Will the envoys meet again before the end of the month?", true},
		{"question in quotes", `Will the envoys meet again before the end of the month?"`, true},
		{"url", "Read the full statement at https://example.org/statement today.", true},
		{"bare domain", "Listen to the full interview on our website at www.radio.example now.", true},
		{"email", "Send your tips to the newsroom at tips@example.org any time.", true},
		{"handle", "The ministry posted the statement on @KestriaMFA late on Monday.", true},
		{"click", "Click here to read more stories from the Daily Ledger.", true},
		{"subscribe", "Subscribe to our channel for more videos like this one.", true},
		{"subscribers are news", "The newspaper lost thousands of subscribers after the tweets.", false},
		{"sign up", "Sign up for our morning newsletter to get the top stories.", true},
		{"read more", "Read more about the summit in our special report here.", true},
		{"follow us", "Follow us on social media for live updates from Geneva.", true},
		{"rights reserved", "Copyright 2026 Market Wire. All rights reserved worldwide.", true},
		{"photo caption", "Photo: Aldo Venn arrives at the Villa Moser in Geneva.", true},
		{"image credit", "Aldo Venn arrives at the villa. Image credit: Northern Post/Lena Ruiz", true},
		{"via agency", "Envoys arrive at the villa on Monday morning, via AP images.", true},
		{"agency credit", "Envoys arrive at the villa on Monday morning (Getty Images)", true},
		{"byline", "By Marta Kell and Jonas Pirk, Northern Post Staff Writers", true},
		{"by as preposition", "By Monday evening the envoys had agreed to meet again.", false},
		{"dateline alone", "GENEVA, March 2 (Continental Press) -", true},
		{"mostly digits", "2-1 (45', 88') 1,400 / 38 / 90,000 / 5 / 6 / 2026", true},
		{"all caps", "BREAKING NEWS: ENVOYS MEET IN GENEVA AFTER STALLED SUMMIT", true},
		{"updated notice", "Updated at 16:00 GMT with the date of the second round.", true},
		{"lower-case fragment", "and then the envoys left the villa without comment.", true},
		{"top is not a caption", "Top diplomats from both countries met in Geneva on Monday.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := extractIsBoilerplate(tt.sentence); got != tt.want {
				t.Errorf("extractIsBoilerplate(%q) = %v, want %v", tt.sentence, got, tt.want)
			}
		})
	}
}

func TestExtractStripDateline(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"agency dateline", "GENEVA (Continental Press) - Envoys met on Monday.", "Envoys met on Monday."},
		{"dated dateline", "SEOUL, March 3 (Yonhap) -- Envoys met on Monday.", "Envoys met on Monday."},
		{"dash dateline", "WASHINGTON — Envoys met on Monday.", "Envoys met on Monday."},
		{"no dateline", "Envoys met on Monday - a first since January.", "Envoys met on Monday - a first since January."},
		{"mixed case start", "A spokesman - speaking on Monday - said little.", "A spokesman - speaking on Monday - said little."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := extractStripDateline(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtractCleanTitle(t *testing.T) {
	tests := []struct {
		name, title, outlet, want string
	}{
		{"outlet suffix", "Envoys meet in Geneva - Daily Ledger", "Daily Ledger", "Envoys meet in Geneva"},
		{"pipe suffix", "Geneva talks: envoys sit down again | Harbor Times", "", "Geneva talks: envoys sit down again"},
		{"site-like suffix", "Envoys meet in Geneva – Kestria Daily News", "Other", "Envoys meet in Geneva"},
		{"domain suffix", "Envoys meet in Geneva - example.com", "", "Envoys meet in Geneva"},
		{"two suffixes", "Envoys meet in Geneva | World | The Post", "", "Envoys meet in Geneva"},
		{"dash inside title kept", "Kestria-Dalmor talks - what we know so far", "", "Kestria-Dalmor talks - what we know so far"},
		{"no suffix", "Venn: Geneva meeting 'a start'", "Radio Kestria", "Venn: Geneva meeting 'a start'"},
		{"white space", "  Envoys   meet  ", "", "Envoys meet"},
		{"empty", "", "Outlet", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := extractCleanTitle(tt.title, tt.outlet); got != tt.want {
				t.Errorf("extractCleanTitle(%q, %q) = %q, want %q", tt.title, tt.outlet, got, tt.want)
			}
		})
	}
}

func TestExtractiveWithStoriesRejectsSiteBoilerplate(t *testing.T) {
	footer := "The Northern Post has reported on Kestria and its neighbours since 1921."
	mk := func(id, text string) Article {
		return Article{ID: id, Outlet: "Northern Post", Title: "Title " + id, Text: text + "\n\n" + footer}
	}
	stories := []Story{
		{ID: "s1", Articles: []Article{mk("a", "Envoys from Kestria and Dalmor met in Geneva on Monday afternoon.")}},
		{ID: "s2", Articles: []Article{mk("b", "Kestria beat Orvania two to one in Varno on Monday night.")}},
		{ID: "s3", Articles: []Article{mk("c", "The Varno trade fair opened on Monday with record exhibitors.")}},
	}
	for name, ex := range map[string]*Extractive{"plain": NewExtractive(), "with stories": NewExtractive().WithStories(stories)} {
		sum, err := ex.Summarize(context.Background(), SummaryRequest{Story: stories[0], MaxBullets: 4})
		if err != nil {
			t.Fatal(err)
		}
		hasFooter := false
		for _, b := range sum.Bullets {
			hasFooter = hasFooter || b.Text == footer
		}
		if want := name == "plain"; hasFooter != want {
			t.Errorf("%s: footer among bullets = %v, want %v (%v)", name, hasFooter, want, sum.Bullets)
		}
	}
}

// extractSyntheticStory returns a story of made-up articles with many
// sentences each.
func extractSyntheticStory(articles, sentences int) Story {
	r := rand.New(rand.NewPCG(3, 5))
	vocab := strings.Fields("envoys talks geneva summit sanctions relief border monitors valley minister " +
		"proposal delegation statement officials meeting round villa agreement ceasefire government " +
		"opposition criticised concessions guarantees written answer weeks host spokesperson lakeside")
	var st Story
	for a := range articles {
		var b strings.Builder
		for s := range sentences {
			b.WriteString("Officials")
			for range 8 + r.IntN(20) {
				b.WriteByte(' ')
				b.WriteString(vocab[r.IntN(len(vocab))])
			}
			b.WriteString(".")
			if s%3 == 2 {
				b.WriteString("\n\n")
			} else {
				b.WriteString(" ")
			}
		}
		st.Articles = append(st.Articles, Article{ID: fmt.Sprintf("a%d", a), Outlet: fmt.Sprintf("Outlet %d", a), Title: "Envoys meet", Text: b.String()})
	}
	st.ID = StoryID(st.Articles)
	return st
}

func BenchmarkExtractive(b *testing.B) {
	st := extractSyntheticStory(8, 40)
	ex := NewExtractive()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ex.Summarize(ctx, SummaryRequest{Story: st}); err != nil {
			b.Fatal(err)
		}
	}
}

// extractSets finds the same set as comparing with every set added, with
// a vocabulary large enough that it compares few, and one so small that
// it compares all.
func TestExtractSetsSimilar(t *testing.T) {
	for _, vocab := range []int{400, 12} {
		r := rand.New(rand.NewPCG(5, uint64(vocab)))
		var x extractSets
		var all [][]int
		found := 0
		for n := range 2000 {
			var set []int
			if len(all) > 0 && r.IntN(3) == 0 {
				// A near-copy of an earlier set: a few words dropped or
				// added.
				for _, w := range all[r.IntN(len(all))] {
					if r.IntN(12) > 0 {
						set = append(set, w)
					}
				}
				for range r.IntN(3) {
					set = append(set, r.IntN(vocab))
				}
			} else {
				for range 1 + r.IntN(30) {
					set = append(set, r.IntN(vocab))
				}
			}
			slices.Sort(set)
			set = slices.Compact(set)
			want := -1
			for i, o := range all {
				if extractJaccard(set, o) >= extractSameSentence {
					want = i
					break
				}
			}
			if got := x.similar(set); got != want {
				t.Fatalf("vocabulary %d, set %d %v: similar %d, want %d", vocab, n, set, got, want)
			}
			if want >= 0 {
				found++
			} else {
				x.add(set)
				all = append(all, set)
			}
		}
		if found < 100 {
			t.Errorf("vocabulary %d: only %d sets had a similar one: the test is too easy", vocab, found)
		}
	}
}

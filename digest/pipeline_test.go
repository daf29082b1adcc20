package digest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// failingSummarizer always fails with err.
type failingSummarizer struct{ err error }

func (f failingSummarizer) Summarize(context.Context, SummaryRequest) (Summary, error) {
	return Summary{}, f.err
}

// echoSummarizer writes one bullet citing the first article, and counts calls.
type echoSummarizer struct{ calls atomic.Int32 }

func (e *echoSummarizer) Summarize(_ context.Context, req SummaryRequest) (Summary, error) {
	e.calls.Add(1)
	return Summary{Headline: "LLM: " + req.Story.Articles[0].Title, Bullets: []Bullet{{Text: "A bullet.", Citations: []int{0}}}}, nil
}

var pipelineNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// pipelineArticles returns n unrelated articles, each its own story.
func pipelineArticles(n int) []Article {
	topics := []string{"harbour flood", "election result", "rocket launch", "wheat harvest", "bridge collapse", "chess final", "rail strike", "museum reopening"}
	texts := []string{
		"Floodwater swept through the harbour district overnight. Fishermen moved boats inland before dawn. Pumps worked until noon clearing cellars.",
		"Voters returned the governing coalition with a narrow majority. Turnout fell compared with previous ballots. Opposition leaders conceded before midnight.",
		"Engineers launched a weather satellite aboard a small rocket. Telemetry confirmed orbit within minutes. Scientists expect first images next week.",
		"Farmers gathered a record wheat crop despite dry spring weather. Grain prices dipped at regional markets. Storage silos filled quickly.",
		"An old river bridge collapsed after heavy traffic and erosion. Divers searched the water for trapped vehicles. Inspectors blamed corroded steel cables.",
		"A teenage grandmaster won the chess final after seven hours. Spectators applauded a daring queen sacrifice. Organisers announced prize money doubling.",
		"Train drivers walked out demanding higher wages and shorter shifts. Commuters crowded buses instead. Union negotiators met managers again.",
		"The national museum reopened following lengthy renovation works. Curators unveiled restored medieval tapestries. Queues stretched around several blocks.",
	}
	var out []Article
	for i := range n {
		t := topics[i%len(topics)]
		text := texts[i%len(texts)]
		a := Article{Outlet: fmt.Sprintf("Outlet %d", i), Title: "Report on the " + t, Text: text, URL: fmt.Sprintf("https://o%d.example/a", i), Published: pipelineNow.Add(-time.Duration(i) * time.Hour)}
		a.ContentHash = ContentHash(a.Title, a.Text)
		a.ID = ArticleID(a.URL, "", "", a.ContentHash)
		out = append(out, a)
	}
	return out
}

func newTestBuilder(llm Summarizer) *Builder {
	return &Builder{LLM: llm, Model: "m1", Extractive: NewExtractive(), Now: func() time.Time { return pipelineNow }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestBuild(t *testing.T) {
	sel := Selection{Query: "report", From: pipelineNow.Add(-24 * time.Hour), To: pipelineNow}
	tests := []struct {
		name           string
		llm            Summarizer
		articles       int
		opts           BriefOptions
		wantStories    int
		wantSummarizer string
		wantModel      string
		wantReason     string // prefix; "" means none
	}{
		{"extractive only", nil, 3, BriefOptions{}, 3, SummarizerExtractive, "", ""},
		{"llm for every story", &echoSummarizer{}, 3, BriefOptions{}, 3, SummarizerLLM, "m1", ""},
		{"llm fails", failingSummarizer{errors.New("llm: POST http://10.0.0.5/v1: 401 bad key")}, 2, BriefOptions{}, 2, SummarizerExtractive, "m1", "summarized without the language model: the language model failed"},
		{"llm unavailable", failingSummarizer{fmt.Errorf("llm: 503: %w", ErrTransient)}, 2, BriefOptions{}, 2, SummarizerExtractive, "m1", "summarized without the language model: the language model is unavailable"},
		{"llm timed out", failingSummarizer{fmt.Errorf("llm: no reply within 2s: %w %w", ErrTransient, context.DeadlineExceeded)}, 2, BriefOptions{}, 2, SummarizerExtractive, "m1", "summarized without the language model: the language model timed out"},
		{"budget spent", failingSummarizer{fmt.Errorf("llm: %w", ErrBudgetSpent)}, 2, BriefOptions{}, 2, SummarizerExtractive, "m1", "summarized without the language model: the token budget"},
		{"allowance spent", failingSummarizer{fmt.Errorf("llm: %w", &BudgetSpentError{Reason: "this server's allowance is spent"})}, 2, BriefOptions{}, 2, SummarizerExtractive, "m1", "summarized without the language model: this server's allowance is spent"},
		{"max stories", nil, 8, BriefOptions{MaxStories: 5}, 5, SummarizerExtractive, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := newTestBuilder(tt.llm).Build(context.Background(), sel, pipelineArticles(tt.articles), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Stories) != tt.wantStories || b.Summarizer != tt.wantSummarizer || b.Model != tt.wantModel || !strings.HasPrefix(b.FallbackReason, tt.wantReason) || (tt.wantReason == "" && b.FallbackReason != "") {
				t.Errorf("got %d stories, summarizer %q, model %q, reason %q; want %d, %q, %q, %q",
					len(b.Stories), b.Summarizer, b.Model, b.FallbackReason, tt.wantStories, tt.wantSummarizer, tt.wantModel, tt.wantReason)
			}
			for _, s := range b.Stories {
				if s.Headline == "" || len(s.Bullets) == 0 {
					t.Errorf("story %s: headline %q, %d bullets", s.ID, s.Headline, len(s.Bullets))
				}
				for _, bl := range s.Bullets {
					if len(bl.Citations) == 0 {
						t.Errorf("bullet %q cites nothing", bl.Text)
					}
				}
			}
			if !strings.Contains(b.Lede, "Top: ") || !strings.Contains(b.Lede, "in the last 24 hours") {
				t.Errorf("lede = %q", b.Lede)
			}
		})
	}
}

// A refusal is the same for every story: the briefing logs it once.
func TestBuildLogsRefusalOnce(t *testing.T) {
	var logs strings.Builder
	b := newTestBuilder(failingSummarizer{fmt.Errorf("llm: story x: chat completion: 401 Unauthorized: bad key: %w", ErrRefused)})
	b.Log = slog.New(slog.NewTextHandler(&logs, nil))
	sel := Selection{Query: "report", From: pipelineNow.Add(-24 * time.Hour), To: pipelineNow}
	br, err := b.Build(context.Background(), sel, pipelineArticles(5), BriefOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(br.Stories) != 5 || br.Summarizer != SummarizerExtractive || br.FallbackReason != "summarized without the language model: the language model failed" {
		t.Errorf("got %d stories, summarizer %q, reason %q", len(br.Stories), br.Summarizer, br.FallbackReason)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "summarizer refused") {
		t.Errorf("%d warnings, want 1 saying the summarizer refused:\n%s", n, logs.String())
	}
}

func TestBuildNothingMatched(t *testing.T) {
	sel := Selection{Topic: &Topic{Name: "korea-talks"}, From: pipelineNow.Add(-72 * time.Hour), To: pipelineNow}
	b, err := newTestBuilder(nil).Build(context.Background(), sel, nil, BriefOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Nothing matched topic korea-talks in the last 3 days."; b.Lede != want || len(b.Stories) != 0 {
		t.Errorf("lede = %q, want %q", b.Lede, want)
	}
}

func TestLede(t *testing.T) {
	story := func(outlets ...string) BriefStory {
		var s BriefStory
		for _, o := range outlets {
			s.Articles = append(s.Articles, Article{Outlet: o})
		}
		s.Headline = "Envoys meet."
		return s
	}
	tests := []struct {
		name    string
		stories []BriefStory
		since   time.Duration
		want    string
	}{
		{name: "one of each", stories: []BriefStory{story("a")}, since: time.Hour,
			want: "1 story from 1 article by 1 outlet on topic t in the last hour. Top: Envoys meet"},
		{name: "plurals", stories: []BriefStory{story("a", "b"), story("a")}, since: 24 * time.Hour,
			want: "2 stories from 3 articles by 2 outlets on topic t in the last 24 hours. Top: Envoys meet"},
		{name: "days", stories: []BriefStory{story("a", "a")}, since: 72 * time.Hour,
			want: "1 story from 2 articles by 1 outlet on topic t in the last 3 days. Top: Envoys meet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Briefing{Topic: "t", From: pipelineNow.Add(-tt.since), To: pipelineNow, Stories: tt.stories}
			if got := lede(b); got != tt.want {
				t.Errorf("lede = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuildCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newTestBuilder(&echoSummarizer{}).Build(ctx, Selection{}, pipelineArticles(2), BriefOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Build with a canceled context: %v", err)
	}
}

func TestBudgetCap(t *testing.T) {
	b := NewBudget(1000, 100).Cap(500, "monthly allowance spent")
	if err := b.Reserve(300, 100); err != nil {
		t.Fatal(err)
	}
	err := b.Reserve(150, 0)
	var spent *BudgetSpentError
	if !errors.Is(err, ErrBudgetSpent) || !errors.As(err, &spent) || spent.Reason != "monthly allowance spent" {
		t.Fatalf("over the cap: %v, want a BudgetSpentError", err)
	}
	b.Release(200, 50) // the call used less than reserved
	if err := b.Reserve(150, 0); err != nil {
		t.Errorf("after a release: %v", err)
	}
	// The per-briefing limits still apply, with their own error.
	if err := b.Reserve(0, 60); !errors.Is(err, ErrBudgetSpent) || errors.As(err, &spent) {
		t.Errorf("over the output limit: %v, want plain ErrBudgetSpent", err)
	}
	if err := NewBudget(0, 0).Cap(0, "none left").Reserve(1, 0); !errors.Is(err, ErrBudgetSpent) {
		t.Errorf("a zero cap allowed a call: %v", err)
	}
}

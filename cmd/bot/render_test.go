package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func goldenBriefing() digest.Briefing {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	talks := digest.Story{ID: "s1", Articles: []digest.Article{
		{ID: "a1", Outlet: "Global Wire", Title: "Envoys meet in Stockholm as talks stall", URL: "https://wire.example/envoys", Published: t0},
		{ID: "a2", Outlet: "Morning Herald", Title: "Talks: US came *empty-handed*, says envoy", URL: "https://herald.example/talks", Published: t0.Add(2 * time.Hour)},
	}}
	launch := digest.Story{ID: "s2", Articles: []digest.Article{
		{ID: "a3", Outlet: "Policy Review", Title: "Two short-range missiles fired", URL: "https://policy.example/missiles", Published: t0.Add(-6 * time.Hour)},
	}}
	return digest.Briefing{
		Topic: "korea-talks", Query: `"north korea" OR pyongyang`,
		From: t0.Add(-21 * time.Hour), To: t0.Add(3 * time.Hour),
		Lede:       "2 stories from 3 articles by 3 outlets on topic korea-talks in the last 24 hours. Top: Envoys meet in Stockholm as talks stall",
		Summarizer: digest.SummarizerExtractive, Model: "gpt-4o-mini",
		FallbackReason: "summarized without the language model: llm: POST /chat/completions: 503 Service Unavailable",
		Dropped:        1, Matched: 3,
		Stories: []digest.BriefStory{
			{Story: talks, Headline: "Envoys meet in Stockholm as talks stall", Bullets: []digest.Bullet{
				{Text: "Envoys met for eight hours on sanctions relief and the Yongbyon complex, a Swedish official said.", Citations: []int{0, 1}},
				{Text: "The chief negotiator said Washington came \"empty-handed\" and told @everyone the talks [broke down](https://evil.example).", Citations: []int{1}},
			}},
			{Story: launch, Headline: "Two short-range missiles fired", Bullets: []digest.Bullet{
				{Text: "The missiles flew about 400 kilometres before landing in the sea, the military said.", Citations: []int{0}},
			}},
		},
	}
}

func TestRenderGolden(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, format := range []string{"text", "markdown", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := render(&buf, goldenBriefing(), format, now); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "brief."+format+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("render %s mismatch (go test -update to accept):\n--- got\n%s\n--- want\n%s", format, got, want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	got := wrap("one two three four five six", 10, "  ", "    ")
	want := "  one two\n    three\n    four\n    five\n    six\n"
	if got != want {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

package digest

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestRank(t *testing.T) {
	now := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
	art := func(id, outlet string, age time.Duration) Article {
		return Article{ID: id, Outlet: outlet, Published: now.Add(-age)}
	}
	type result struct {
		ID    string
		Score float64
	}
	tests := []struct {
		name      string
		stories   []Story
		relevance func(Article) float64
		want      []result
	}{
		{
			name: "outlets count once, wire copies count",
			stories: []Story{
				{ID: "one-outlet", Articles: []Article{art("a1", "Post", 0), art("a2", "Post", 0), art("a3", "post ", 0)}},
				{ID: "wire", Articles: []Article{art("b1", "Wire", 0), {ID: "b2", Outlet: "Times", Published: now, DuplicateOf: "b1"}, art("b3", "Ledger", 0)}},
			},
			// 1 + ln 3 for three outlets, 1 + ln 1 = 1 for one.
			want: []result{{"wire", 1 + math.Log(3)}, {"one-outlet", 1}},
		},
		{
			name: "recency halves every twelve hours",
			stories: []Story{
				{ID: "old", Articles: []Article{art("a", "Post", 24*time.Hour)}},
				{ID: "fresh", Articles: []Article{art("b", "Post", 0)}},
				{ID: "half", Articles: []Article{art("c", "Post", 12*time.Hour), art("d", "Post", 30*time.Hour)}},
				{ID: "future", Articles: []Article{art("e", "Post", -time.Hour)}},
			},
			// The newest article sets the age; future counts as now, and
			// the newer of two equal scores comes first.
			want: []result{{"future", 1}, {"fresh", 1}, {"half", 0.5}, {"old", 0.25}},
		},
		{
			name: "relevance multiplies, highest article counts",
			stories: []Story{
				{ID: "loose", Articles: []Article{art("a", "Post", 0), art("b", "Times", 0)}},
				{ID: "close", Articles: []Article{art("c", "Post", 0), art("d-relevant", "Post", 0)}},
			},
			relevance: func(a Article) float64 {
				if a.ID == "d-relevant" {
					return 3
				}
				return 0.5
			},
			want: []result{{"close", 3}, {"loose", 0.5 * (1 + math.Log(2))}},
		},
		{
			name: "ties keep the lower ID",
			stories: []Story{
				{ID: "b", Articles: []Article{art("x", "Post", 0)}},
				{ID: "a", Articles: []Article{art("y", "Post", 0)}},
			},
			want: []result{{"a", 1}, {"b", 1}},
		},
		{
			name: "outlet unknown counts by source",
			stories: []Story{
				{ID: "s", Articles: []Article{{ID: "a", SourceID: 1, Published: now}, {ID: "b", SourceID: 2, Published: now}}},
			},
			want: []result{{"s", 1 + math.Log(2)}},
		},
		{
			name:    "empty story scores zero",
			stories: []Story{{ID: "empty"}},
			want:    []result{{"empty", 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Rank(tt.stories, now, tt.relevance)
			var got []result
			for _, s := range tt.stories {
				got = append(got, result{s.ID, s.Score})
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("ranking mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

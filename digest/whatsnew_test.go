package digest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWhatsNew(t *testing.T) {
	art := func(id string) Article { return Article{ID: id} }
	stories := []Story{
		{ID: "s1", Articles: []Article{art("a1"), art("a2")}, Score: 3},            // seen entirely
		{ID: "s2", Articles: []Article{art("b1"), art("b2"), art("b3")}, Score: 2}, // b1 seen, b2 new, b3 old context
		{ID: "s3", Articles: []Article{art("c1"), art("c2")}, Score: 1},            // all new
		{ID: "s4", Articles: []Article{art("d1")}, Score: 0.5},                     // old context only
	}
	seen := map[string]bool{"a1": true, "a2": true, "b1": true}
	old := map[string]bool{"b3": true, "d1": true}
	got := WhatsNew(stories, seen, func(a Article) bool { return !old[a.ID] })
	want := []Story{
		{ID: "s2", Articles: []Article{art("b2")}, Score: 2, Update: true},
		{ID: "s3", Articles: []Article{art("c1"), art("c2")}, Score: 1},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("WhatsNew (-got +want):\n%s", diff)
	}
	if got := WhatsNew(stories, nil, func(Article) bool { return true }); len(got) != 4 || got[0].Update {
		t.Errorf("nothing seen: %d stories, first update %v; want all 4, none updates", len(got), got[0].Update)
	}
	if stories[1].Update || len(stories[1].Articles) != 3 {
		t.Errorf("WhatsNew changed its input: %+v", stories[1])
	}
}

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

func TestWhatsNewKeepsOnlyNewSentences(t *testing.T) {
	seenText := "Envoys met in Stockholm on Monday. The talks lasted eight hours."
	stories := []Story{{ID: "s", Articles: []Article{
		{ID: "old", Title: "Envoys meet", Text: seenText},
		{ID: "copy", Title: "Envoys meet", Text: seenText},                                                   // a re-post: nothing new
		{ID: "more", Title: "Talks break down", Text: seenText + "\n\nPyongyang said the talks broke down."}, // one new sentence
	}}}
	for i := range stories[0].Articles {
		a := &stories[0].Articles[i]
		a.ContentHash = ContentHash(a.Title, a.Text)
	}
	got := WhatsNew(stories, map[string]bool{"old": true}, func(Article) bool { return true })
	if len(got) != 1 || !got[0].Update || len(got[0].Articles) != 1 {
		t.Fatalf("WhatsNew = %+v, want one update story with one article", got)
	}
	a := got[0].Articles[0]
	if a.ID != "more" || a.Text != "Pyongyang said the talks broke down." {
		t.Errorf("update article %s text %q, want only the new sentence", a.ID, a.Text)
	}
	if a.ContentHash == stories[0].Articles[2].ContentHash {
		t.Error("the narrowed article kept its content hash: summaries of the whole text would be reused")
	}
	// Only a re-post is new: the story has no development and drops out.
	stories[0].Articles = stories[0].Articles[:2]
	if got := WhatsNew(stories, map[string]bool{"old": true}, func(Article) bool { return true }); len(got) != 0 {
		t.Errorf("a re-post alone made an update: %+v", got)
	}
}

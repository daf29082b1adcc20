package digest

import "strings"

// WhatsNew narrows ranked stories to what a channel has not seen, for a
// scheduled briefing. seen holds the IDs of the articles the channel
// received before; isNew says whether an unseen article belongs in this
// briefing (it was published, or arrived, since the last one) rather than
// being older context that only helped clustering.
//
// A story keeps only its new articles and drops out when it has none. A
// story with articles the channel saw is marked Update, and its new
// articles lose the sentences the seen ones already carried (a wire copy
// re-published with one added paragraph brings just that paragraph), so
// its summary covers only the new developments; a new article with nothing
// but known sentences is no development and is left out. Order, scores and
// story IDs are kept; the input is not changed.
func WhatsNew(stories []Story, seen map[string]bool, isNew func(Article) bool) []Story {
	var out []Story
	for _, s := range stories {
		var fresh, old []Article
		for _, a := range s.Articles {
			switch {
			case seen[a.ID]:
				old = append(old, a)
			case isNew(a):
				fresh = append(fresh, a)
			}
		}
		if len(old) > 0 {
			fresh = withoutKnown(fresh, old)
		}
		if len(fresh) == 0 {
			continue
		}
		s.Articles, s.Update = fresh, len(old) > 0
		out = append(out, s)
	}
	return out
}

// withoutKnown returns copies of articles without the sentences that the
// known articles carry, dropping articles left with no text and title-only
// articles that repeat a known headline.
func withoutKnown(articles, known []Article) []Article {
	have := make(map[string]bool)
	titles := make(map[string]bool)
	for _, a := range known {
		for _, s := range Sentences(a.Text) {
			have[strings.ToLower(s)] = true
		}
		titles[strings.ToLower(a.Title)] = true
	}
	var out []Article
	for _, a := range articles {
		if strings.TrimSpace(a.Text) == "" {
			// Title-only: new unless it repeats a known headline.
			if a.Title == "" || !titles[strings.ToLower(a.Title)] {
				out = append(out, a)
			}
			continue
		}
		var keep []string
		for _, s := range Sentences(a.Text) {
			if !have[strings.ToLower(s)] {
				keep = append(keep, s)
			}
		}
		if len(keep) == 0 {
			continue
		}
		// Each sentence its own paragraph, so it splits back the same.
		a.Text = strings.Join(keep, "\n\n")
		a.ContentHash = ContentHash(a.Title, a.Text)
		out = append(out, a)
	}
	return out
}

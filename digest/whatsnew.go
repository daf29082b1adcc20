package digest

// WhatsNew narrows ranked stories to what a channel has not seen, for a
// scheduled briefing. seen holds the IDs of the articles the channel
// received before; isNew says whether an unseen article belongs in this
// briefing (it was published, or arrived, since the last one) rather than
// being older context that only helped clustering.
//
// A story keeps only its new articles and drops out when it has none; a
// story with articles the channel saw is marked Update, so its summary
// covers only the new developments. Order, scores and story IDs are kept.
func WhatsNew(stories []Story, seen map[string]bool, isNew func(Article) bool) []Story {
	var out []Story
	for _, s := range stories {
		var fresh []Article
		update := false
		for _, a := range s.Articles {
			switch {
			case seen[a.ID]:
				update = true
			case isNew(a):
				fresh = append(fresh, a)
			}
		}
		if len(fresh) == 0 {
			continue
		}
		s.Articles, s.Update = fresh, update
		out = append(out, s)
	}
	return out
}

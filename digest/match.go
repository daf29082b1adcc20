package digest

import (
	"context"
	"fmt"
	"time"
)

// Rematch brings a topic's stored matches up to date after the topic was
// added or its query changed: every article published since then that the
// topic now matches, or matched before, is matched again against the whole
// topic set. set must include t. It returns how many articles match t.
func Rematch(ctx context.Context, store TopicStore, set *TopicSet, t Topic, since, until time.Time) (int, error) {
	q, err := ParseQuery(t.Query)
	if err != nil {
		return 0, fmt.Errorf("topic %q: %w", t.Name, err)
	}
	// Bounded: a query of common words must not load every article.
	cands, err := store.SearchArticles(ctx, q.Terms(), since, until, 5000)
	if err != nil {
		return 0, fmt.Errorf("rematch topic %q: %w", t.Name, err)
	}
	old, err := store.TopicArticles(ctx, t.ID, since, until, 0)
	if err != nil {
		return 0, fmt.Errorf("rematch topic %q: %w", t.Name, err)
	}
	seen := make(map[string]bool, len(cands)+len(old))
	matched := 0
	for _, a := range append(cands, old...) {
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		ids := set.Match(a)
		for _, id := range ids {
			if id == t.ID {
				matched++
			}
		}
		if err := store.SetArticleTopics(ctx, a.ID, ids); err != nil {
			return matched, fmt.Errorf("rematch topic %q: %w", t.Name, err)
		}
	}
	return matched, nil
}

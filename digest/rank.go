package digest

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RankHalfLife is the age at which a story's recency factor halves.
const RankHalfLife = 12 * time.Hour

// Rank sets each story's Score and sorts stories by it, highest first:
//
//	Score = (1 + ln outlets) × 0.5^(age / RankHalfLife) × relevance
//
// outlets is the number of independent outlets reporting the story: each
// outlet counts once however many of its articles the story holds, and a
// near-duplicate copy carried by another outlet (a wire story) counts as
// that outlet reporting it. Articles without an outlet name count by
// source. The logarithm makes the fifth outlet add less than the second.
//
// age is now minus the publish time of the story's newest article (0 when
// that is in the future or unknown), so a story that is still being
// reported stays fresh.
//
// relevance is the highest relevance(a) of the story's articles, floored
// at 0; a nil relevance counts as 1 for every article.
//
// Ties keep the newer story first, then the lower ID, so the order is
// deterministic.
func Rank(stories []Story, now time.Time, relevance func(Article) float64) {
	newest := make(map[string]time.Time, len(stories))
	for i := range stories {
		s := &stories[i]
		var latest time.Time
		rel := 0.0
		if relevance == nil {
			rel = 1
		}
		outlets := make(map[string]bool)
		for _, a := range s.Articles {
			if a.Published.After(latest) {
				latest = a.Published
			}
			if relevance != nil {
				rel = max(rel, relevance(a))
			}
			outlets[rankOutlet(a)] = true
		}
		if math.IsNaN(rel) {
			rel = 0
		}
		recency := 1.0
		if age := now.Sub(latest); !latest.IsZero() && age > 0 {
			recency = math.Exp2(-float64(age) / float64(RankHalfLife))
		}
		s.Score = 0
		if len(outlets) > 0 {
			s.Score = (1 + math.Log(float64(len(outlets)))) * recency * rel
		}
		newest[s.ID] = latest
	}
	slices.SortStableFunc(stories, func(a, b Story) int {
		return cmp.Or(
			cmp.Compare(b.Score, a.Score),
			newest[b.ID].Compare(newest[a.ID]),
			strings.Compare(a.ID, b.ID),
		)
	})
}

// rankOutlet names an article's outlet for counting: the outlet name
// without case and surrounding space, else its source.
func rankOutlet(a Article) string {
	if o := strings.ToLower(strings.TrimSpace(a.Outlet)); o != "" {
		return "outlet:" + o
	}
	return "source:" + strconv.FormatInt(a.SourceID, 10)
}

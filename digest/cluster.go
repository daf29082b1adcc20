package digest

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ClusterOptions tunes Cluster. The zero value uses the defaults.
type ClusterOptions struct {
	// Threshold is the smallest average similarity at which two groups of
	// articles merge into one story, from 0 to 1; 0 means
	// DefaultClusterThreshold. Higher values make smaller stories.
	Threshold float64
	// TimeScale sets how fast the similarity two articles need grows with
	// the time between them; 0 means DefaultClusterTimeScale. See Cluster.
	TimeScale time.Duration
}

// Clustering defaults.
const (
	// DefaultClusterThreshold is the default ClusterOptions.Threshold.
	DefaultClusterThreshold = 0.15
	// DefaultClusterTimeScale is the default ClusterOptions.TimeScale.
	DefaultClusterTimeScale = 48 * time.Hour
)

// Tuning of the article vectors.
const (
	// clusterTitleWeight is how much more a title word counts than a word
	// of the lead text.
	clusterTitleWeight = 3
	// clusterLeadBytes bounds how much of the text is read for the lead;
	// clusterLeadWords bounds the lead's words.
	clusterLeadBytes = 8192
	clusterLeadWords = 400
	// clusterIDFPrior is a number of imaginary articles that contain no
	// word, added to the input set when computing IDF, so that in a small
	// set words shared by every article still count for something.
	clusterIDFPrior = 3
	// clusterTimeGrace is how far apart two articles may be before the
	// time factor starts to lower their similarity.
	clusterTimeGrace = 12 * time.Hour
)

// Cluster groups articles (those of a topic in a time window, say) into
// stories, one per event.
//
// Near-duplicates always share a story: articles whose DuplicateOf names
// another input article, whose content hashes are equal, or whose
// signatures are near-duplicates (IsNearDuplicate) — wire copies carried by
// several outlets.
//
// The rest is average-linkage agglomerative clustering. Each article is a
// TF-IDF vector of its title (a title word counts as three words of text)
// and the first 400 words of its text, stop words left out, with
// sublinear term frequency (1 + ln tf). IDF is computed over the input
// itself, with near-duplicate groups counted once:
// idf(w) = ln((G + 3) / (df(w) + 1)) for G groups,
// so a word that every article shares, such as the topic's country name,
// weighs little and different events in the same country stay apart. The
// similarity of two articles is their cosine times a time factor,
//
//	sim(a, b) = cos(a, b) / (1 + max(0, |Δt| − 12h) / TimeScale),
//
// so that articles days apart need a higher cosine to join (with the
// default TimeScale of 48 h, articles two and a half days apart need
// twice the similarity). Articles without a publish time are taken to be
// simultaneous. The two groups with the highest average pairwise
// similarity merge, again and again, while that average is at least
// Threshold. Average linkage does not chain the way single linkage does:
// one article bridging two events cannot pull them together.
//
// Output is deterministic and independent of input order. Stories are
// ordered by their first-published article. Each story's Articles are
// ordered most representative first: by mean similarity to the story's
// other articles, ties broken by earliest publish time, then ID. Story.ID
// is StoryID of its articles; Score is left zero (see Rank).
func Cluster(articles []Article, opts ClusterOptions) []Story {
	if len(articles) == 0 {
		return nil
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultClusterThreshold
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = DefaultClusterTimeScale
	}
	arts := slices.Clone(articles)
	slices.SortStableFunc(arts, func(a, b Article) int {
		return cmp.Or(a.Published.Compare(b.Published), strings.Compare(a.ID, b.ID))
	})
	n := len(arts)
	groupOf := clusterDuplicates(arts)
	vecs := clusterVectors(arts, groupOf)
	sim := clusterSimilarities(vecs)

	// Apply the time factor once, in place.
	for i := range n {
		for j := i + 1; j < n; j++ {
			f := clusterTimeFactor(arts[i].Published, arts[j].Published, opts.TimeScale)
			sim[i*n+j] *= f
			sim[j*n+i] = sim[i*n+j]
		}
	}

	members := clusterAgglomerate(groupOf, sim, n, opts.Threshold)

	stories := make([]Story, 0, len(members))
	for _, m := range members {
		stories = append(stories, clusterStory(arts, m, sim, n))
	}
	return stories
}

// clusterDuplicates returns each article's near-duplicate group number:
// groups are numbered by their first member, from 0.
func clusterDuplicates(arts []Article) []int {
	n := len(arts)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(i, j int) {
		ri, rj := find(i), find(j)
		if ri == rj {
			return
		}
		if rj < ri {
			ri, rj = rj, ri
		}
		parent[rj] = ri
	}

	byID := make(map[string]int, n)
	byHash := make(map[string]int, n)
	for i, a := range arts {
		if a.ID != "" {
			if j, ok := byID[a.ID]; ok {
				union(i, j)
			} else {
				byID[a.ID] = i
			}
		}
		if a.ContentHash != "" {
			if j, ok := byHash[a.ContentHash]; ok {
				union(i, j)
			} else {
				byHash[a.ContentHash] = i
			}
		}
	}
	for i, a := range arts {
		if j, ok := byID[a.DuplicateOf]; ok && a.DuplicateOf != "" {
			union(i, j)
		}
	}
	// Signatures: candidates share a band key; confirm with the estimate.
	byBand := make(map[int64][]int)
	for i, a := range arts {
		for _, k := range a.Signature.BandKeys() {
			byBand[k] = append(byBand[k], i)
		}
	}
	for _, idx := range byBand { // union is order-independent
		for x, i := range idx {
			for _, j := range idx[x+1:] {
				if find(i) != find(j) && IsNearDuplicate(arts[i].Signature, arts[j].Signature) {
					union(i, j)
				}
			}
		}
	}

	groupOf := make([]int, n)
	number := make(map[int]int)
	for i := range arts {
		r := find(i)
		g, ok := number[r]
		if !ok {
			g = len(number)
			number[r] = g
		}
		groupOf[i] = g
	}
	return groupOf
}

// clusterTerm is one weighted word of a sparse vector.
type clusterTerm struct {
	id int
	w  float64
}

// clusterVectors returns each article's unit-length TF-IDF vector, terms
// sorted by id.
func clusterVectors(arts []Article, groupOf []int) [][]clusterTerm {
	ids := make(map[string]int)
	tfs := make([]map[int]float64, len(arts))
	for i, a := range arts {
		tf := make(map[int]float64)
		add := func(words []string, w float64) {
			for _, word := range words {
				if clusterStopWords[word] || (utf8.RuneCountInString(word) < 2 && !clusterIsDigits(word)) {
					continue
				}
				id, ok := ids[word]
				if !ok {
					id = len(ids)
					ids[word] = id
				}
				tf[id] += w
			}
		}
		add(Words(a.Title), clusterTitleWeight)
		lead := Words(clusterLead(a.Text))
		if len(lead) > clusterLeadWords {
			lead = lead[:clusterLeadWords]
		}
		add(lead, 1)
		tfs[i] = tf
	}

	// Document frequency over near-duplicate groups.
	groups := slices.Max(groupOf) + 1
	df := make([]int, len(ids))
	seen := make(map[[2]int]bool)
	for i, tf := range tfs {
		for id := range tf {
			k := [2]int{groupOf[i], id}
			if !seen[k] {
				seen[k] = true
				df[id]++
			}
		}
	}

	vecs := make([][]clusterTerm, len(arts))
	for i, tf := range tfs {
		v := make([]clusterTerm, 0, len(tf))
		for id, raw := range tf {
			idf := math.Log(float64(groups+clusterIDFPrior) / float64(df[id]+1))
			v = append(v, clusterTerm{id, (1 + math.Log(raw)) * idf})
		}
		slices.SortFunc(v, func(a, b clusterTerm) int { return a.id - b.id })
		var norm float64
		for _, t := range v {
			norm += t.w * t.w
		}
		if norm > 0 {
			norm = math.Sqrt(norm)
			for k := range v {
				v[k].w /= norm
			}
		}
		vecs[i] = v
	}
	return vecs
}

// clusterLead returns the start of text, cut at a space, about
// clusterLeadBytes long.
func clusterLead(text string) string {
	if len(text) <= clusterLeadBytes {
		return text
	}
	cut := strings.LastIndexAny(text[:clusterLeadBytes], " \n\t")
	if cut <= 0 {
		cut = clusterLeadBytes
	}
	return text[:cut]
}

// clusterIsDigits reports whether s is a non-empty run of ASCII digits.
func clusterIsDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// clusterSimilarities returns the n×n cosine similarity matrix of vecs,
// row-major, computed through an inverted index.
func clusterSimilarities(vecs [][]clusterTerm) []float64 {
	n := len(vecs)
	terms := 0
	for _, v := range vecs {
		for _, t := range v {
			terms = max(terms, t.id+1)
		}
	}
	type posting struct {
		doc int
		w   float64
	}
	index := make([][]posting, terms)
	for d, v := range vecs {
		for _, t := range v {
			index[t.id] = append(index[t.id], posting{d, t.w})
		}
	}
	sim := make([]float64, n*n)
	for _, list := range index {
		for x, p := range list {
			row := sim[p.doc*n:]
			for _, q := range list[x+1:] {
				row[q.doc] += p.w * q.w
			}
		}
	}
	// Postings are in document order, so only the upper triangle is
	// filled; mirror it.
	for i := range n {
		for j := i + 1; j < n; j++ {
			sim[j*n+i] = sim[i*n+j]
		}
	}
	return sim
}

// clusterTimeFactor is the time factor of the similarity of articles
// published at a and b (see Cluster).
func clusterTimeFactor(a, b time.Time, scale time.Duration) float64 {
	if a.IsZero() || b.IsZero() {
		return 1
	}
	d := a.Sub(b)
	if d < 0 {
		d = -d
	}
	d -= clusterTimeGrace
	if d <= 0 {
		return 1
	}
	return 1 / (1 + float64(d)/float64(scale))
}

// clusterAgglomerate merges near-duplicate groups by average linkage while
// the best average similarity is at least threshold, and returns each
// cluster's article indices in ascending order, clusters ordered by their
// first article.
func clusterAgglomerate(groupOf []int, sim []float64, n int, threshold float64) [][]int {
	m := slices.Max(groupOf) + 1
	members := make([][]int, m)
	for i, g := range groupOf {
		members[g] = append(members[g], i)
	}
	// total[g*m+h] is the sum of pairwise similarities between groups.
	total := make([]float64, m*m)
	for i := range n {
		gi := groupOf[i]
		for j := i + 1; j < n; j++ {
			if gj := groupOf[j]; gi != gj {
				total[gi*m+gj] += sim[i*n+j]
				total[gj*m+gi] += sim[i*n+j]
			}
		}
	}
	size := make([]float64, m)
	for g := range m {
		size[g] = float64(len(members[g]))
	}
	active := make([]bool, m)
	for g := range active {
		active[g] = true
	}
	avg := func(g, h int) float64 { return total[g*m+h] / (size[g] * size[h]) }
	best := make([]int, m)
	bestSim := make([]float64, m)
	refresh := func(g int) {
		best[g], bestSim[g] = -1, math.Inf(-1)
		for h := range m {
			if h != g && active[h] {
				if s := avg(g, h); s > bestSim[g] {
					best[g], bestSim[g] = h, s
				}
			}
		}
	}
	for g := range m {
		refresh(g)
	}
	for {
		g := -1
		for k := range m {
			if active[k] && best[k] >= 0 && (g < 0 || bestSim[k] > bestSim[g]) {
				g = k
			}
		}
		if g < 0 || bestSim[g] < threshold {
			break
		}
		h := best[g]
		if h < g {
			g, h = h, g
		}
		// Merge h into g.
		for k := range m {
			total[g*m+k] += total[h*m+k]
			total[k*m+g] = total[g*m+k]
		}
		total[g*m+g] = 0
		size[g] += size[h]
		members[g] = append(members[g], members[h]...)
		members[h] = nil
		active[h] = false
		for k := range m {
			if !active[k] {
				continue
			}
			switch {
			case k == g || best[k] == g || best[k] == h:
				refresh(k)
			default:
				if s := avg(k, g); s > bestSim[k] {
					best[k], bestSim[k] = g, s
				}
			}
		}
	}

	var out [][]int
	for g := range m {
		if active[g] {
			slices.Sort(members[g])
			out = append(out, members[g])
		}
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

// clusterStory builds the story of the articles idx (indices into arts,
// ascending), most central first.
func clusterStory(arts []Article, idx []int, sim []float64, n int) Story {
	type ranked struct {
		i          int
		centrality float64
	}
	rs := make([]ranked, len(idx))
	for x, i := range idx {
		var sum float64
		for _, j := range idx {
			if j != i {
				sum += sim[i*n+j]
			}
		}
		rs[x] = ranked{i, sum}
	}
	// Indices are in publish order, so the stable sort breaks ties by
	// earliest, then ID.
	slices.SortStableFunc(rs, func(a, b ranked) int { return cmp.Compare(b.centrality, a.centrality) })
	s := Story{Articles: make([]Article, len(rs))}
	for x, r := range rs {
		s.Articles[x] = arts[r.i]
	}
	s.ID = StoryID(s.Articles)
	return s
}

// clusterStopWords are English function words left out of article vectors.
var clusterStopWords = func() map[string]bool {
	m := make(map[string]bool)
	for w := range strings.FieldsSeq(`a about above after again against all also am an and any are as at be
		because been before being below between both but by can could did do does doing down during each
		few for from further had has have having he her here hers herself him himself his how i if in into
		is it its itself just me more most my myself no nor not now of off on once only or other our ours
		ourselves out over own same she should so some such than that the their theirs them themselves then
		there these they this those through to too under until up very was we were what when where which
		while who whom why will with would you your yours yourself yourselves said says say told according
		new one two also would could may might must shall us mr mrs ms its it's s t don didn doesn isn wasn
		like get got make made many much still even well back year years last first since yet however week
		monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow`) {
		m[w] = true
	}
	return m
}()

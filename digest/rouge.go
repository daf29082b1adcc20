package digest

import "strings"

// RougeN scores a candidate summary against a reference by overlapping
// word n-grams: precision is the share of the candidate's n-grams found in
// the reference, recall the share of the reference's n-grams found in the
// candidate (each n-gram matched at most as often as it occurs in both),
// and f their harmonic mean. Words are those of Words (lower-case letters
// and digits), not stemmed, stop words kept. All three are 0 when either
// text has fewer than n words, or when n < 1.
func RougeN(candidate, reference string, n int) (p, r, f float64) {
	if n < 1 {
		return 0, 0, 0
	}
	cand := rougeNGrams(Words(candidate), n)
	ref := rougeNGrams(Words(reference), n)
	candTotal, refTotal := 0, 0
	for _, c := range cand {
		candTotal += c
	}
	for _, c := range ref {
		refTotal += c
	}
	if candTotal == 0 || refTotal == 0 {
		return 0, 0, 0
	}
	overlap := 0
	for g, c := range cand {
		overlap += min(c, ref[g])
	}
	return rougeScores(overlap, candTotal, refTotal)
}

// RougeL scores a candidate summary against a reference by their longest
// common subsequence of words: precision is its length over the
// candidate's words, recall over the reference's, f their harmonic mean.
// Both texts are taken whole (not sentence by sentence, as summary-level
// ROUGE-Lsum does). Words are those of Words, not stemmed.
func RougeL(candidate, reference string) (p, r, f float64) {
	a, b := Words(candidate), Words(reference)
	if len(a) == 0 || len(b) == 0 {
		return 0, 0, 0
	}
	// One row of the dynamic programme at a time.
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return rougeScores(prev[len(b)], len(a), len(b))
}

// rougeNGrams counts the n-grams of words.
func rougeNGrams(words []string, n int) map[string]int {
	grams := make(map[string]int)
	for i := 0; i+n <= len(words); i++ {
		grams[strings.Join(words[i:i+n], " ")]++
	}
	return grams
}

// rougeScores turns a match count into precision, recall and F1.
func rougeScores(match, candTotal, refTotal int) (p, r, f float64) {
	if match == 0 {
		return 0, 0, 0
	}
	p = float64(match) / float64(candTotal)
	r = float64(match) / float64(refTotal)
	return p, r, 2 * p * r / (p + r)
}

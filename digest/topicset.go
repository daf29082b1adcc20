package digest

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
)

// TopicSet matches articles against many topics at once. Build it with
// NewTopicSet whenever the topics change; it is immutable and safe for
// concurrent use.
type TopicSet struct {
	// topics are ordered by ID.
	topics []queryTopic
	// byWord maps a word to the topics with a positive term containing it,
	// as indexes into topics: a topic none of whose words is in an article
	// cannot match it. Each term is filed under one word, its longest
	// (longer words are rarer).
	byWord map[string][]int32
}

// queryTopic is a topic of a TopicSet with its parsed query.
type queryTopic struct {
	id    int64
	query *Query
}

// NewTopicSet parses the queries of topics. A bad query yields an error
// naming the topic and wrapping its *QueryError; two topics with the same
// ID are an error too.
func NewTopicSet(topics []Topic) (*TopicSet, error) {
	s := &TopicSet{byWord: make(map[string][]int32)}
	for _, t := range topics {
		q, err := ParseQuery(t.Query)
		if err != nil {
			return nil, fmt.Errorf("topic %q: %w", t.Name, err)
		}
		s.topics = append(s.topics, queryTopic{id: t.ID, query: q})
	}
	slices.SortStableFunc(s.topics, func(a, b queryTopic) int { return cmp.Compare(a.id, b.id) })
	for i, t := range s.topics {
		if i > 0 && s.topics[i-1].id == t.id {
			var names []string
			for _, u := range topics {
				if u.ID == t.id {
					names = append(names, fmt.Sprintf("%q", u.Name))
				}
			}
			return nil, fmt.Errorf("topics %s have the same id %d", names, t.id)
		}
		for _, term := range t.query.root.positiveTerms() {
			key := slices.MaxFunc(term.words, func(a, b string) int { return cmp.Compare(len(a), len(b)) })
			list := s.byWord[key]
			if len(list) == 0 || list[len(list)-1] != int32(i) {
				s.byWord[key] = append(list, int32(i))
			}
		}
	}
	return s, nil
}

// positiveTerms returns n's terms not under a negation.
func (n *queryNode) positiveTerms() []*queryNode {
	var terms []*queryNode
	n.walkPositive(func(t *queryNode) { terms = append(terms, t) })
	return terms
}

// Match returns the IDs of the topics whose query matches the article's
// title and text, ascending; nil if none does. The article is tokenized
// once, and only topics sharing a word with it are tried.
func (s *TopicSet) Match(a Article) []int64 {
	if len(s.topics) == 0 {
		return nil
	}
	d := NewQueryDoc(a.Title, a.Text)
	candidates := make([]uint64, (len(s.topics)+63)/64)
	mark := func(list []int32) {
		for _, i := range list {
			candidates[i/64] |= 1 << (i % 64)
		}
	}
	// Walk the smaller of the two maps.
	if len(d.ids) <= len(s.byWord) {
		for w := range d.ids {
			mark(s.byWord[w])
		}
	} else {
		for w, list := range s.byWord {
			if d.has(w) {
				mark(list)
			}
		}
	}
	var ids []int64
	for wi, word := range candidates {
		for word != 0 {
			i := wi*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if t := s.topics[i]; t.query.Match(d) {
				ids = append(ids, t.id)
			}
		}
	}
	return ids
}

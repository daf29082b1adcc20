package digest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Story is a cluster of articles about the same event, across outlets and
// days. Articles are ordered most representative first.
type Story struct {
	// ID is stable for the same set of articles (see StoryID).
	ID       string
	Articles []Article
	// Score ranks stories in a briefing; higher is more important.
	Score float64
	// Update marks a story the channel received before: Articles are
	// then only its new ones (see WhatsNew).
	Update bool
}

// Outlets returns how many independent outlets the story has: articles
// that are near-duplicates of another article count once.
func (s Story) Outlets() int {
	seen := make(map[string]bool)
	for _, a := range s.Articles {
		seen[a.Outlet] = true
	}
	return len(seen)
}

// Bullet is one sentence of a briefing. It cites at least one article of
// its story, by index into Story.Articles.
type Bullet struct {
	Text      string
	Citations []int
}

// Summary is what a summarizer writes for one story.
type Summary struct {
	Headline string
	Bullets  []Bullet
	// Dropped counts bullets discarded by validation or grounding checks.
	Dropped int
}

// SummaryRequest asks for one story's summary.
type SummaryRequest struct {
	Story Story
	// Language is the language to write in, as a name or BCP 47 tag
	// ("English", "ko"); empty means the articles' own language.
	Language string
	// MaxBullets is 1 to 4.
	MaxBullets int
	// MaxWords bounds the words of all bullets together.
	MaxWords int
	// Budget, if not nil, is the token allowance of the whole briefing.
	Budget *Budget
}

// Summarizer condenses one story into a headline and bullets. Every bullet
// cites articles of the story. An error means no usable summary: the
// caller falls back to another summarizer.
type Summarizer interface {
	Summarize(ctx context.Context, req SummaryRequest) (Summary, error)
}

// ErrBudgetSpent reports that a briefing's token budget cannot cover
// another call.
var ErrBudgetSpent = errors.New("token budget spent")

// Budget is a token allowance shared by the summaries of one briefing.
// It is safe for concurrent use.
type Budget struct {
	mu              sync.Mutex
	input, output   int
	usedIn, usedOut int
	// total caps usedIn+usedOut when capped is set (Cap); spent is the
	// error then.
	total  int
	capped bool
	spent  error
}

// BudgetSpentError is what Reserve returns once a cap set with Cap is
// reached. It matches ErrBudgetSpent; Reason is shown to readers.
type BudgetSpentError struct{ Reason string }

func (e *BudgetSpentError) Error() string        { return "token budget spent: " + e.Reason }
func (e *BudgetSpentError) Is(target error) bool { return target == ErrBudgetSpent }

// Cap limits the prompt and completion tokens of the budget together to
// total (zero or less: none at all), on top of its input and output
// limits. Past it, Reserve fails with a *BudgetSpentError giving reason,
// which the briefing then states (a server's monthly allowance, say).
func (b *Budget) Cap(total int, reason string) *Budget {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total, b.capped, b.spent = total, true, &BudgetSpentError{Reason: reason}
	return b
}

// NewBudget returns a budget of input (prompt) and output (completion)
// tokens; a limit <= 0 means unlimited.
func NewBudget(input, output int) *Budget {
	return &Budget{input: input, output: output}
}

// Reserve takes in and out tokens from the budget before a call, or
// returns ErrBudgetSpent and takes nothing.
func (b *Budget) Reserve(in, out int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if (b.input > 0 && b.usedIn+in > b.input) || (b.output > 0 && b.usedOut+out > b.output) {
		return ErrBudgetSpent
	}
	if b.capped && b.usedIn+in+b.usedOut+out > b.total {
		return b.spent
	}
	b.usedIn += in
	b.usedOut += out
	return nil
}

// Release returns unused reserved tokens, once a call's real usage is known.
func (b *Budget) Release(in, out int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.usedIn = max(0, b.usedIn-in)
	b.usedOut = max(0, b.usedOut-out)
}

// Used reports the tokens reserved so far.
func (b *Budget) Used() (in, out int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.usedIn, b.usedOut
}

// Summarizer names used in briefings.
const (
	SummarizerExtractive = "extractive"
	SummarizerLLM        = "llm"
)

// Briefing is what gets posted: a topic or query, a time window, and
// stories in rank order, each with a headline and cited bullets.
type Briefing struct {
	Topic    string
	Query    string
	From, To time.Time
	Language string
	// Lede is one line introducing the briefing.
	Lede    string
	Stories []BriefStory
	// Summarizer is SummarizerLLM when the language model wrote every
	// story, else SummarizerExtractive.
	Summarizer string
	Model      string
	// FallbackReason says why the language model was not used for some or
	// all stories; empty when it was used throughout or not configured.
	FallbackReason string
	// Dropped counts bullets discarded by validation or grounding checks.
	Dropped int
	// Searched names the sources whose articles were searched, for
	// "nothing matched" replies.
	Searched []string
	// Unfetched counts the Searched sources whose last fetch did not
	// succeed (failing, backing off or disabled) or that were never
	// fetched: when it is all of them, nothing matched because nothing
	// was read, not because of the query.
	Unfetched int
	// Matched is how many articles matched before clustering.
	Matched int
}

// BriefStory is one story of a briefing with its summary.
type BriefStory struct {
	Story
	Headline string
	Bullets  []Bullet
	// Dropped counts this story's bullets discarded by checks.
	Dropped int
}

// SummaryCache keeps story summaries so that a story summarized once is
// not paid for again: twenty channels on one topic cost one call per story.
// Keys are built by the summarizer from the story hash (StoryHash), the
// prompt hash, the model and the language.
type SummaryCache interface {
	// CachedSummary returns the summary stored under key and not older than
	// maxAge, or an error wrapping ErrNotFound.
	CachedSummary(ctx context.Context, key string, maxAge time.Duration) (Summary, error)
	// CacheSummary stores a summary under key, replacing any earlier one.
	CacheSummary(ctx context.Context, key string, s Summary) error
}

// StoryHash identifies a story's content: it changes when an article is
// added, removed or edited, and not when articles are reordered.
func StoryHash(s Story) string {
	parts := make([]string, len(s.Articles))
	for i, a := range s.Articles {
		parts[i] = a.ID + ":" + a.ContentHash
	}
	slices.Sort(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:16])
}

// StoryID returns a story's stable ID: its first-published article's ID,
// so a story keeps its ID as articles join it.
func StoryID(articles []Article) string {
	if len(articles) == 0 {
		return ""
	}
	first := articles[0]
	for _, a := range articles[1:] {
		if a.Published.Before(first.Published) || (a.Published.Equal(first.Published) && a.ID < first.ID) {
			first = a
		}
	}
	return first.ID
}

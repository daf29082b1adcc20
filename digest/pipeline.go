package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Selection says which articles a briefing covers: those matched to a
// topic, or those matching an ad-hoc query, published in [From, To).
type Selection struct {
	Topic    *Topic // nil for an ad-hoc query
	Query    string // the topic's query, or the ad-hoc one
	From, To time.Time
	// Limit bounds the articles considered (default 500), newest first.
	Limit int
}

// SelectArticles returns the articles a briefing covers. Topic articles
// come from ingest-time matches; ad-hoc queries are answered from the
// full-text index and then matched exactly. A malformed query yields a
// *QueryError.
func SelectArticles(ctx context.Context, store TopicStore, sel Selection) ([]Article, error) {
	limit := sel.Limit
	if limit <= 0 {
		limit = 500
	}
	if sel.Topic != nil {
		arts, err := store.TopicArticles(ctx, sel.Topic.ID, sel.From, sel.To, limit)
		if err != nil {
			return nil, fmt.Errorf("articles of topic %q: %w", sel.Topic.Name, err)
		}
		return arts, nil
	}
	q, err := ParseQuery(sel.Query)
	if err != nil {
		return nil, err
	}
	// The index finds every article containing a positive term; the
	// query then decides phrases, exclusions and word boundaries. Read
	// more than the limit, since some candidates will not match.
	cands, err := store.SearchArticles(ctx, q.Terms(), sel.From, sel.To, 4*limit)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", sel.Query, err)
	}
	var arts []Article
	for _, a := range cands {
		if q.Match(NewQueryDoc(a.Title, a.Text)) {
			arts = append(arts, a)
			if len(arts) == limit {
				break
			}
		}
	}
	return arts, nil
}

// Builder turns selected articles into a briefing: stories, ranked, each
// summarized by the language model when one is configured, else (or when
// it fails) by the extractive summarizer.
type Builder struct {
	// LLM is the preferred summarizer; nil means extractive only.
	LLM Summarizer
	// Model names the LLM's model, for the briefing record.
	Model string
	// Extractive is the fallback and default summarizer.
	Extractive *Extractive
	Now        func() time.Time
	Log        *slog.Logger
	// Parallel bounds stories summarized at once (default 4).
	Parallel int
}

// BriefOptions tunes one briefing.
type BriefOptions struct {
	MaxStories int // default 8
	MaxBullets int // per story, 1 to 4, default 3
	MaxWords   int // per story, default 80
	Language   string
	// Budget is the token allowance for the whole briefing; nil is unlimited.
	Budget *Budget
	// Cluster tunes story clustering.
	Cluster ClusterOptions
}

// Build clusters articles into stories, ranks them and summarizes the top
// ones. Articles must already be selected for the briefing's topic or
// query and window (b.Topic, b.Query, b.From, b.To are copied from sel).
// Build fails only when ctx is done; a summarizer failure falls back to
// the extractive summarizer and is recorded in FallbackReason.
func (b *Builder) Build(ctx context.Context, sel Selection, articles []Article, opts BriefOptions) (Briefing, error) {
	return b.Write(ctx, sel, b.Stories(sel, articles, opts), len(articles), opts)
}

// Stories clusters selected articles into stories and ranks them, best
// first: the part of Build that does not depend on who reads the briefing.
func (b *Builder) Stories(sel Selection, articles []Article, opts BriefOptions) []Story {
	if len(articles) == 0 {
		return nil
	}
	stories := Cluster(articles, opts.Cluster)
	Rank(stories, b.Now(), titleRelevance(sel.Query))
	return stories
}

// Write summarizes the top stories of a ranked list (see Stories) into a
// briefing; matched is how many articles were selected. It fails only
// when ctx is done, as Build does. When ctx has a deadline, the language
// model has the first three quarters of the time left: the stories it
// has not summarized by then are summarized by the extractive summarizer.
func (b *Builder) Write(ctx context.Context, sel Selection, stories []Story, matched int, opts BriefOptions) (Briefing, error) {
	opts = opts.withDefaults()
	br := Briefing{
		Query:      sel.Query,
		From:       sel.From,
		To:         sel.To,
		Language:   opts.Language,
		Matched:    matched,
		Summarizer: SummarizerExtractive,
	}
	if sel.Topic != nil {
		br.Topic = sel.Topic.Name
	}
	if len(stories) == 0 {
		br.Lede = "Nothing matched " + br.scope() + "."
		return br, nil
	}
	// Sentences recurring across stories are site boilerplate.
	ext := b.Extractive.WithStories(stories)
	if len(stories) > opts.MaxStories {
		stories = stories[:opts.MaxStories]
	}

	br.Stories = make([]BriefStory, len(stories))
	usedLLM := make([]bool, len(stories))
	fallbacks := make([]error, len(stories))
	parallel := b.Parallel
	if parallel <= 0 {
		parallel = 4
	}
	// The language model gets a share of the time the caller has left,
	// so that a model that hangs or keeps failing cannot use it all: the
	// extractive summarizer then still writes the stories in what
	// remains, as it does when the model fails at once.
	llmCtx := ctx
	if dl, ok := ctx.Deadline(); ok && b.LLM != nil {
		var cancel context.CancelFunc
		llmCtx, cancel = context.WithDeadline(ctx, dl.Add(-time.Until(dl)/4))
		defer cancel()
	}
	sem := make(chan struct{}, parallel)
	var refusedLog sync.Once // a refusal is logged once per briefing
	var wg sync.WaitGroup
	for i, st := range stories {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			req := SummaryRequest{Story: st, Language: opts.Language, MaxBullets: opts.MaxBullets, MaxWords: opts.MaxWords, Budget: opts.Budget}
			sum, llm, err := b.summarize(ctx, llmCtx, ext, req, &refusedLog)
			usedLLM[i], fallbacks[i] = llm, err
			br.Stories[i] = BriefStory{Story: st, Headline: sum.Headline, Bullets: sum.Bullets}
			if sum.Headline == "" {
				br.Stories[i].Headline = st.Articles[0].Title
			}
			br.Stories[i].Dropped = sum.Dropped
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Briefing{}, err
	}

	all := b.LLM != nil
	for i, s := range br.Stories {
		br.Dropped += s.Dropped
		all = all && usedLLM[i]
		if fallbacks[i] != nil && br.FallbackReason == "" {
			br.FallbackReason = "summarized without the language model: " + fallbackReason(fallbacks[i])
		}
	}
	if all {
		br.Summarizer, br.Model = SummarizerLLM, b.Model
	} else if b.LLM != nil && br.FallbackReason != "" {
		br.Model = b.Model
	}
	br.Lede = lede(br)
	return br, nil
}

// summarize runs the LLM within llmCtx, falling back to the extractive
// summarizer within ctx. It reports whether the LLM wrote the summary,
// and the LLM's error if it failed. A refusal (ErrRefused), the same for
// every story, is logged by the first story refusedLog lets through.
func (b *Builder) summarize(ctx, llmCtx context.Context, ext *Extractive, req SummaryRequest, refusedLog *sync.Once) (Summary, bool, error) {
	var llmErr error
	if b.LLM != nil {
		sum, err := b.LLM.Summarize(llmCtx, req)
		if err == nil && len(sum.Bullets) > 0 {
			return sum, true, nil
		}
		if err == nil {
			err = fmt.Errorf("no usable bullets (%d dropped)", sum.Dropped)
		}
		llmErr = err
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, ErrRefused):
			refusedLog.Do(func() {
				b.Log.Warn("summarizer refused; the briefing falls back to extractive", "story", req.Story.ID, "error", err)
			})
		default:
			b.Log.Warn("summarizer fell back to extractive", "story", req.Story.ID, "article_count", len(req.Story.Articles), "error", err)
		}
	}
	sum, err := ext.Summarize(ctx, req)
	if err != nil {
		// The extractive summarizer fails only on an empty story: keep
		// the headline, say nothing.
		b.Log.Error("extractive summarizer failed", "story", req.Story.ID, "error", err)
		return Summary{}, false, llmErr
	}
	return sum, false, llmErr
}

// titleRelevance scores an article 1.5 when its title alone matches the
// query (the story is about the topic, not merely mentioning it), else 1.
// It returns nil, equal relevance, when there is no valid query.
func titleRelevance(query string) func(Article) float64 {
	q, err := ParseQuery(query)
	if err != nil {
		return nil
	}
	return func(a Article) float64 {
		if q.Match(NewQueryDoc(a.Title, "")) {
			return 1.5
		}
		return 1
	}
}

// fallbackReason says, for readers of the briefing, why the language
// model was not used. It is deliberately vague: briefings are public, and
// error details (addresses, provider messages) go to the log.
func fallbackReason(err error) string {
	var spent *BudgetSpentError
	switch {
	case errors.As(err, &spent):
		return spent.Reason
	case errors.Is(err, ErrBudgetSpent):
		return "the token budget for this briefing is spent"
	case errors.Is(err, context.DeadlineExceeded):
		return "the language model timed out"
	case errors.Is(err, ErrTransient):
		return "the language model is unavailable"
	default:
		return "the language model failed"
	}
}

func (o BriefOptions) withDefaults() BriefOptions {
	if o.MaxStories <= 0 {
		o.MaxStories = 8
	}
	if o.MaxBullets <= 0 {
		o.MaxBullets = 3
	}
	o.MaxBullets = min(o.MaxBullets, 4)
	if o.MaxWords <= 0 {
		o.MaxWords = 80
	}
	return o
}

// scope says what the briefing covers: "topic korea-talks in the last
// 24 hours", or "the given articles" for a briefing of given articles.
func (b Briefing) scope() string {
	switch {
	case b.Topic != "":
		return "topic " + b.Topic + " " + window(b.From, b.To)
	case b.Query != "":
		return fmt.Sprintf("%q %s", b.Query, window(b.From, b.To))
	default:
		return "the given articles"
	}
}

// lede writes the briefing's one-line introduction.
func lede(b Briefing) string {
	outlets := make(map[string]bool)
	articles := 0
	for _, s := range b.Stories {
		for _, a := range s.Articles {
			outlets[a.Outlet] = true
		}
		articles += len(s.Articles)
	}
	return fmt.Sprintf("%s from %s by %s on %s. Top: %s",
		count(len(b.Stories), "story", "stories"), count(articles, "article", "articles"), count(len(outlets), "outlet", "outlets"),
		b.scope(), strings.TrimSuffix(b.Stories[0].Headline, "."))
}

// count writes n with the noun's singular or plural: "1 story", "3 stories".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// window describes [from, to) for people: "in the last 24 hours".
func window(from, to time.Time) string {
	d := to.Sub(from).Round(time.Hour)
	switch {
	case d <= 0:
		return "in this window"
	case d == time.Hour:
		return "in the last hour"
	case d%(24*time.Hour) == 0 && d >= 48*time.Hour:
		return fmt.Sprintf("in the last %d days", d/(24*time.Hour))
	default:
		return fmt.Sprintf("in the last %d hours", d/time.Hour)
	}
}

// Package llm summarizes stories with a language model behind any
// OpenAI-compatible chat completions endpoint: OpenAI, Azure OpenAI,
// Ollama, llama.cpp, vLLM, OpenRouter.
//
// The model gets the story's articles, numbered and fenced as untrusted
// data (see package prompts), and answers with JSON: a headline and
// bullets that cite articles by number. Code, not the model, maps the
// numbers to articles, so the model never writes a URL. Every reply is
// validated; an invalid one (it repeats an instruction or the system
// prompt, among other problems) is retried once with the problem spelled
// out, single bullets that link, mention, use markdown or state what
// their articles do not (digest.Ungrounded) are rewritten once, then
// dropped, and a headline that states what the articles do not is
// replaced by the first article's title. The checks see through
// zero-width characters and look-alike letters (digest.Skeleton). Any error
// means no usable summary, and the caller falls back to another
// summarizer.
package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/prompts"
	openai "github.com/sashabaranov/go-openai"
)

// Defaults for zero Config fields.
const (
	DefaultTimeout         = 60 * time.Second
	DefaultMaxRetries      = 2
	DefaultMaxRetryWait    = 30 * time.Second
	DefaultCacheMaxAge     = 7 * 24 * time.Hour
	DefaultAzureAPIVersion = "2024-10-21"
)

// DefaultInputTokensPerWord is, when Config.InputBudgetPerStory is zero,
// how many estimated tokens of article text a story may send per word of
// summary asked for (SummaryRequest.MaxWords): 800 for the briefing
// default of 80 words. Ten tokens are about seven words of source per
// word of summary, near the eight words the editors of Multi-News's human
// summaries read per word they wrote. On its clusters (2,600 tokens of
// distinct text on average) the text sent keeps 95% of the ROUGE-1 and
// 90% of the ROUGE-2 recall the full text has of a human summary when
// asked for one as long, and 86% and 76% of a summary's first 80 words
// when asked for 80 (TestSelectionRetention).
const DefaultInputTokensPerWord = 10

// minInputBudget is the smallest derived input budget, about one short
// article, so that a one-line summary still reads its story's leads.
const minInputBudget = 500

// Config configures a Summarizer. Only Model is required.
type Config struct {
	// BaseURL is the API's base URL: https://api.openai.com/v1 when empty,
	// http://localhost:11434/v1 for Ollama, and so on.
	BaseURL string
	// APIType is APITypeOpenAI or APITypeAzure (deployment URLs, the
	// api-key header, api-version); "" chooses Azure for a host ending in
	// .openai.azure.com or .cognitiveservices.azure.com.
	APIType string
	// APIKey is sent as a bearer token (Azure: the api-key header). It is
	// never logged, and removed from errors that echo it.
	APIKey string
	// Model is the model name; on Azure, the deployment name.
	Model string
	// APIVersion is the Azure OpenAI API version (default
	// DefaultAzureAPIVersion, the first with structured outputs); other
	// endpoints ignore it.
	APIVersion string
	// Timeout bounds each HTTP call (default DefaultTimeout).
	Timeout time.Duration
	// MaxRetries is how often a call that fails with 429, 5xx or a
	// timeout is retried (default DefaultMaxRetries; negative: never).
	MaxRetries int
	// MaxRetryWait caps the wait before a retry (default
	// DefaultMaxRetryWait). A server asking, with Retry-After, for a
	// longer wait gets no retry: the call fails at once.
	MaxRetryWait time.Duration
	// MaxOutputTokens is the completion-token limit of each call; zero
	// derives it from the request's MaxWords (200 + 3 per word, at least
	// 300). Reasoning models spend part of it thinking and may need more.
	MaxOutputTokens int
	// TokenParam names the request field the limit goes in: TokenParamMaxTokens
	// (max_tokens, which Ollama, llama.cpp and older vLLM know),
	// TokenParamMaxCompletionTokens (max_completion_tokens, which OpenAI's
	// reasoning models require), or "" to choose by the model name (o1, o3,
	// o4, gpt-5…: max_completion_tokens). Set it for an Azure deployment
	// of a reasoning model whose name does not say so.
	TokenParam string
	// Headers are sent with every request, e.g. OpenRouter's optional
	// HTTP-Referer and X-Title. They are not for secrets: APIKey is.
	Headers map[string]string
	// InputBudgetPerStory caps the estimated tokens of article text sent
	// for one story; zero scales it with the summary asked for:
	// DefaultInputTokensPerWord per word of the request's MaxWords, at
	// least 500. Longer stories are cut by relevance (see selectArticles).
	InputBudgetPerStory int
	// CacheMaxAge is how old a cached summary may be and still be used
	// (default DefaultCacheMaxAge).
	CacheMaxAge time.Duration
	// Now is the clock (default time.Now). It dates Retry-After headers.
	Now func() time.Time
	// Sleep waits d before a retry, or returns ctx's error when ctx ends
	// first (default a timer). Tests record waits with it.
	Sleep func(ctx context.Context, d time.Duration) error
	// HTTPClient makes the HTTP calls (default a new http.Client; the
	// Timeout applies per call either way).
	HTTPClient *http.Client
	// OnCall, if not nil, is told of every chat completion request once
	// it has ended, retries included, for metrics and usage records; ctx
	// is the Summarize call's, with the values its caller put there. It
	// is called from the goroutine that made the request and must be
	// quick and safe for concurrent use.
	OnCall func(ctx context.Context, c Call)
}

// Call is one chat completion request, as Config.OnCall sees it.
type Call struct {
	// Outcome is CallOK, CallRateLimited, CallServerError, CallTimeout
	// or CallError.
	Outcome string
	// PromptTokens and CompletionTokens are the usage the server
	// reported; zero when it reported none or the call failed.
	PromptTokens, CompletionTokens int
	// Duration is how long the request took.
	Duration time.Duration
}

// Values of Config.APIType.
const (
	APITypeOpenAI = "openai"
	APITypeAzure  = "azure"
)

// Values of Config.TokenParam.
const (
	TokenParamMaxTokens           = "max_tokens"
	TokenParamMaxCompletionTokens = "max_completion_tokens"
)

// Outcomes of a Call.
const (
	CallOK          = "ok"           // a reply, valid or not
	CallRateLimited = "rate_limited" // 429
	CallServerError = "server_error" // 5xx
	CallTimeout     = "timeout"      // no reply within Config.Timeout
	CallError       = "error"        // any other failure: 4xx, network
)

// Summarizer writes story summaries with a language model. It is safe for
// concurrent use.
type Summarizer struct {
	cfg     Config
	retries int
	client  *openai.Client
	prompts *prompts.Set
	cache   digest.SummaryCache
	log     *slog.Logger
	// jsonMode is set once the server rejected a json_schema response
	// format: later calls ask for JSON mode (json_object) instead.
	jsonMode atomic.Bool
	// refused is the last refused call (401, 403, 404), which calls fail
	// with at once until it expires; nil before any.
	refused atomic.Pointer[refusal]
}

var _ digest.Summarizer = (*Summarizer)(nil)

// New returns a summarizer. A nil prompts means prompts.Default(), a nil
// cache no caching, a nil log no logging.
func New(cfg Config, ps *prompts.Set, cache digest.SummaryCache, log *slog.Logger) *Summarizer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	retries := cfg.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	if cfg.CacheMaxAge <= 0 {
		cfg.CacheMaxAge = DefaultCacheMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if ps == nil {
		ps = prompts.Default()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	var oc openai.ClientConfig
	if cfg.APIType == APITypeAzure || (cfg.APIType == "" && isAzure(cfg.BaseURL)) {
		oc = openai.DefaultAzureConfig(cfg.APIKey, cfg.BaseURL)
		oc.APIVersion = cfg.APIVersion
		if oc.APIVersion == "" {
			oc.APIVersion = DefaultAzureAPIVersion
		}
		oc.AzureModelMapperFunc = func(model string) string { return model }
	} else {
		oc = openai.DefaultConfig(cfg.APIKey)
		if cfg.BaseURL != "" {
			oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
		}
	}
	oc.HTTPClient = headerRecorder{next: hc, send: cfg.Headers}
	return &Summarizer{cfg: cfg, retries: retries, client: openai.NewClientWithConfig(oc), prompts: ps, cache: cache, log: log}
}

// inputBudget returns the estimated tokens of article text one story may
// send for a summary of maxWords words.
func (s *Summarizer) inputBudget(maxWords int) int {
	if s.cfg.InputBudgetPerStory > 0 {
		return s.cfg.InputBudgetPerStory
	}
	return max(minInputBudget, DefaultInputTokensPerWord*maxWords)
}

// isAzure reports whether baseURL is an Azure OpenAI resource.
func isAzure(baseURL string) bool {
	u, err := url.Parse(baseURL)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return strings.HasSuffix(host, ".openai.azure.com") || strings.HasSuffix(host, ".cognitiveservices.azure.com")
}

// Model returns the configured model name.
func (s *Summarizer) Model() string { return s.cfg.Model }

// run is what one Summarize call did, for its log line.
type run struct {
	calls, tokens int
	cached        bool
	cacheErr      error
	// quiet is set when the failure is a refusal logged already: the
	// call was not sent, or another call was refused first.
	quiet bool
}

// Summarize writes a story's headline and bullets; see the package
// documentation for how replies are checked. Errors wrap
// digest.ErrBudgetSpent when req.Budget cannot cover a call (no call is
// made), and digest.ErrTransient when the endpoint kept failing with 429,
// 5xx or timeouts; when the last attempt timed out (no reply within
// Config.Timeout), they wrap context.DeadlineExceeded too. Errors wrap
// digest.ErrRefused when the endpoint refused the call itself (401, 403:
// the key; 404: the model or URL); for a minute after that, every call
// fails at once with the same error, without a request, so the rest of a
// briefing does not repeat it. It logs one line per call, and a refusal
// once.
func (s *Summarizer) Summarize(ctx context.Context, req digest.SummaryRequest) (digest.Summary, error) {
	var r run
	sum, err := s.summarize(ctx, req, &r)
	attrs := []any{"story", req.Story.ID, "model", s.cfg.Model, "tokens", r.tokens, "calls", r.calls}
	if r.cached {
		attrs = append(attrs, "cached", true)
	}
	if sum.Dropped > 0 {
		attrs = append(attrs, "dropped", sum.Dropped)
	}
	if r.cacheErr != nil {
		attrs = append(attrs, "cache_error", s.redact(r.cacheErr.Error()))
	}
	switch {
	case err == nil:
		s.log.InfoContext(ctx, "llm summary", attrs...)
	case errors.Is(err, digest.ErrBudgetSpent):
		s.log.InfoContext(ctx, "llm summary skipped", append(attrs, "error", err)...)
	case r.quiet:
		s.log.DebugContext(ctx, "llm summary failed as an earlier call did", append(attrs, "error", err)...)
	default:
		s.log.WarnContext(ctx, "llm summary failed", append(attrs, "error", err)...)
	}
	return sum, err
}

func (s *Summarizer) summarize(ctx context.Context, req digest.SummaryRequest, r *run) (digest.Summary, error) {
	story := req.Story
	if s.cfg.Model == "" {
		return digest.Summary{}, errors.New("llm: no model configured")
	}
	if len(story.Articles) == 0 {
		return digest.Summary{}, fmt.Errorf("llm: story %s has no articles", story.ID)
	}
	maxBullets := req.MaxBullets
	if maxBullets <= 0 {
		maxBullets = 3
	}
	maxBullets = min(maxBullets, 4)
	maxWords := req.MaxWords
	if maxWords <= 0 {
		maxWords = 40 * maxBullets
	}

	key := s.cacheKey(req, maxBullets, maxWords)
	if s.cache != nil {
		cached, err := s.cache.CachedSummary(ctx, key, s.cfg.CacheMaxAge)
		switch {
		case err == nil:
			if sum, ok := fromCanonical(cached, story); ok {
				r.cached = true
				return sum, nil
			}
		case !errors.Is(err, digest.ErrNotFound):
			r.cacheErr = err
		}
	}

	sel := selectArticles(story, s.inputBudget(maxWords))
	system, user, err := s.prompts.Story(prompts.StoryData{Language: req.Language, MaxBullets: maxBullets, MaxWords: maxWords, Articles: sel.articles})
	if err != nil {
		return digest.Summary{}, fmt.Errorf("llm: %w", err)
	}
	maxOut := s.cfg.MaxOutputTokens
	if maxOut <= 0 {
		maxOut = max(300, 200+3*maxWords)
	}
	lim := limits{articles: len(sel.articles), maxBullets: maxBullets, maxWords: maxWords, prompt: promptRuns(system)}
	msgs := []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: system},
		{Role: openai.ChatMessageRoleUser, Content: user},
	}

	c, err := s.call(ctx, req.Budget, msgs, maxOut, r)
	if err != nil {
		return digest.Summary{}, fmt.Errorf("llm: story %s: %w", story.ID, err)
	}
	rep, perr := parseReply(c.text, c.finish, lim)
	if perr != nil {
		retry, err := s.prompts.Retry(prompts.RetryData{Reason: perr.Error()})
		if err != nil {
			return digest.Summary{}, fmt.Errorf("llm: %w", err)
		}
		msgs = append(withAssistant(msgs, c.text), openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: retry})
		if c, err = s.call(ctx, req.Budget, msgs, maxOut, r); err != nil {
			return digest.Summary{}, fmt.Errorf("llm: story %s: after an invalid reply (%v): %w", story.ID, perr, err)
		}
		if rep, perr = parseReply(c.text, c.finish, lim); perr != nil {
			return digest.Summary{}, fmt.Errorf("llm: story %s: invalid reply twice: %v", story.ID, perr)
		}
	}

	sum := digest.Summary{Headline: rep.Headline}
	// A headline that claims what no article of the story says is not
	// worth a round trip: it is dropped, and the story keeps its first
	// article's title.
	translated := req.Language != ""
	if len(ungrounded(rep.Headline, storyTexts(story), translated)) > 0 {
		sum.Headline = ""
	}
	var bad []prompts.RepairBullet
	var badAt []int // positions in sum.Bullets reserved for the rewrites
	for i, b := range rep.Bullets {
		bullet := s.toBullet(b, sel)
		if problems := checkBulletIn(bullet.Text, citedTexts(story, bullet.Citations), translated); len(problems) > 0 {
			bad = append(bad, prompts.RepairBullet{Number: i + 1, Text: b.Text, Problems: problems})
			badAt = append(badAt, len(sum.Bullets))
			continue
		}
		sum.Bullets = append(sum.Bullets, bullet)
	}
	if len(bad) > 0 {
		fixed, err := s.repair(ctx, req.Budget, withAssistant(msgs, c.text), bad, lim, maxOut, sel, story, translated, r)
		if err != nil {
			return digest.Summary{}, fmt.Errorf("llm: story %s: %w", story.ID, err)
		}
		// Put rewrites where the bullets they replace were, last first
		// so that earlier positions stay valid.
		for i := len(fixed) - 1; i >= 0; i-- {
			sum.Bullets = slices.Insert(sum.Bullets, badAt[i], fixed[i])
		}
		sum.Dropped = len(bad) - len(fixed)
	}
	if len(sum.Bullets) == 0 {
		return digest.Summary{}, fmt.Errorf("llm: story %s: no bullet passed validation (%d dropped)", story.ID, sum.Dropped)
	}

	if s.cache != nil {
		if err := s.cache.CacheSummary(ctx, key, toCanonical(sum, story)); err != nil {
			r.cacheErr = err
		}
	}
	return sum, nil
}

// repair asks once for the bad bullets to be rewritten and returns the
// rewrites that pass the checks, at most one per bad bullet, in order. A
// failed or invalid repair reply drops the bad bullets; only the end of
// ctx is an error.
func (s *Summarizer) repair(ctx context.Context, budget *digest.Budget, msgs []openai.ChatCompletionMessage, bad []prompts.RepairBullet, lim limits, maxOut int, sel selection, story digest.Story, translated bool, r *run) ([]digest.Bullet, error) {
	ask, err := s.prompts.Repair(prompts.RepairData{Bullets: bad})
	if err != nil {
		return nil, err
	}
	msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: ask})
	c, err := s.call(ctx, budget, msgs, maxOut, r)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, nil
	}
	lim.maxBullets = len(bad)
	rep, err := parseReply(c.text, c.finish, lim)
	if err != nil {
		return nil, nil
	}
	var fixed []digest.Bullet
	for _, b := range rep.Bullets {
		bullet := s.toBullet(b, sel)
		if len(checkBulletIn(bullet.Text, citedTexts(story, bullet.Citations), translated)) == 0 {
			fixed = append(fixed, bullet)
		}
	}
	return fixed, nil
}

// toBullet maps a reply bullet's prompt indices to story article indices.
func (s *Summarizer) toBullet(b replyBullet, sel selection) digest.Bullet {
	out := digest.Bullet{Text: b.Text}
	for _, c := range b.Citations {
		out.Citations = append(out.Citations, sel.origin[c-1])
	}
	slices.Sort(out.Citations)
	out.Citations = slices.Compact(out.Citations)
	return out
}

// citedTexts returns the title and text of the cited articles.
func citedTexts(story digest.Story, citations []int) []string {
	var texts []string
	for _, c := range citations {
		a := story.Articles[c]
		texts = append(texts, a.Title+"\n"+a.Text)
	}
	return texts
}

// storyTexts returns the title and text of every article of a story.
func storyTexts(story digest.Story) []string {
	texts := make([]string, len(story.Articles))
	for i, a := range story.Articles {
		texts[i] = a.Title + "\n" + a.Text
	}
	return texts
}

// withAssistant returns msgs followed by the model's reply, if it said
// anything.
func withAssistant(msgs []openai.ChatCompletionMessage, content string) []openai.ChatCompletionMessage {
	out := slices.Clip(msgs)
	if strings.TrimSpace(content) == "" {
		return out
	}
	return append(out, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: content})
}

// cacheVersion changes when the way replies are checked changes, so
// summaries checked the old way are not served again.
const cacheVersion = "2"

// cacheKey identifies a summary: the story's content, the prompts, the
// model, the language and the size asked for (and the reply schema and
// checks, which are code).
func (s *Summarizer) cacheKey(req digest.SummaryRequest, maxBullets, maxWords int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%d|%d|%s|%s", digest.StoryHash(req.Story), s.prompts.Hash(), s.cfg.Model, req.Language, maxBullets, maxWords, cacheVersion, replySchema)
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalOrder returns each article's position when the story's
// articles are sorted as StoryHash sorts them. The story hash ignores
// order, so cached citations are stored in this order and mapped back to
// the order of the story at hand.
func canonicalOrder(story digest.Story) []int {
	idx := make([]int, len(story.Articles))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) string { return story.Articles[i].ID + ":" + story.Articles[i].ContentHash }
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(key(a), key(b)) })
	pos := make([]int, len(idx))
	for p, i := range idx {
		pos[i] = p
	}
	return pos
}

// toCanonical returns a copy of sum with citations in canonical order.
func toCanonical(sum digest.Summary, story digest.Story) digest.Summary {
	pos := canonicalOrder(story)
	out := sum
	out.Bullets = make([]digest.Bullet, len(sum.Bullets))
	for i, b := range sum.Bullets {
		out.Bullets[i] = digest.Bullet{Text: b.Text}
		for _, c := range b.Citations {
			out.Bullets[i].Citations = append(out.Bullets[i].Citations, pos[c])
		}
	}
	return out
}

// fromCanonical maps a cached summary's citations back to the story's
// order; false if any is out of range or a bullet cites nothing.
func fromCanonical(sum digest.Summary, story digest.Story) (digest.Summary, bool) {
	pos := canonicalOrder(story)
	at := make([]int, len(pos))
	for i, p := range pos {
		at[p] = i
	}
	out := sum
	out.Bullets = make([]digest.Bullet, len(sum.Bullets))
	for i, b := range sum.Bullets {
		if len(b.Citations) == 0 {
			return digest.Summary{}, false
		}
		out.Bullets[i] = digest.Bullet{Text: b.Text}
		for _, c := range b.Citations {
			if c < 0 || c >= len(at) {
				return digest.Summary{}, false
			}
			out.Bullets[i].Citations = append(out.Bullets[i].Citations, at[c])
		}
		slices.Sort(out.Bullets[i].Citations)
	}
	return out, len(out.Bullets) > 0
}

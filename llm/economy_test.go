package llm

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakeopenai"
	"github.com/briefbot/briefbot/prompts"
)

// The LLM economy (issue "Performance", part 6): a briefing whose topic
// matches 60 articles in 12 stories, wire copies among them, is summarized
// one Summarize call per story, as the briefing builder does. The prompt
// tokens sent may be at most economyMaxRatio of sending every matched
// article's full text once, no story may lose its summary, and a repeat
// within the cache lifetime must send nothing. Wire copies are sent once,
// the input budget scales with the summary asked for (800 tokens for 80
// words; what that cut keeps is measured by TestSelectionRetention).

const economyMaxRatio = 0.40

// economyMaxWords is the summary size asked for: the briefing default.
const economyMaxWords = 80

// economyEvent is one made-up news event.
type economyEvent struct {
	place, actor, thing, day string
	n                        int
}

var economyEvents = []economyEvent{
	{"Port Alder", "the harbour authority", "dredging contract", "Monday", 140},
	{"Veldmark", "the transport ministry", "rail tunnel", "Tuesday", 260},
	{"Kestrel Bay", "the fisheries board", "quota dispute", "Wednesday", 35},
	{"Marrowind", "the city council", "housing levy", "Thursday", 80},
	{"Oskarberg", "the energy regulator", "grid upgrade", "Friday", 410},
	{"Lindqvist Valley", "the water utility", "reservoir repair", "Saturday", 55},
	{"Saint Orla", "the health trust", "hospital merger", "Sunday", 120},
	{"Brackenfield", "the teachers union", "pay settlement", "Monday", 18},
	{"Halvorsen Island", "the coast guard", "ferry grounding", "Tuesday", 230},
	{"Duncairn", "the airport operator", "runway closure", "Wednesday", 47},
	{"Terrasol", "the mining company", "copper mine expansion", "Thursday", 960},
	{"Quillon", "the election commission", "ballot recount", "Friday", 12},
}

var (
	economyOpeners = []string{
		"Officials in {place} said on {day} that",
		"According to {actor},",
		"Residents of {place} told reporters that",
		"A spokesperson for {actor} confirmed that",
		"Analysts who follow the {thing} noted that",
		"Local newspapers in {place} reported that",
		"In a written statement, {actor} said",
		"Several people familiar with the {thing} said",
		"Opposition politicians in {place} argued that",
		"Supporters of the {thing} insisted that",
		"An independent review found that",
		"Business leaders in {place} warned that",
	}
	economyClauses = []string{
		"the {thing} had been delayed by several weeks",
		"costs linked to the {thing} had risen to about {n} million",
		"roughly {n} households in {place} would be affected",
		"talks about the {thing} would resume later in the month",
		"emergency crews had worked through the night near {place}",
		"no final decision on the {thing} had yet been taken",
		"the budget for the {thing} would be reviewed before summer",
		"a public hearing on the {thing} was planned for next week",
		"{actor} had underestimated the scale of the {thing}",
		"about {n} workers had been assigned to the {thing}",
		"the first phase of the {thing} was nearly complete",
		"insurers were still assessing the damage around {place}",
		"the {thing} had divided opinion across the region",
		"a court challenge against the {thing} remained possible",
		"the timetable for the {thing} was unrealistic",
		"nearby towns were watching the {thing} closely",
		"earlier promises about the {thing} had not been kept",
		"the {thing} could set an example for other regions",
		"inspectors would visit {place} again within days",
		"funding for the {thing} depended on a vote in parliament",
		"local firms hoped to win contracts from the {thing}",
		"the weather had slowed progress on the {thing}",
		"a new manager had been appointed to oversee the {thing}",
		"complaints about the {thing} had doubled since spring",
		"the {thing} had drawn interest from foreign investors",
		"environmental groups wanted more scrutiny of the {thing}",
		"{actor} would publish detailed figures on the {thing} soon",
		"schools in {place} had adjusted their schedules because of the {thing}",
		"traffic around {place} had been diverted for the {thing}",
		"the mayor of {place} called the {thing} a turning point",
	}
	economyTails = []string{
		"", "", " despite heavy rain", " after a long review", " according to early figures",
		" amid growing pressure", " in the coming days", " for the time being", " as negotiations continued",
	}
)

func (e economyEvent) fill(s string) string {
	return strings.NewReplacer("{place}", e.place, "{actor}", e.actor, "{thing}", e.thing, "{day}", e.day, "{n}", fmt.Sprint(e.n)).Replace(s)
}

// economyText writes a made-up article of about 300 words (18 sentences) on event e in
// paragraphs of four sentences; variant picks the wording (a distinct
// rewrite uses its own share of the phrases).
func economyText(e economyEvent, ev, variant int) string {
	r := rand.New(rand.NewPCG(uint64(ev+1), uint64(variant+1)))
	var b strings.Builder
	var clauses []string
	for i, c := range economyClauses {
		if i%3 == variant%3 {
			clauses = append(clauses, c)
		}
	}
	for i := range 18 {
		if i > 0 {
			if i%4 == 0 {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
		}
		s := e.fill(economyOpeners[r.IntN(len(economyOpeners))] + " " + clauses[r.IntN(len(clauses))] + economyTails[r.IntN(len(economyTails))] + ".")
		b.WriteString(strings.ToUpper(s[:1]) + s[1:])
	}
	return b.String()
}

func economyArticle(id, outlet, title, text string, at time.Time) digest.Article {
	return digest.Article{
		ID: id, Outlet: outlet, Title: title, Text: text,
		URL:         "https://" + strings.ToLower(strings.ReplaceAll(outlet, " ", "")) + ".example/" + id,
		Published:   at,
		ContentHash: digest.ContentHash(title, text),
		Signature:   digest.Sign(text),
	}
}

// economyStories returns 12 stories of 5 articles each: a wire report, its
// copies (one identical, the others lightly edited, DuplicateOf set) and
// distinct rewrites. Even events have three copies and one rewrite, odd
// events two copies and two rewrites.
func economyStories() []digest.Story {
	outlets := []string{"Wire Service", "Daily Ledger", "Evening Post", "Metro Herald", "Coastal Times"}
	var stories []digest.Story
	for ev, e := range economyEvents {
		at := time.Date(2026, 3, 2, 6+ev, 0, 0, 0, time.UTC)
		title := fmt.Sprintf("%s: %s in %s", strings.ToUpper(e.actor[4:5])+e.actor[5:], e.thing, e.place)
		wireText := economyText(e, ev, 0)
		wire := economyArticle(fmt.Sprintf("e%02d-wire", ev), outlets[0], title, wireText, at)
		arts := []digest.Article{wire}
		copies := 3 - ev%2
		for c := 1; c <= copies; c++ {
			text, t := wireText, title
			if c > 1 { // lightly edited: a dateline, a retitle, a new last sentence
				text = strings.ToUpper(e.place) + " — " + wireText
				if i := strings.LastIndex(text, ". "); i >= 0 {
					text = text[:i+1] + " " + e.fill("More details on the {thing} are expected.")
				}
				t = title + " (update)"
			}
			a := economyArticle(fmt.Sprintf("e%02d-copy%d", ev, c), outlets[c], t, text, at.Add(time.Duration(c)*time.Minute))
			a.DuplicateOf = wire.ID
			arts = append(arts, a)
		}
		for v := 1; len(arts) < 5; v++ {
			k := len(arts)
			t := fmt.Sprintf("What the %s means for %s", e.thing, e.place)
			if v > 1 {
				t = fmt.Sprintf("%s under scrutiny as %s weighs options", strings.ToUpper(e.thing[:1])+e.thing[1:], e.actor)
			}
			arts = append(arts, economyArticle(fmt.Sprintf("e%02d-rewrite%d", ev, v), outlets[k], t, economyText(e, ev, v), at.Add(time.Duration(k)*time.Hour)))
		}
		stories = append(stories, digest.Story{ID: digest.StoryID(arts), Articles: arts, Score: float64(len(economyEvents) - ev)})
	}
	return stories
}

// economyCache is an in-memory digest.SummaryCache that honours maxAge.
type economyCache struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]economyEntry
}

type economyEntry struct {
	sum digest.Summary
	at  time.Time
}

func (c *economyCache) CachedSummary(ctx context.Context, key string, maxAge time.Duration) (digest.Summary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || c.now().Sub(e.at) > maxAge {
		return digest.Summary{}, fmt.Errorf("summary %s: %w", key, digest.ErrNotFound)
	}
	return e.sum, nil
}

func (c *economyCache) CacheSummary(ctx context.Context, key string, s digest.Summary) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]economyEntry)
	}
	c.m[key] = economyEntry{sum: s, at: c.now()}
	return nil
}

// economyTokens estimates tokens the way both sides are counted here: a
// quarter of a token per byte. (The fake server answers each request with
// fakeopenai.FirstSentence: one grounded bullet citing article 1.)
func economyTokens(s string) int { return len(s) / 4 }

type economyResult struct {
	stories, articles     int
	baseline              int // full text of every matched article, once
	sent                  int // message contents of every request, estimated alike
	reported              int // prompt_tokens the fake reported (its body/4)
	requests              int
	summarized, bullets   int
	lost                  []string
	repeatRequests        int
	repeatLost            []string
	distinctSent, copies  int
	system, framing, text int // where sent tokens go: system prompt, user framing, article blocks
}

func runEconomy(tb testing.TB, stories []digest.Story) economyResult {
	return runEconomyCap(tb, stories, 0)
}

// runEconomyCap runs the briefing with Config.InputBudgetPerStory set to
// inputCap (0: the default).
func runEconomyCap(tb testing.TB, stories []digest.Story, inputCap int) economyResult {
	tb.Helper()
	srv := fakeopenai.New(tb)
	const spare = 3 // a first call, a retry and a repair per story at most
	for range spare * len(stories) {
		srv.Enqueue(fakeopenai.Response{Func: fakeopenai.FirstSentence})
	}
	now := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cache := &economyCache{now: clock}
	s := New(Config{BaseURL: srv.URL(), APIKey: apiKey, Model: "gpt-4o-mini", Timeout: 5 * time.Second, Now: clock, InputBudgetPerStory: inputCap,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}, prompts.Default(), cache, nil)

	var res economyResult
	res.stories = len(stories)
	for _, st := range stories {
		for _, a := range st.Articles {
			res.articles++
			res.baseline += economyTokens(a.Title + a.Text)
			if a.DuplicateOf != "" {
				res.copies++
			}
		}
	}
	ctx := context.Background()
	summarize := func() (lost []string, bullets int) {
		for _, st := range stories {
			sum, err := s.Summarize(ctx, digest.SummaryRequest{Story: st, Language: "English", MaxBullets: 3, MaxWords: economyMaxWords})
			if err != nil || len(sum.Bullets) == 0 {
				lost = append(lost, fmt.Sprintf("%s (%v)", st.ID, err))
				continue
			}
			bullets += len(sum.Bullets)
		}
		return lost, bullets
	}
	res.lost, res.bullets = summarize()
	res.summarized = res.stories - len(res.lost)
	reqs := srv.Requests()
	res.requests = len(reqs)
	for _, r := range reqs {
		for _, m := range r.Chat.Messages {
			n := economyTokens(m.Content)
			res.sent += n
			if m.Role == "system" {
				res.system += n
				continue
			}
			res.distinctSent += strings.Count(m.Content, "\n<<<article ")
			blocks := 0
			for _, part := range strings.Split(m.Content, "\n<<<article ")[1:] {
				block, _, _ := strings.Cut(part, "\n<<<end ")
				blocks += economyTokens(block)
			}
			res.text += blocks
			res.framing += n - blocks
		}
		res.reported += len(r.Body) / 4 // what the fake reports as prompt_tokens
	}

	now = now.Add(time.Hour) // well within DefaultCacheMaxAge
	res.repeatLost, _ = summarize()
	res.repeatRequests = srv.Calls() - len(reqs)
	return res
}

func (r economyResult) ratio() float64 { return float64(r.sent) / float64(r.baseline) }

func TestLLMEconomy(t *testing.T) {
	stories := economyStories()
	// The fixture is what it claims: copies are near-duplicates of their
	// wire report, rewrites are not, and articles are 250-400 words.
	for _, st := range stories {
		for i, a := range st.Articles {
			if w := len(strings.Fields(a.Text)); w < 250 || w > 400 {
				t.Fatalf("%s has %d words", a.ID, w)
			}
			if i == 0 {
				continue
			}
			dup := digest.IsNearDuplicate(a.Signature, st.Articles[0].Signature)
			if dup != (a.DuplicateOf != "") {
				t.Fatalf("%s: near-duplicate of the wire report %v, DuplicateOf %q", a.ID, dup, a.DuplicateOf)
			}
		}
	}

	start := time.Now()
	r := runEconomy(t, stories)
	t.Logf("%d stories, %d articles (%d wire copies); %d requests, %d articles in prompts", r.stories, r.articles, r.copies, r.requests, r.distinctSent)
	t.Logf("prompt tokens sent %d (server-reported prompt_tokens %d, incl. JSON and schema); full text once %d", r.sent, r.reported, r.baseline)
	t.Logf("where they go: system prompt %d, user framing %d, article blocks %d (per story %d; input budget %d per story)", r.system, r.framing, r.text, r.sent/r.stories, (&Summarizer{}).inputBudget(economyMaxWords))
	t.Logf("ratio %.3f (server-reported %.3f), target <= %.2f; %d/%d stories summarized, %d bullets; repeat: %d requests; %s",
		r.ratio(), float64(r.reported)/float64(r.baseline), economyMaxRatio, r.summarized, r.stories, r.bullets, r.repeatRequests, time.Since(start).Round(time.Millisecond))

	if r.ratio() > economyMaxRatio {
		t.Errorf("prompt tokens sent are %.3f of the full text once, want at most %.2f", r.ratio(), economyMaxRatio)
	}
	if len(r.lost) > 0 {
		t.Errorf("stories without a summary: %v", r.lost)
	}
	if r.repeatRequests != 0 {
		t.Errorf("repeat within the cache lifetime made %d requests, want 0", r.repeatRequests)
	}
	if len(r.repeatLost) > 0 {
		t.Errorf("stories without a summary on repeat: %v", r.repeatLost)
	}
}

func BenchmarkLLMEconomy(b *testing.B) {
	stories := economyStories()
	var r economyResult
	for b.Loop() {
		r = runEconomy(b, stories)
	}
	if len(r.lost) > 0 || r.repeatRequests != 0 {
		b.Fatalf("lost %v, repeat requests %d", r.lost, r.repeatRequests)
	}
	b.ReportMetric(r.ratio(), "prompt/full")
	b.ReportMetric(float64(r.repeatRequests), "repeat-requests")
}

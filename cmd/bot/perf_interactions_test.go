package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/internal/fakeopenai"
	"github.com/briefbot/briefbot/internal/feedserver"
)

// Interactions under load (issue 7): the shape of the burst and what the
// fake Discord charges for each request.
const (
	burstBriefs   = 200
	burstGuilds   = 20
	burstChannels = 3 // per guild
	// burstLatency is the round trip the fake adds to every REST request,
	// about what a host in Europe or the US east coast sees to
	// discord.com.
	burstLatency = 50 * time.Millisecond
	// burstDeferTarget is Discord's rule: an interaction not acknowledged
	// within 3 s fails for the user.
	burstDeferTarget = 3 * time.Second
	// burstLLMDelay is how long the fake language model takes per
	// completion.
	burstLLMDelay = time.Second
)

// burstThemes are the news the feeds carry: each theme's events are
// reported by every outlet, so that briefings cluster several articles
// into each story.
var burstThemes = []struct {
	topic, query string
	subject      string
	events       []string
}{
	{"korea-talks", `"north korea" OR pyongyang`, "North Korea", []string{
		"fired a short-range ballistic missile into the sea off its east coast",
		"sent envoys to Stockholm for working-level nuclear talks with the United States",
		"opened a new hospital in Pyongyang with a ceremony attended by senior officials",
		"reported a record rice harvest after a dry summer in the western provinces",
		"closed its border crossing with China to freight trucks for two weeks",
		"released a detained fishing crew after talks at the border village of Panmunjom",
	}},
	{"climate", `climate OR emissions`, "Climate negotiators", []string{
		"agreed a draft text on emissions cuts after a night of talks in Bonn",
		"failed to settle how rich countries will pay for climate adaptation",
		"heard a report that global emissions rose again last year",
		"backed a plan to phase down coal power in the next decade",
		"set up a fund for countries hit by floods and storms",
		"postponed a vote on methane targets until the next round of talks",
	}},
	{"markets", `markets OR stocks OR inflation`, "Stock markets", []string{
		"fell sharply after inflation figures came in higher than expected",
		"rallied as the central bank signalled that interest rates would stay on hold",
		"were mixed as oil prices climbed for a third straight week",
		"closed at a record high led by technology and energy shares",
		"slipped as investors awaited the quarterly results of the largest banks",
		"recovered their losses after a weak opening on Monday",
	}},
	{"elections", `election OR ballot`, "Election officials", []string{
		"began counting ballots after a record turnout in the regional election",
		"ordered a recount in three districts where the margin was under one hundred votes",
		"said postal ballots would be accepted until Friday because of the storm",
		"published the final list of candidates for the presidential election",
		"rejected complaints of fraud filed by the opposition party",
		"announced that the run-off election will be held in two weeks",
	}},
	{"health", `vaccine OR hospital`, "Health ministers", []string{
		"approved a new vaccine against the seasonal flu for people over sixty",
		"warned that hospital waiting lists had grown for the fifth month running",
		"agreed to share vaccine stocks with neighbouring countries",
		"opened an inquiry into staff shortages at rural hospitals",
		"launched a campaign to vaccinate schoolchildren against measles",
		"promised more money for mental health services in the next budget",
	}},
}

var burstOutlets = []string{"wire", "herald", "courier", "gazette", "observer"}

// TestPerfInteractions sends 200 /brief interactions in one burst, from
// 20 guilds and 60 channels, through the fake Discord to the briefbot
// binary, whose store holds 150 articles of the last three days; the
// fake adds a 50 ms round trip to every REST request and enforces
// Discord-like limits (5 requests per 5 s per route and token). Every
// interaction must be deferred within 3 s of its dispatch and answered
// with its briefing once. It prints the percentiles of both, with the
// extractive summarizer and with a language model (the fake OpenAI
// server, 1 s per completion).
//
// It takes under a minute and runs only with BRIEFBOT_PERF=1:
//
//	BRIEFBOT_PERF=1 go test -run '^TestPerf' -v -count 1 ./cmd/bot/
func TestPerfInteractions(t *testing.T) {
	skipUnlessPerf(t)
	bin := buildBinary(t)
	t.Run("extractive", func(t *testing.T) { briefBurst(t, bin, nil) })
	t.Run("llm", func(t *testing.T) {
		ai := fakeopenai.New(t)
		for range 5000 {
			ai.Enqueue(fakeopenai.Response{Func: func(r fakeopenai.Request) fakeopenai.Response {
				resp := fakeopenai.FirstSentence(r)
				resp.Delay = burstLLMDelay
				return resp
			}})
		}
		briefBurst(t, bin, ai)
	})
}

// briefBurst runs the burst against a fresh bot, with the language model
// at ai if not nil.
func briefBurst(t *testing.T, bin string, ai *fakeopenai.Server) {
	var guilds []string
	for g := range burstGuilds {
		guilds = append(guilds, fmt.Sprintf("1%017d", g+1))
	}
	srv := fakediscord.New(t, fakediscord.Options{
		AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: guilds,
		RateLimit: 5, RateLimitWindow: 5 * time.Second, Latency: burstLatency,
	})
	channelOf := func(g, c int) string { return fmt.Sprintf("2%015d%02d", g+1, c) }
	for g, id := range guilds {
		for c := range burstChannels {
			srv.AddChannel(fakediscord.Channel{ID: channelOf(g, c), GuildID: id, Name: fmt.Sprintf("news-%d", c)})
		}
	}

	now := time.Now()
	feeds := feedserver.New(t)
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "database: %s\nsources:\n", filepath.Join(dir, "b.db"))
	for o, outlet := range burstOutlets {
		feeds.Set("/"+outlet+".xml", feedserver.Doc{Body: burstFeed(outlet, o, now)})
		fmt.Fprintf(&cfg, "  - name: %s\n    url: %s/%s.xml\n    allow_private: true\n", outlet, feeds.URL, outlet)
	}
	cfg.WriteString("topics:\n")
	for _, th := range burstThemes {
		fmt.Fprintf(&cfg, "  - name: %s\n    query: '%s'\n", th.topic, th.query)
	}
	cfgFile := writeFile(t, dir, "briefbot.yaml", cfg.String())
	env := append(os.Environ(), "BRIEFBOT_CONFIG="+cfgFile, "DISCORD_TOKEN=tok", "BRIEFBOT_DISCORD_API_URL="+srv.URL())
	if ai != nil {
		env = append(env, "OPENAI_BASE_URL="+ai.URL(), "OPENAI_API_KEY=sk-test", "BRIEFBOT_MODEL=test-model")
	}

	p := startBot(t, bin, env)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, p.logs())
	}
	for len(srv.Commands("")) == 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	waitPolled(t, newCLI(t, map[string]string{"BRIEFBOT_CONFIG": cfgFile}), len(burstOutlets))

	// One /brief first, to check that briefings have stories.
	probe, err := srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: guilds[0], ChannelID: channelOf(0, 0),
		Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks"), fakediscord.StringOption("since", "3d")}})
	if err != nil {
		t.Fatal(err)
	}
	if o := waitBurstOutcome(ctx, srv, probe); o.answers == 0 || o.stories < 2 {
		t.Fatalf("probe /brief: %+v\n%s", o, p.logs())
	}
	llmCalls := 0
	if ai != nil {
		llmCalls = ai.Calls()
	}

	burst := make([]fakediscord.Interaction, burstBriefs)
	for n := range burst {
		g, c := n%burstGuilds, (n/burstGuilds)%burstChannels
		th := burstThemes[n%len(burstThemes)]
		var opts []fakediscord.Option
		switch n % 10 {
		case 0, 1: // an ad-hoc query
			opts = []fakediscord.Option{fakediscord.StringOption("query", th.query+" -football")}
		case 2: // a wider window
			opts = []fakediscord.Option{fakediscord.StringOption("topic", th.topic), fakediscord.StringOption("since", "3d")}
		default:
			opts = []fakediscord.Option{fakediscord.StringOption("topic", th.topic)}
		}
		burst[n] = fakediscord.Interaction{Name: "brief", GuildID: guilds[g], ChannelID: channelOf(g, c), Options: opts,
			User: fakediscord.User{ID: fmt.Sprintf("4%017d", n+1), Username: fmt.Sprintf("reader%d", n)}}
	}
	start := time.Now()
	sent, err := srv.SendInteractions(burst)
	if err != nil {
		t.Fatal(err)
	}
	for _, si := range sent {
		waitBurstOutcome(ctx, srv, si)
	}
	elapsed := time.Since(start)
	time.Sleep(2 * time.Second) // room for a second answer to show up
	var deferrals, answers []time.Duration
	for n, si := range sent {
		o := burstOutcomeOf(srv, si)
		switch {
		case o.callbacks != 1 || !o.deferred:
			t.Errorf("interaction %d (%s): %d callbacks, deferred %v; want one deferral", n, si.ID, o.callbacks, o.deferred)
		case o.answers != 1 || o.errors > 0:
			t.Errorf("interaction %d (%s): answered %d times, %d error replies; want one briefing", n, si.ID, o.answers, o.errors)
		}
		if o.deferred {
			deferrals = append(deferrals, o.deferral)
			if o.deferral > burstDeferTarget {
				t.Errorf("interaction %d (%s) deferred after %v, more than %v", n, si.ID, o.deferral.Round(time.Millisecond), burstDeferTarget)
			}
		}
		if o.answers > 0 {
			answers = append(answers, o.answer)
		}
	}
	limited := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited > 0 {
		t.Logf("%d requests were answered 429 Too Many Requests", limited)
	}
	summarizer := "extractive summarizer"
	if ai != nil {
		summarizer = fmt.Sprintf("language model (%v per completion, %d completions)", burstLLMDelay, ai.Calls()-llmCalls)
	}
	t.Logf("%d /brief interactions in one burst from %d guilds and %d channels; %v round trip per REST request; %s; all answered within %v",
		len(sent), burstGuilds, burstGuilds*burstChannels, burstLatency, summarizer, elapsed.Round(10*time.Millisecond))
	t.Logf("deferral (dispatch to type 5 callback): %s   target: every deferral ≤ %v", burstPercentiles(deferrals), burstDeferTarget)
	t.Logf("answer   (dispatch to the briefing):     %s", burstPercentiles(answers))
	if t.Failed() {
		t.Logf("bot log:\n%s", p.logs())
	}
}

// burstOutcome is what the fake Discord saw of one interaction's answers.
type burstOutcome struct {
	callbacks int // callback requests, accepted or not
	refused   int // callbacks answered with an error (too late, twice)
	acked     bool
	deferred  bool
	deferral  time.Duration // dispatch to the accepted type 5 callback
	answers   int           // edits of @original that put a briefing in
	answer    time.Duration // dispatch to the first of them
	stories   int           // story embeds in the first answer
	errors    int           // ephemeral replies, deleted deferrals, immediate replies
}

func burstOutcomeOf(srv *fakediscord.Server, si fakediscord.SentInteraction) burstOutcome {
	var o burstOutcome
	for _, r := range srv.InteractionResponses(si.ID) {
		var body struct {
			Type   int   `json:"type"`
			Flags  int   `json:"flags"`
			Embeds []any `json:"embeds"`
		}
		r.Decode(&body)
		ok := r.Status/100 == 2
		switch {
		case strings.HasSuffix(r.Path, "/callback"):
			o.callbacks++
			if !ok {
				o.refused++
			}
			o.acked = o.acked || ok
			if ok && body.Type == 5 {
				o.deferred, o.deferral = true, r.Answered.Sub(si.SentAt)
			} else if ok {
				o.errors++
			}
		case r.Method == http.MethodPatch && strings.HasSuffix(r.Path, "/@original") && ok && len(body.Embeds) > 0:
			if o.answers == 0 {
				o.answer, o.stories = r.Answered.Sub(si.SentAt), len(body.Embeds)-1
			}
			o.answers++
		case r.Method == http.MethodDelete && ok, r.Method == http.MethodPost && ok && body.Flags&64 != 0:
			o.errors++
		}
	}
	return o
}

// waitBurstOutcome waits until an interaction has its answer or an error
// reply, or its callback was refused (it can then never be answered), or
// ctx is done, and returns what was seen.
func waitBurstOutcome(ctx context.Context, srv *fakediscord.Server, si fakediscord.SentInteraction) burstOutcome {
	for {
		o := burstOutcomeOf(srv, si)
		if o.answers > 0 || o.errors > 0 || (o.refused > 0 && !o.acked) || ctx.Err() != nil {
			return o
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// burstPercentiles formats the median, 99th percentile and maximum of ds.
func burstPercentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(ds))+0.999999) - 1
		return ds[max(0, min(i, len(ds)-1))].Round(time.Millisecond)
	}
	return fmt.Sprintf("p50 %v  p99 %v  max %v  (n=%d)", at(0.50), at(0.99), ds[len(ds)-1].Round(time.Millisecond), len(ds))
}

// burstFeed is one outlet's RSS feed: its report of every event of every
// theme, published over the last three days, each long enough (about
// 170 words) that no article page is fetched.
func burstFeed(outlet string, o int, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link>`, outlet, outlet)
	places := []string{"Seoul", "Geneva", "London", "Nairobi", "Jakarta", "Brussels"}
	for t, th := range burstThemes {
		for e, ev := range th.events {
			n := t*len(th.events) + e
			published := now.Add(-time.Duration(n*2+o)*time.Hour - 10*time.Minute)
			place := places[(n+o)%len(places)]
			var text strings.Builder
			fmt.Fprintf(&text, "%s %s on %s, officials in %s said. ", th.subject, ev, published.Weekday(), place)
			fmt.Fprintf(&text, "The %s learned that %d people were briefed on the decision before it was announced. ", outlet, 12+n*3+o)
			fmt.Fprintf(&text, "Reporters in %s said the news %s was expected by most observers. ", place, strings.ToLower(th.subject)+" "+ev)
			for s := range 6 {
				text.WriteString(burstSentence(fmt.Sprint(outlet, n, s), th.subject) + " ")
			}
			fmt.Fprintf(&b, `<item><title>%s %s</title><link>https://%s.example/%s/%d</link><guid>%s-%d</guid><pubDate>%s</pubDate><description>%s</description></item>`,
				th.subject, strings.Fields(ev)[0]+" "+strings.Join(strings.Fields(ev)[1:min(6, len(strings.Fields(ev)))], " "),
				outlet, th.topic, e, outlet, n, published.Format(time.RFC1123Z), text.String())
		}
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// burstSentence is a plausible sentence of 15 to 20 words, different for
// every seed, that mentions subject.
func burstSentence(seed, subject string) string {
	words := strings.Fields("the council minister said talks would continue next week while critics warned that budget trade border court vote storm harvest factory strike bridge river school market envoy summit spokesman report figures officials analysts")
	h := fnv.New64a()
	h.Write([]byte(seed))
	x := h.Sum64() | 1
	n := 15 + int(x%6)
	out := make([]string, 0, n+2)
	for i := range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out = append(out, words[x%uint64(len(words))])
		if i == n/2 {
			out = append(out, "for", strings.ToLower(subject))
		}
	}
	s := strings.Join(out, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

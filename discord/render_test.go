package discord

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/briefbot/briefbot/digest"
)

// The -update flag rewrites golden files. Another test file of this
// package may define it too, so it is registered only if missing and read
// through the flag set.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

// renderUpdating reports whether -update was given.
func renderUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// renderT0 is the fixed time of the golden briefings.
var renderT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// renderNormalBriefing is a two-story briefing written by the model.
func renderNormalBriefing() digest.Briefing {
	talks := digest.Story{ID: "s1", Articles: []digest.Article{
		{ID: "a1", Outlet: "Global Wire", Title: "Envoys meet in Stockholm as talks stall", URL: "https://wire.example/envoys", Published: renderT0},
		{ID: "a2", Outlet: "Morning Herald", Title: "Talks: US came *empty-handed*, says envoy", URL: "https://herald.example/talks", Published: renderT0.Add(2 * time.Hour)},
	}}
	launch := digest.Story{ID: "s2", Articles: []digest.Article{
		{ID: "a3", Outlet: "Policy Review", Title: "Two short-range missiles fired", URL: "https://policy.example/missiles", Published: renderT0.Add(-6 * time.Hour)},
	}}
	return digest.Briefing{
		Topic: "korea-talks", Query: `"north korea" OR pyongyang`,
		From: renderT0.Add(-21 * time.Hour), To: renderT0.Add(3 * time.Hour),
		Lede:       "2 stories from 3 articles by 3 outlets on topic korea-talks in the last 24 hours.",
		Summarizer: digest.SummarizerLLM, Model: "gpt-4o-mini", Matched: 3,
		Stories: []digest.BriefStory{
			{Story: talks, Headline: "Envoys meet in Stockholm as talks stall", Bullets: []digest.Bullet{
				{Text: "Envoys met for eight hours on sanctions relief and the Yongbyon complex, a Swedish official said.", Citations: []int{0, 1}},
				{Text: "The chief negotiator said Washington came \"empty-handed\".", Citations: []int{1}},
			}},
			{Story: launch, Headline: "Two short-range missiles fired", Bullets: []digest.Bullet{
				{Text: "The missiles flew about 400 kilometres before landing in the sea, the military said.", Citations: []int{0}},
			}},
		},
	}
}

// renderLongBriefing has twelve stories of four long bullets: more than
// one message holds.
func renderLongBriefing() digest.Briefing {
	b := digest.Briefing{
		Topic: "markets", From: renderT0.Add(-24 * time.Hour), To: renderT0,
		Lede:       "12 stories from 36 articles by 6 outlets on topic markets in the last 24 hours.",
		Summarizer: digest.SummarizerExtractive, Matched: 36,
	}
	outlets := []string{"Global Wire", "Morning Herald", "Policy Review", "City Ledger", "Harbour Times", "Valley News"}
	for i := range 12 {
		var arts []digest.Article
		for j := range 3 {
			arts = append(arts, digest.Article{
				ID: fmt.Sprintf("a%d-%d", i, j), Outlet: outlets[(i+j)%len(outlets)],
				Title:     fmt.Sprintf("Story %d, report %d: exchanges react to the central bank's surprise decision", i+1, j+1),
				URL:       fmt.Sprintf("https://news%d.example/2026/03/02/story-%d", j, i+1),
				Published: renderT0.Add(-time.Duration(i*60+j*7) * time.Minute),
			})
		}
		var bullets []digest.Bullet
		for k := range 4 {
			bullets = append(bullets, digest.Bullet{
				Text: fmt.Sprintf("Point %d of story %d: traders, analysts and officials spent the day weighing what the decision means for lending, for savers and for the currency, "+
					"and several outlets quoted economists who expect a second move before the summer recess.", k+1, i+1),
				Citations: []int{k % 3, (k + 1) % 3},
			})
		}
		b.Stories = append(b.Stories, digest.BriefStory{
			Story:    digest.Story{ID: fmt.Sprintf("s%d", i), Articles: arts},
			Headline: fmt.Sprintf("Story %d: markets digest the rate decision", i+1),
			Bullets:  bullets,
		})
	}
	return b
}

// renderHostileBriefing is full of text that must not format, mention,
// link or time-stamp anything, and of text too long for its field.
func renderHostileBriefing() digest.Briefing {
	long := strings.Repeat("The statement ran on and on, ", 200) // 5800 characters
	st := digest.Story{ID: "h1", Articles: []digest.Article{
		{ID: "h1a", Outlet: "@everyone News", Title: "**Breaking** <@123> [click](https://evil.example) ||spoiler||", URL: "https://good.example/a(1)?q=<x>&r=a b", Published: renderT0},
		{ID: "h1b", Outlet: "Script", Title: "javascript link", URL: "javascript:alert(1)", Published: renderT0.Add(time.Hour)},
		{ID: "h1c", Outlet: "Future <#42>", Title: "# Not a heading", URL: "https://good.example/future", Published: renderT0.Add(48 * time.Hour)},
		{ID: "h1d", Outlet: "Invite", Title: "Join discord.gg/raid or @\u0435veryone\u202e \uff20here", URL: "https://discord.gg/raid", Published: renderT0},
	}}
	return digest.Briefing{
		Query: "# everyone OR @here", From: renderT0.Add(-24 * time.Hour), To: renderT0,
		Lede:       "> quoted lede with <t:0:R> and @here\nsecond line",
		Summarizer: digest.SummarizerLLM, Model: "evil-model @everyone",
		Stories: []digest.BriefStory{{
			Story:    st,
			Headline: strings.Repeat("Headline that goes on ", 14) + "end", // 311 characters
			Bullets: []digest.Bullet{
				{Text: "Click [here](https://evil.example/phish) now, @everyone and @here, <@123> <@&456> <#789> <t:1:R>", Citations: []int{0, 1, 7, -1, 0}},
				{Text: "- a list? 1. no `code` ~~strike~~ _under_ \\escape https://evil.example/bare <https://evil.example/angle>", Citations: []int{2}},
				{Text: long, Citations: []int{0}},
			},
		}},
	}
}

// renderEmptyBriefing matched nothing.
func renderEmptyBriefing() digest.Briefing {
	return digest.Briefing{
		Topic: "korea-talks", From: renderT0.Add(-24 * time.Hour), To: renderT0,
		Lede:       "Nothing matched topic korea-talks in the last 24 hours.",
		Summarizer: digest.SummarizerExtractive,
		Searched:   []string{"Global Wire", "Morning Herald", "Policy_Review*"},
	}
}

// renderFallbackBriefing was summarized without the language model.
func renderFallbackBriefing() digest.Briefing {
	b := renderNormalBriefing()
	b.Summarizer = digest.SummarizerExtractive
	b.FallbackReason = "summarized without the language model: llm: POST /chat/completions: 503 Service Unavailable"
	return b
}

// TestRenderGolden pins the JSON of rendered briefings; go test -update
// rewrites testdata/*.golden.
func TestRenderGolden(t *testing.T) {
	now := renderT0.Add(3 * time.Hour)
	tests := []struct {
		name     string
		briefing digest.Briefing
		messages int
	}{
		{"normal", renderNormalBriefing(), 1},
		{"long", renderLongBriefing(), 4},
		{"hostile", renderHostileBriefing(), 1},
		{"empty", renderEmptyBriefing(), 1},
		{"fallback", renderFallbackBriefing(), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := Render(tt.briefing, now)
			if len(msgs) != tt.messages {
				t.Errorf("Render made %d messages, want %d", len(msgs), tt.messages)
			}
			for _, err := range renderCheck(tt.briefing, msgs) {
				t.Error(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(msgs); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "render_"+tt.name+".golden")
			if renderUpdating() {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("Render %s mismatch (go test -update to accept):\n--- got\n%s\n--- want\n%s", tt.name, got, want)
			}
		})
	}
}

// TestRenderHostile checks what the hostile briefing must never show.
func TestRenderHostile(t *testing.T) {
	msgs := Render(renderHostileBriefing(), renderT0)
	all := renderAllText(msgs)
	for _, bad := range []string{"@everyone", "@here", "<@123>", "<@&456>", "<#789>", "<#42>", "<t:0:R>", "<t:1:R>", "](https://evil", "(<https://evil", "javascript:", "\n>", "\n#", "\n-", "evil.example", "discord.gg"} {
		if strings.Contains(all, bad) {
			t.Errorf("rendered text contains %q", bad)
		}
	}
	story := msgs[0].Embeds[1]
	if n := utf8.RuneCountInString(story.Title); n > renderMaxTitle || n < renderMaxTitle-30 || !strings.HasSuffix(story.Title, "…") {
		t.Errorf("long headline: %d characters %q, want cut to %d with …", n, story.Title, renderMaxTitle)
	}
	if cut := strings.TrimSuffix(story.Title, "…"); !strings.HasPrefix(renderHostileBriefing().Stories[0].Headline, cut+" ") {
		t.Errorf("headline not cut at a word: %q", story.Title)
	}
	if strings.HasPrefix(msgs[0].Embeds[0].Description, ">") {
		t.Errorf("lede starts a quote: %q", msgs[0].Embeds[0].Description)
	}
	lines := strings.Split(story.Description, "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d bullet lines, want 3:\n%s", len(lines), story.Description)
	}
	cut, ok := strings.CutSuffix(strings.TrimPrefix(renderCitesRE.ReplaceAllString(lines[2], ""), "• "), "…")
	if !ok || !strings.HasPrefix(renderHostileBriefing().Stories[0].Bullets[2].Text, cut+" ") {
		t.Errorf("long bullet not cut at a word with …: %q", lines[2][max(0, len(lines[2])-80):])
	}
	if want := `• Click \[here\]\(\(link removed\)\) now, everyone and here, @` + "\u200b" + `user @` + "\u200b" + `role #channel <` + "\u200b" + `t:1:R>`; !strings.HasPrefix(lines[0], want) {
		t.Errorf("fake link and mentions not defused:\n got %q\nwant %q…", lines[0], want)
	}
	// Citations: only the first article (linked once) and the second
	// (javascript: URL, not linked); 7 and -1 are not articles.
	if want := ` [1](<https://good.example/a%281%29?q=%3Cx%3E&r=a%20b>) \[2\]`; !strings.HasSuffix(lines[0], want) {
		t.Errorf("citations of %q, want suffix %q", lines[0], want)
	}
}

// TestRenderHugeHeader checks that a header whose every part is too long
// still fits one message.
func TestRenderHugeHeader(t *testing.T) {
	huge := strings.Repeat("word ", 3000)
	b := digest.Briefing{Topic: huge, Lede: huge, Summarizer: digest.SummarizerLLM, Model: huge, FallbackReason: huge,
		From: renderT0.Add(-time.Hour), To: renderT0, Searched: strings.Fields(huge)}
	b.Stories = []digest.BriefStory{{Headline: huge, Bullets: []digest.Bullet{{Text: huge}}}}
	msgs := Render(b, renderT0)
	for _, err := range renderCheck(b, msgs) {
		t.Error(err)
	}
	b.Stories = nil
	msgs = Render(b, renderT0)
	for _, err := range renderCheck(b, msgs) {
		t.Error(err)
	}
	if !strings.Contains(msgs[0].Embeds[0].Description, "Searched 3000 sources: word, word") {
		t.Errorf("searched sources not named: %q", msgs[0].Embeds[0].Description)
	}
}

// TestRenderManySources checks a story of more articles than an embed
// can list: the last ones are counted, not listed.
func TestRenderManySources(t *testing.T) {
	var st digest.BriefStory
	st.Headline = "A story told everywhere"
	for i := range 500 {
		st.Articles = append(st.Articles, digest.Article{Outlet: "Outlet", Title: fmt.Sprintf("Report %d", i),
			URL: fmt.Sprintf("https://n.example/%d", i), Published: renderT0})
	}
	st.Bullets = []digest.Bullet{{Text: "Everyone reported it.", Citations: []int{0, 499}}}
	b := digest.Briefing{Topic: "t", Stories: []digest.BriefStory{st}}
	msgs := Render(b, renderT0)
	for _, err := range renderCheck(b, msgs) {
		t.Error(err)
	}
	e := msgs[len(msgs)-1].Embeds[len(msgs[len(msgs)-1].Embeds)-1]
	if last := e.Fields[len(e.Fields)-1].Value; !strings.Contains(last, "more sources_") {
		t.Errorf("no count of sources left out in %q", last[max(0, len(last)-100):])
	}
	if !strings.Contains(e.Description, "[500](<https://n.example/499>)") {
		t.Errorf("citation of an unlisted source lost: %q", e.Description)
	}
}

// TestRenderEscape pins the escaping rules.
func TestRenderEscape(t *testing.T) {
	zw := "\u200b"
	tests := []struct {
		name, in  string
		lineStart bool
		want      string
	}{
		{"plain", "Talks resume in Geneva", true, "Talks resume in Geneva"},
		{"markdown", "*a* _b_ ~c~ `d` |e| \\f", false, `\*a\* \_b\_ \~c\~ \` + "`" + `d\` + "`" + ` \|e\| \\f`},
		{"masked link", "[x](https://evil)", false, `\[x\]\(https\://evil\)`},
		{"mentions", "@everyone @here <@123> <@&4> <#5>", false, "@" + zw + "everyone @" + zw + "here <" + zw + "@" + zw + "123> <" + zw + "@" + zw + "&4> <" + zw + "#5>"},
		{"timestamp", "<t:0:R>", false, "<" + zw + "t:0:R>"},
		{"heading", "# Big", true, `\# Big`},
		{"heading inline", "# Big", false, "# Big"},
		{"quote", "> said", true, `\> said`},
		{"list", "- item", true, `\- item`},
		{"subtext", "-# small", true, `\-# small`},
		{"numbered", "2026. A year", true, `2026\. A year`},
		{"number inline", "in 2026. A year", true, "in 2026. A year"},
		{"decimal", "1.5 million", true, "1.5 million"},
		{"bare url", "see http://x.example and ftp://y", false, `see http\://x.example and ftp\://y`},
		{"emoji", "👍🏽 ok: fine", false, "👍🏽 ok: fine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(renderEscapeUnits(tt.in, tt.lineStart), "")
			if got != tt.want {
				t.Errorf("renderEscapeUnits(%q, %v) = %q, want %q", tt.in, tt.lineStart, got, tt.want)
			}
		})
	}
}

// TestRenderClean checks that outside text loses what it must not carry.
func TestRenderClean(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"  a\n\n b\t c ", 100, "a b c"},
		{"@\u200beveryone", 100, "everyone"},
		{"a\u202eb\u0000c", 100, "abc"},
		{"a\u2066b\u2069\u200e\u200f\u061cc", 100, "abc"},
		{"cele\u00adbrated by mem\u200cbers, chair\u200dman, four\u180e, wo\u2060rd\ufeff", 100, "celebrated by members, chairman, four, word"},
		{"👨\u200d👩\u200d👧 ok", 100, "👨\u200d👩\u200d👧 ok"},
		{"می\u200cخواهم", 100, "می\u200cخواهم"},
		{"🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F flag", 100, "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F flag"},
		{"stray\U000E0067 tag", 100, "stray tag"},
		{"\u200d@\u200deveryone\u200d", 100, "everyone"},
		// A removed address leaves room for more text.
		{"see https://evil.example/" + strings.Repeat("x", 400) + " and then the rest of the title", 30, "see (link removed) and then the rest of the title"},
		{"bad \xff utf8", 100, "bad \ufffd utf8"},
		{"ab  cd ef", 3, "ab "},
		{"ab  cd ef", 4, "ab c"},
		{"ééé", 2, "éé"},
	}
	for _, tt := range tests {
		if got := renderClean(tt.in, tt.limit); got != tt.want {
			t.Errorf("renderClean(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

// TestRenderCut checks cutting at word boundaries and never inside an
// escape.
func TestRenderCut(t *testing.T) {
	tests := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"fits", "one two three", 13, "one two three"},
		{"word", "one two three", 12, "one two…"},
		{"long word", "abcdefghijklmnop", 8, "abcdefg…"},
		{"escape whole", "ab*cd", 4, "ab…"},
		{"code points", "ééé ééé", 6, "ééé…"},
		{"zero", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderCut(renderEscapeUnits(tt.in, false), tt.limit)
			if got != tt.want {
				t.Errorf("renderCut(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.limit {
				t.Errorf("renderCut(%q, %d) has %d characters", tt.in, tt.limit, n)
			}
		})
	}
}

// TestRenderLinkURL checks which URLs are linked and how they are made
// safe inside <…>.
func TestRenderLinkURL(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://a.example/x?y=1#z", "https://a.example/x?y=1#z", true},
		{"http://a.example/wiki/Foo_(bar)", "http://a.example/wiki/Foo_%28bar%29", true},
		{"https://a.example/<script> x", "https://a.example/%3Cscript%3E%20x", true},
		{"https://a.example/é", "https://a.example/%C3%A9", true},
		{"javascript:alert(1)", "", false},
		{"ftp://a.example/", "", false},
		{"https://user@a.example/", "", false},
		{"//a.example/", "", false},
		{"https:///path", "", false},
		{"", "", false},
		{"https://a.example/" + strings.Repeat("x", renderMaxURL), "", false},
		{"https://discord.gg/raid", "", false},
		{"https://www.Discord.GG./raid", "", false},
		{"https://discord.com/invite/x", "", false},
		{"https://discordapp.com/invite/x", "", false},
		{"https://discord.gift/FREE", "", false},
		{"https://discord.com/channels/1/2", "https://discord.com/channels/1/2", true},
	}
	for _, tt := range tests {
		got, ok := renderLinkURL(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("renderLinkURL(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRenderRandom renders seeded random briefings and checks every
// property: limits, bullets kept in order or counted as dropped, and link
// targets.
func TestRenderRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	messages, fullByCount := 0, 0
	for i := range 200 {
		b := renderRandomBriefing(r)
		msgs := Render(b, renderT0)
		messages += len(msgs)
		for _, m := range msgs[:len(msgs)-1] {
			if len(m.Embeds) == renderMaxEmbeds {
				fullByCount++
			}
		}
		for _, err := range renderCheck(b, msgs) {
			t.Errorf("briefing %d: %v", i, err)
		}
		if t.Failed() {
			return
		}
	}
	if messages < 300 {
		t.Errorf("only %d messages for 200 briefings: the generator does not exercise splitting", messages)
	}
	if fullByCount == 0 {
		t.Errorf("no message was split for holding %d embeds", renderMaxEmbeds)
	}
}

// renderWords are the pieces random text is made of: plain words,
// markdown, mentions, fake links, timestamps and multi-byte text.
var renderWords = []string{
	"the", "minister", "said", "on", "Tuesday", "talks", "would", "resume", "1.", "#", ">", "-",
	"*bold*", "__under__", "~~gone~~", "`code`", "||spoiler||", "\\", "@everyone", "@here",
	"<@123>", "<@&456>", "<#789>", "<t:0:R>", "[x](https://evil.example)", "https://evil.example/bare",
	"<https://evil.example>", "(aside)", "café", "漢字", "👍🏽", "🇰🇷", "ok:", "://",
	"discord.gg/raid", "www.evil.example", "evil.example/x", "@\u200beveryone", "@\u0435veryone", "\uff20here", "@@here",
	"<\u200b@&456>", "</brief:1>", "<:pepe:123>", "\u202e", "\u2066", "\u200d", "\u00ad", "👨\u200d👩",
}

// renderRandomText returns n random words joined by single spaces.
func renderRandomText(r *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = renderWords[r.IntN(len(renderWords))]
	}
	return strings.Join(w, " ")
}

// renderRandomBriefing makes a briefing of 0 to 39 stories, with bullets
// and titles from short to far too long, and URLs good and bad.
func renderRandomBriefing(r *rand.Rand) digest.Briefing {
	b := digest.Briefing{
		Topic: renderRandomText(r, r.IntN(4)), From: renderT0.Add(-24 * time.Hour), To: renderT0,
		Lede: renderRandomText(r, r.IntN(30)), Summarizer: digest.SummarizerLLM, Model: "m",
	}
	if r.IntN(10) == 0 {
		b.Lede = renderRandomText(r, r.IntN(1200))
	}
	if r.IntN(4) == 0 {
		b.FallbackReason = "summarized without the language model: " + renderRandomText(r, r.IntN(600))
	}
	for range r.IntN(20) {
		b.Searched = append(b.Searched, renderRandomText(r, 1+r.IntN(3)))
	}
	// One briefing in five has many small stories, to fill messages by
	// embed count rather than by characters.
	stories, small := r.IntN(16), r.IntN(5) == 0
	if small {
		stories = 10 + r.IntN(30)
	}
	for s := range stories {
		var st digest.BriefStory
		st.ID = strconv.Itoa(s)
		articles := r.IntN(8) + r.IntN(2)*r.IntN(2)*r.IntN(40)
		if small {
			articles = r.IntN(2)
		}
		for a := range articles {
			art := digest.Article{
				Outlet:    renderRandomText(r, r.IntN(4)),
				Title:     renderRandomText(r, r.IntN(15)+r.IntN(2)*r.IntN(2)*r.IntN(80)),
				URL:       fmt.Sprintf("https://n%d.example/%d/%d", r.IntN(5), s, a),
				Published: renderT0.Add(time.Duration(r.IntN(60)-50) * time.Hour),
			}
			switch r.IntN(10) {
			case 0:
				art.URL = ""
			case 1:
				art.URL = "javascript:alert(1)"
			case 2:
				art.URL += "/" + strings.Repeat("path(x)/", r.IntN(80))
			case 3:
				art.Published = time.Time{}
			}
			st.Articles = append(st.Articles, art)
		}
		st.Headline = renderRandomText(r, r.IntN(12)+r.IntN(4)/3*r.IntN(120))
		bullets := r.IntN(5) + r.IntN(2)*r.IntN(2)*r.IntN(30)
		if small {
			bullets = r.IntN(2)
		}
		for range bullets {
			n := r.IntN(40)
			if r.IntN(30) == 0 {
				n = 400 + r.IntN(1000)
			}
			bl := digest.Bullet{Text: renderRandomText(r, n)}
			for range r.IntN(4) {
				bl.Citations = append(bl.Citations, r.IntN(len(st.Articles)+2)-1)
			}
			st.Bullets = append(st.Bullets, bl)
		}
		b.Stories = append(b.Stories, st)
	}
	return b
}

// renderAllText joins every text of every message, for searching.
func renderAllText(msgs []Message) string {
	var sb strings.Builder
	for _, m := range msgs {
		sb.WriteString(m.Content + "\n")
		for _, e := range m.Embeds {
			sb.WriteString(e.Title + "\n" + e.Description + "\n")
			for _, f := range e.Fields {
				sb.WriteString(f.Name + "\n" + f.Value + "\n")
			}
			if e.Footer != nil {
				sb.WriteString(e.Footer.Text + "\n")
			}
			if e.Author != nil {
				sb.WriteString(e.Author.Name + "\n")
			}
		}
	}
	return sb.String()
}

var (
	// renderLinkRE matches a masked link and captures its target.
	renderLinkRE = regexp.MustCompile(`\]\(<([^>]*)>\)`)
	// renderCitesRE matches the citations at the end of a bullet line.
	renderCitesRE = regexp.MustCompile(`(?: (?:\[\d+\]\(<[^>]*>\)|\\\[\d+\\\]))+$`)
	// renderOwnRE matches the "<" that the renderer itself writes: its
	// timestamps and the targets of masked links.
	renderOwnRE = regexp.MustCompile(`<t:\d+:[fR]>|\(<https?://[^>]*>\)`)
	// renderNoteRE matches a "…and N more" note.
	renderNoteRE = regexp.MustCompile(`^_…and (\d+) more (bullet|source)s?_$`)
	// renderSourceRE matches the start of a source line.
	renderSourceRE = regexp.MustCompile(`^\\\[(\d+)\\\] `)
)

// renderAddressRE matches a web address: a scheme, www., or a domain
// name or IPv4 address followed by a path.
var renderAddressRE = regexp.MustCompile(`(?i)[\p{L}\p{N}+.-]+://\S|\bwww\.[\p{L}\p{N}-]|\b[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}(?::\d+)?/|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?/`)

// renderMentionRE matches, in folded text, what Discord would make a
// mention.
var renderMentionRE = regexp.MustCompile(`@(?:everyone|here)|<@[!&]?\d+>|<#\d+>|</[^\s<>:]+:\d+>`)

// renderCheckInvisible reports invisible characters in rendered text:
// only the zero-width space that escapes @ and <, joiners inside emoji
// and non-Latin words, and the tags of an emoji flag may be there.
func renderCheckInvisible(all string) []error {
	var errs []error
	rs := []rune(all)
	for i, r := range rs {
		if r == '\n' || !(unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			continue
		}
		prev, next := rune(0), rune(0)
		if i > 0 {
			prev = rs[i-1]
		}
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case r == '\u200b' && (prev == '@' || prev == '<'):
		case (r == '\u200d' || r == '\u200c') && prev >= utf8.RuneSelf && next >= utf8.RuneSelf:
		case r >= 0xE0020 && r <= 0xE007F && (prev == 0x1F3F4 || prev >= 0xE0020 && prev <= 0xE007F):
		default:
			errs = append(errs, fmt.Errorf("invisible U+%04X in %q", r, string(rs[max(0, i-20):min(len(rs), i+20)])))
		}
	}
	return errs
}

// renderUnescape undoes renderEscapeUnits.
func renderUnescape(s string) string {
	s = strings.ReplaceAll(s, "\u200b", "")
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// renderCheck returns every way msgs, rendered from b, break a limit or a
// promise of Render.
func renderCheck(b digest.Briefing, msgs []Message) []error {
	var errs []error
	errf := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	count := utf8.RuneCountInString
	if len(msgs) == 0 {
		return []error{fmt.Errorf("no messages")}
	}
	var stories []*discordgo.MessageEmbed
	for mi, m := range msgs {
		if n := count(m.Content); n > renderMaxContent {
			errf("message %d: content has %d characters", mi, n)
		}
		if len(m.Embeds) == 0 || len(m.Embeds) > renderMaxEmbeds {
			errf("message %d: %d embeds", mi, len(m.Embeds))
		}
		total := 0
		for ei, e := range m.Embeds {
			total += renderEmbedLen(e)
			where := fmt.Sprintf("message %d embed %d", mi, ei)
			if n := count(e.Title); n > renderMaxTitle {
				errf("%s: title has %d characters", where, n)
			}
			if n := count(e.Description); n > renderMaxDesc {
				errf("%s: description has %d characters", where, n)
			}
			if len(e.Fields) > renderMaxFields {
				errf("%s: %d fields", where, len(e.Fields))
			}
			for _, f := range e.Fields {
				if n := count(f.Name); n == 0 || n > renderMaxFieldName {
					errf("%s: field name has %d characters", where, n)
				}
				if n := count(f.Value); n == 0 || n > renderMaxFieldValue {
					errf("%s: field value has %d characters", where, n)
				}
			}
			if e.Footer != nil && count(e.Footer.Text) > renderMaxFooter {
				errf("%s: footer has %d characters", where, count(e.Footer.Text))
			}
			if e.Author != nil && count(e.Author.Name) > renderMaxAuthor {
				errf("%s: author has %d characters", where, count(e.Author.Name))
			}
			if e.Title == "" && e.Description == "" {
				errf("%s: empty embed", where)
			}
			if mi > 0 || ei > 0 {
				stories = append(stories, e)
			}
		}
		if total > renderMaxTotal {
			errf("message %d: embeds have %d characters", mi, total)
		}
	}
	all := renderAllText(msgs)
	if !utf8.ValidString(all) {
		errf("invalid UTF-8")
	}
	if strings.Contains(all, "@everyone") || strings.Contains(all, "@here") {
		errf("raw @everyone or @here")
	}
	// As a reader sees it, with look-alike letters folded: no mention
	// and no web address but the targets of the renderer's own links.
	seen := renderUnescape(renderOwnRE.ReplaceAllString(all, ""))
	if m := renderMentionRE.FindString(digest.Skeleton(seen)); m != "" {
		errf("mention %q in %q", m, seen)
	}
	if m := renderAddressRE.FindString(seen); m != "" {
		errf("web address %q in %q", m, seen)
	}
	errs = append(errs, renderCheckInvisible(all)...)
	for i, r := range strings.Split(renderOwnRE.ReplaceAllString(all, ""), "<") {
		if i > 0 && !strings.HasPrefix(r, "\u200b") {
			errf("live < in %q", r[:min(len(r), 40)])
		}
	}
	if len(stories) != len(b.Stories) {
		errf("%d story embeds for %d stories", len(stories), len(b.Stories))
		return errs
	}
	for si, e := range stories {
		errs = append(errs, renderCheckStory(b.Stories[si], e, si)...)
	}
	return errs
}

// renderCheckStory checks one story's embed: links point only at the
// story's own articles, bullets come whole and in order or are counted
// as dropped, and every source is listed or counted.
func renderCheckStory(s digest.BriefStory, e *discordgo.MessageEmbed, si int) []error {
	var errs []error
	errf := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("story %d: "+format, append([]any{si}, args...)...))
	}
	count := utf8.RuneCountInString
	allowed := make(map[string]bool)
	for _, a := range s.Articles {
		if u, ok := renderLinkURL(a.URL); ok {
			allowed[u] = true
		}
	}
	if e.URL != "" && !allowed[e.URL] {
		errf("embed URL %q is not an article URL", e.URL)
	}
	texts := []string{e.Title, e.Description}
	for _, f := range e.Fields {
		texts = append(texts, f.Value)
	}
	for _, text := range texts {
		for _, m := range renderLinkRE.FindAllStringSubmatch(text, -1) {
			if !allowed[m[1]] {
				errf("link to %q, not an article URL", m[1])
			}
		}
		rest := renderLinkRE.ReplaceAllString(text, "")
		if i := strings.Index(strings.ReplaceAll(rest, `\]\(`, ""), "]("); i >= 0 {
			errf("unexpected ]( in %q", rest)
		}
		if i := strings.Index(strings.ReplaceAll(rest, `\://`, ""), "://"); i >= 0 {
			errf("bare URL in %q", rest)
		}
	}

	// Bullets.
	shown, dropped := 0, 0
	for _, line := range strings.Split(e.Description, "\n") {
		if line == "" {
			continue
		}
		if m := renderNoteRE.FindStringSubmatch(line); m != nil && m[2] == "bullet" {
			dropped, _ = strconv.Atoi(m[1])
			continue
		}
		if !strings.HasPrefix(line, "• ") {
			errf("line %q is no bullet", line)
			continue
		}
		if shown >= len(s.Bullets) {
			errf("more bullets than the story has")
			break
		}
		got := renderUnescape(strings.TrimPrefix(renderCitesRE.ReplaceAllString(line, ""), "• "))
		// renderClean is table-tested on its own (TestRenderClean).
		want := renderClean(s.Bullets[shown].Text, math.MaxInt)
		if got != want {
			cut, ok := strings.CutSuffix(got, "…")
			if !ok || !strings.HasPrefix(want, cut) {
				errf("bullet %d = %q, want %q", shown, got, want)
			} else if full := count("• ") + count(strings.Join(renderEscapeUnits(want, false), "")) +
				count(renderCitesRE.FindString(line)); full < renderMaxDesc-renderNoteReserve {
				errf("bullet %d of %d characters cut though it fits a description", shown, full)
			}
		}
		shown++
	}
	if shown+dropped != len(s.Bullets) {
		errf("%d bullets shown and %d counted as dropped, want %d", shown, dropped, len(s.Bullets))
	}

	// Sources.
	listed, more := 0, 0
	for _, f := range e.Fields {
		for _, line := range strings.Split(f.Value, "\n") {
			if m := renderNoteRE.FindStringSubmatch(line); m != nil && m[2] == "source" {
				more, _ = strconv.Atoi(m[1])
				continue
			}
			m := renderSourceRE.FindStringSubmatch(line)
			if m == nil || m[1] != strconv.Itoa(listed+1) {
				errf("source line %q, want number %d", line, listed+1)
			}
			listed++
		}
	}
	if listed+more != len(s.Articles) {
		errf("%d sources listed and %d counted, want %d", listed, more, len(s.Articles))
	}
	return errs
}

func TestRenderUpdateTitle(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	a := digest.Article{ID: "a", Outlet: "Wire", Title: "Talks *resume*", URL: "https://news.example/a", Published: now}
	tests := []struct {
		name, headline string
		update         bool
		want           string
	}{
		{"new story", "Talks *resume*", false, `Talks \*resume\*`},
		{"update", "Talks *resume*", true, `Update: Talks \*resume\*`},
		{"update without a headline", "", true, `Update: Talks \*resume\*`},
		{"update without any title", "\u200b", true, "Update: Untitled story"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			art := a
			if tt.want == "Update: Untitled story" {
				art.Title = ""
			}
			e := renderStory(digest.BriefStory{Story: digest.Story{ID: "s", Articles: []digest.Article{art}, Update: tt.update}, Headline: tt.headline}, now)
			if e.Title != tt.want {
				t.Errorf("title %q, want %q", e.Title, tt.want)
			}
		})
	}
}

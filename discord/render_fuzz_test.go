package discord

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/briefbot/briefbot/digest"
)

// FuzzRender renders briefings whose topic, query, lede, headlines,
// bullets, outlets, titles, URLs and publication times come from the
// fuzzer, and checks, through renderCheck, every Discord limit (content
// 2000 characters, 10 embeds, title 256, description 4096, field value
// 1024, 6000 per message, …), that the only links are the story's own
// article URLs and that no mention is left, even through look-alike or
// invisible characters. It also checks that no "@everyone" or "@here" is
// left in any case, that every "@" is followed by a zero-width space, and
// that Render is deterministic. That allowed_mentions parses nothing is
// pinned by TestRenderPostNoMentions.
func FuzzRender(f *testing.F) {
	f.Add("Talks resume", "Envoys met [x](https://evil) @everyone <@1>", "Wire", "Title *", "https://a.example/x", 3)
	f.Add(strings.Repeat("long ", 80), strings.Repeat("word ", 1000), "@here", "<t:0:R>", "javascript:x", 12)
	f.Add("", "", "", "", "", 0)
	f.Add("@\u200beveryone \uff20here @\u0435veryone", "join discord.gg/x or www.evil.example or 10.0.0.1/x", "<\u200b@&1> </brief:1>",
		"\u202eevil\u2066 chair\u200dman 👨\u200d👩", "https://discord.gg/raid", 2)
	f.Add("hxxps://evil[.]example", "<https://evil.example/a>.", "@@here", "<:pepe:123> <a:x:1>", "https://a.example/x", 1)
	f.Add("@EVERYONE @Here", "1. list\n- item\n# head\n> quote", "Out`let`", "T~~i~~tle ||s||", "https://a.example/"+strings.Repeat("(x)", 300), 15)
	f.Add("<\u2060@123> <\u00ad#789>", strings.Repeat("é", 5000), "@\u200d\u200deveryone", "\u0000\u001b[31m", "HTTPS://User:pw@A.example:443/x#f", 7)
	f.Fuzz(func(t *testing.T, headline, bullet, outlet, title, link string, n int) {
		// n also sets how far from now (in days, either way) the
		// articles were published.
		pub := renderT0.Add(time.Duration(n%1000-500) * 24 * time.Hour)
		n = max(0, min(n, 15))
		b := digest.Briefing{Topic: headline, Query: title + " " + headline, Lede: bullet, Summarizer: digest.SummarizerLLM, Model: outlet,
			FallbackReason: title, Searched: []string{outlet, title}, From: renderT0.Add(-time.Hour), To: renderT0}
		for i := range n {
			st := digest.BriefStory{Headline: headline}
			for j := range i%5 + 1 {
				st.Articles = append(st.Articles, digest.Article{Outlet: outlet, Title: title, URL: link, Published: pub})
				st.Bullets = append(st.Bullets, digest.Bullet{Text: bullet, Citations: []int{j, j - 1, j + 1}})
			}
			b.Stories = append(b.Stories, st)
		}
		msgs := Render(b, renderT0)
		for _, err := range renderCheck(b, msgs) {
			t.Error(err)
		}
		all := renderAllText(msgs)
		if l := strings.ToLower(all); strings.Contains(l, "@everyone") || strings.Contains(l, "@here") {
			t.Errorf("raw mention in %q", all)
		}
		for i, r := range strings.Split(all, "@") {
			if i > 0 && !strings.HasPrefix(r, "\u200b") {
				t.Errorf("live @ in %q", r[:min(len(r), 40)])
			}
		}
		if again := Render(b, renderT0); !renderSameMessages(again, msgs) {
			t.Error("Render is not deterministic")
		}
	})
}

// renderSameMessages reports whether two renderings are the same, as
// Discord would receive them.
func renderSameMessages(a, b []Message) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// TestRenderPostNoMentions pins what FuzzRender relies on: messages are
// posted with allowed_mentions parsing nothing, so even a mention the
// renderer missed would notify no one.
func TestRenderPostNoMentions(t *testing.T) {
	data, err := json.Marshal(&discordgo.MessageSend{Content: "@everyone", AllowedMentions: noMentions()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"allowed_mentions":{"parse":[]`) {
		t.Errorf("posted as %s, want allowed_mentions parsing nothing", data)
	}
}

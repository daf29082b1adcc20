package main

import (
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/internal/fakeopenai"
)

// TestGuildMonthlyTokens checks llm.guild_monthly_tokens: a server's
// briefings use the language model until its tokens this month reach the
// allowance, then are extractive and say why, on /brief and on a
// scheduled post, while other servers and the next month are not held
// back; usage is recorded per server.
func TestGuildMonthlyTokens(t *testing.T) {
	start := time.Date(2026, 5, 30, 7, 0, 0, 0, time.UTC)
	e := newSchedEnv(t, schedOptions{start: start, llm: true})
	e.cfg.LLM.GuildMonthlyTokens = 1500
	e.llm.Otherwise(fakeopenai.Response{Func: func(r fakeopenai.Request) fakeopenai.Response {
		resp := titleReply(r)
		resp.Usage = &fakeopenai.Usage{PromptTokens: 1000, CompletionTokens: 100, TotalTokens: 1100}
		return resp
	}})
	for i, title := range []string{"North Korea talks resume in Panmunjom", "North Korea envoy visits Hanoi",
		"North Korea launches missile near Wonsan", "North Korea and China hold talks in Dandong"} {
		e.article(string(rune('a'+i)), title, title+" on Saturday, officials in Seoul said. The talks were the first in months.", start.Add(-time.Hour), "")
	}
	brief := func(guild, query string) digest.Briefing {
		t.Helper()
		br, err := e.w.svc.Brief(t.Context(), discord.BriefRequest{GuildID: guild, Query: query, Since: 24 * time.Hour}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(br.Stories) != 1 {
			t.Fatalf("%s: %d stories, want 1", query, len(br.Stories))
		}
		return br
	}
	const spent = "this server's language-model allowance of 1,500 tokens for May is used up; it renews on 1 June (UTC)"

	if br := brief(schedGuild, "panmunjom"); br.Summarizer != digest.SummarizerLLM {
		t.Fatalf("first briefing: summarizer %q (%s), want the language model", br.Summarizer, br.FallbackReason)
	}
	calls := e.llm.Calls()
	// 1,100 of 1,500 used: the next call's reservation does not fit.
	br := brief(schedGuild, "hanoi")
	if br.Summarizer != digest.SummarizerExtractive || br.FallbackReason != "summarized without the language model: "+spent {
		t.Errorf("over the allowance: summarizer %q, reason %q", br.Summarizer, br.FallbackReason)
	}
	if e.llm.Calls() != calls {
		t.Errorf("%d calls made over the allowance", e.llm.Calls()-calls)
	}
	// Another server has its own allowance.
	if br := brief("100000000000000077", "hanoi"); br.Summarizer != digest.SummarizerLLM {
		t.Errorf("another server: summarizer %q (%s), want the language model", br.Summarizer, br.FallbackReason)
	}
	if n, err := e.store.GuildTokensSince(t.Context(), schedGuild, start); err != nil || n != 1100 {
		t.Errorf("server's tokens: %d, %v; want 1100", n, err)
	}

	// A scheduled post says so in its footer.
	sub := e.subscribe("200000000000000051", "daily 08:00", "UTC", nil)
	e.tick(time.Date(2026, 5, 30, 8, 0, 30, 0, time.UTC))
	posts := e.posts(sub.ChannelID)
	if len(posts) == 0 {
		t.Fatal("nothing posted")
	}
	if all := strings.Join(posts, "\n"); !strings.Contains(all, "allowance of 1,500 tokens for May is used up") {
		t.Errorf("the scheduled post does not say the allowance is used up:\n%s", all)
	}

	// A new month, a new allowance.
	e.clk.Set(time.Date(2026, 6, 1, 0, 5, 0, 0, time.UTC))
	e.article("e", "North Korea hosts delegation in Pyongyang", "North Korea hosts delegation in Pyongyang on Monday, officials said.", e.clk.Now().Add(-time.Minute), "")
	if br := brief(schedGuild, "delegation"); br.Summarizer != digest.SummarizerLLM {
		t.Errorf("next month: summarizer %q (%s), want the language model", br.Summarizer, br.FallbackReason)
	}
}

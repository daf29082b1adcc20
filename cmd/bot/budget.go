package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/llm"
	"github.com/briefbot/briefbot/sqlstore"
)

// guildKey keys, in a context, the Discord server a briefing is written
// for, so that the language-model calls it makes are counted against it.
type guildKey struct{}

// withGuild returns ctx carrying guildID ("" for the operator's own
// briefings).
func withGuild(ctx context.Context, guildID string) context.Context {
	return context.WithValue(ctx, guildKey{}, guildID)
}

// guildOf returns the server withGuild put in ctx, or "".
func guildOf(ctx context.Context) string {
	g, _ := ctx.Value(guildKey{}).(string)
	return g
}

// monthStart returns the first instant of t's UTC month: allowances and
// spend are counted per UTC month.
func monthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// briefingBudget returns the token budget of one briefing for a server:
// llm.input_budget and llm.output_budget, capped, when
// llm.guild_monthly_tokens is set, by what is left of the server's
// tokens this month. A server past its allowance gets a budget that
// allows no call, so its briefings are extractive and say why, until
// the month ends. Briefings written at the same moment may each take
// the last of the allowance, so a month can end above it by at most
// what they used. The operator's own briefings (guildID "") are not
// capped.
func briefingBudget(ctx context.Context, cfg *Config, store *sqlstore.Store, guildID string, now time.Time) (*digest.Budget, error) {
	b := digest.NewBudget(cfg.LLM.InputBudget, cfg.LLM.OutputBudget)
	limit := cfg.LLM.GuildMonthlyTokens
	if limit <= 0 || guildID == "" || !cfg.LLMEnabled() {
		return b, nil
	}
	since := monthStart(now)
	used, err := store.GuildTokensSince(ctx, guildID, since)
	if err != nil {
		return nil, err
	}
	renews := since.AddDate(0, 1, 0)
	reason := fmt.Sprintf("this server's language-model allowance of %s tokens for %s is used up; it renews on %s (UTC)",
		groupDigits(int64(limit)), since.Format("January"), renews.Format("2 January"))
	return b.Cap(int(max(0, int64(limit)-used)), reason), nil
}

// groupDigits writes n with thousands separators: 1,000,000.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// cost returns the estimated US dollars of prompt and completion tokens
// at prices per million.
func cost(prompt, completion int, inputPrice, outputPrice float64) float64 {
	return (float64(max(0, prompt))*inputPrice + float64(max(0, completion))*outputPrice) / 1e6
}

// alsoOnLLMCall makes a.onLLMCall call f too, after whatever it did.
// Call it before the summarizer is built (a.builder).
func (a *app) alsoOnLLMCall(f func(context.Context, llm.Call)) {
	prev := a.onLLMCall
	if prev == nil {
		a.onLLMCall = f
		return
	}
	a.onLLMCall = func(ctx context.Context, c llm.Call) {
		prev(ctx, c)
		f(ctx, c)
	}
}

// recordLLMUsage makes a.onLLMCall also record each language-model call
// in store (see usageRecorder), for `briefbot status` and the servers'
// monthly allowances.
func (a *app) recordLLMUsage(ctx context.Context, cfg *Config, store *sqlstore.Store, log *slog.Logger) {
	a.alsoOnLLMCall(usageRecorder(ctx, store, cfg.LLM.Model, a.now, log))
}

// usageRecorder returns an llm.Config.OnCall that adds each chat
// completion call, and the tokens its server reported, to the store's
// usage of model by the call's server (withGuild) on the day of now. A
// failure to record is logged; the call it counts is not affected. The
// values of base are kept, not its end, so the calls of a shutting-down
// bot still count.
func usageRecorder(base context.Context, store *sqlstore.Store, model string, now func() time.Time, log *slog.Logger) func(context.Context, llm.Call) {
	base = context.WithoutCancel(base)
	return func(ctx context.Context, c llm.Call) {
		u := sqlstore.LLMUsage{Model: model, GuildID: guildOf(ctx), Calls: 1,
			PromptTokens: int64(max(0, c.PromptTokens)), CompletionTokens: int64(max(0, c.CompletionTokens))}
		if c.Outcome != llm.CallOK {
			u.FailedCalls = 1
		}
		rctx, cancel := context.WithTimeout(base, 5*time.Second)
		defer cancel()
		if err := store.RecordLLMUsage(rctx, now(), u); err != nil {
			log.Warn("record language-model usage", "model", model, "guild", u.GuildID, "tokens", u.PromptTokens+u.CompletionTokens, "error", err)
		}
	}
}

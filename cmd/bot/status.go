package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

// Poll states of a source, as status counts them.
const (
	stateOK         = "ok"
	stateNew        = "new" // never polled successfully, no failure yet
	stateFailing    = "failing"
	stateBackingOff = "backing off"
	stateDisabled   = "disabled"
)

func (a *app) statusCommand() *cobra.Command {
	var format string
	var slots, deliveries int
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show sources by state, failing sources, the next briefings due, the last deliveries and this month's LLM spend",
		Long: `Show, from the database, what an owner checks first:

  sources by poll state (ok, new, failing, backing off, disabled), and
    the failing ones with their last error, failures in a row and next poll;
  the next --slots briefings due: guild, channel, topic, local slot time;
  the last --deliveries deliveries: posted, nothing new, failed or posting,
    when, and how many of their parts were posted;
  the language model's calls and tokens (prompt and completion) this
    month (UTC), as the endpoint reported them.

A source is failing when its last poll failed and it is due again, backing
off while it waits out the delay its failures earned.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if slots < 0 || deliveries < 0 || slots > 1000 || deliveries > 1000 {
				return fmt.Errorf("--slots and --deliveries take 0 to 1000")
			}
			return a.withStore(cmd, func(ctx context.Context, cfg *Config, store *sqlstore.Store) error {
				rep, err := gatherStatus(ctx, cfg, store, a.now(), slots, deliveries)
				if err != nil {
					return err
				}
				if format == "json" {
					return writeJSON(a.stdout, rep)
				}
				return writeStatus(a.stdout, rep)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVar(&slots, "slots", 5, "how many of the next briefing slots to show")
	cmd.Flags().IntVar(&deliveries, "deliveries", 10, "how many of the last deliveries to show")
	return cmd
}

// statusReport is `briefbot status`; its JSON field names are a public
// interface for scripts. Times absent (a source never polled, a slot not
// scheduled yet) are left out.
type statusReport struct {
	Now            time.Time        `json:"now"`
	Sources        sourceCounts     `json:"sources"`
	Failing        []failingSource  `json:"failing_sources"`
	Subscriptions  subscriptionInfo `json:"subscriptions"`
	NextSlots      []nextSlot       `json:"next_slots"`
	LastDeliveries []deliveryInfo   `json:"last_deliveries"`
	LLM            llmSpend         `json:"llm"`
}

type sourceCounts struct {
	Total      int `json:"total"`
	OK         int `json:"ok"`
	New        int `json:"new"`
	Failing    int `json:"failing"`
	BackingOff int `json:"backing_off"`
	Disabled   int `json:"disabled"`
}

type failingSource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// State is failing, backing_off or disabled.
	State       string     `json:"state"`
	Failures    int        `json:"failures"`
	LastError   string     `json:"last_error"`
	NextPoll    *time.Time `json:"next_poll,omitempty"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
}

type subscriptionInfo struct {
	Active int `json:"active"`
	Paused int `json:"paused"`
}

type nextSlot struct {
	Subscription int64  `json:"subscription"`
	GuildID      string `json:"guild_id"`
	ChannelID    string `json:"channel_id"`
	Topic        string `json:"topic"`
	Schedule     string `json:"schedule"`
	TimeZone     string `json:"time_zone"`
	// Slot is in the subscription's time zone; absent when the
	// subscription was never scheduled (it is due at once).
	Slot *time.Time `json:"slot,omitempty"`
}

type deliveryInfo struct {
	Key string `json:"key"`
	// Kind is briefing (a subscription's slot), brief (a /brief preview
	// posted with its button) or notice.
	Kind string `json:"kind"`
	// Outcome is posted, nothing_new, failed or posting.
	Outcome      string     `json:"outcome"`
	Subscription int64      `json:"subscription,omitempty"`
	GuildID      string     `json:"guild_id,omitempty"`
	ChannelID    string     `json:"channel_id"`
	Topic        string     `json:"topic,omitempty"`
	Slot         *time.Time `json:"slot,omitempty"` // in the subscription's time zone
	When         time.Time  `json:"when"`           // last change
	Parts        int        `json:"parts"`
	PartsPosted  int        `json:"parts_posted"`
	Articles     int        `json:"articles"`
	Error        string     `json:"error,omitempty"`
}

type llmSpend struct {
	Configured bool   `json:"configured"`
	Model      string `json:"model,omitempty"` // the configured one
	// Since is the start of the month, UTC.
	Since            time.Time `json:"since"`
	Calls            int64     `json:"calls"`
	FailedCalls      int64     `json:"failed_calls"`
	PromptTokens     int64     `json:"prompt_tokens"`
	CompletionTokens int64     `json:"completion_tokens"`
	// EstimatedCostUSD is the tokens at llm.input_price_per_million and
	// output_price_per_million; absent without prices.
	EstimatedCostUSD *float64   `json:"estimated_cost_usd,omitempty"`
	Models           []llmModel `json:"models"`
	// GuildMonthlyTokens is llm.guild_monthly_tokens (0: no allowance).
	GuildMonthlyTokens int        `json:"guild_monthly_tokens"`
	Guilds             []llmGuild `json:"guilds"`
}

// llmGuild is one Discord server's use this month ("" is the operator's
// `briefbot brief`).
type llmGuild struct {
	GuildID string `json:"guild_id"`
	Calls   int64  `json:"calls"`
	Tokens  int64  `json:"tokens"`
	// Spent is set when the server has used its allowance up.
	Spent bool `json:"spent"`
}

type llmModel struct {
	Model            string `json:"model"`
	Calls            int64  `json:"calls"`
	FailedCalls      int64  `json:"failed_calls"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
}

// pollState says how a source's polling goes at now.
func pollState(s digest.Source, now time.Time) string {
	switch {
	case s.State.Disabled:
		return stateDisabled
	case s.State.Failures > 0 && s.State.NextPoll.After(now):
		return stateBackingOff
	case s.State.Failures > 0:
		return stateFailing
	case s.State.LastSuccess.IsZero():
		return stateNew
	}
	return stateOK
}

// gatherStatus reads the report from the store.
func gatherStatus(ctx context.Context, cfg *Config, store *sqlstore.Store, now time.Time, slots, deliveries int) (statusReport, error) {
	rep := statusReport{Now: now, Failing: []failingSource{}, NextSlots: []nextSlot{}, LastDeliveries: []deliveryInfo{}}

	srcs, err := store.Sources(ctx)
	if err != nil {
		return rep, err
	}
	rank := map[string]int{stateFailing: 0, stateBackingOff: 1, stateDisabled: 2}
	for _, s := range srcs {
		rep.Sources.Total++
		state := pollState(s, now)
		switch state {
		case stateOK:
			rep.Sources.OK++
			continue
		case stateNew:
			rep.Sources.New++
			continue
		case stateFailing:
			rep.Sources.Failing++
		case stateBackingOff:
			rep.Sources.BackingOff++
		case stateDisabled:
			rep.Sources.Disabled++
		}
		f := failingSource{Name: s.Name, URL: redact(s.URL), State: strings.ReplaceAll(state, " ", "_"),
			Failures: s.State.Failures, LastError: s.State.LastError, LastSuccess: timeOrNil(s.State.LastSuccess)}
		if !s.State.Disabled {
			f.NextPoll = timeOrNil(s.State.NextPoll)
		}
		rep.Failing = append(rep.Failing, f)
	}
	slices.SortStableFunc(rep.Failing, func(x, y failingSource) int {
		return cmp.Compare(rank[strings.ReplaceAll(x.State, "_", " ")], rank[strings.ReplaceAll(y.State, "_", " ")])
	})

	if rep.Subscriptions.Active, rep.Subscriptions.Paused, err = store.CountSubscriptions(ctx); err != nil {
		return rep, err
	}
	subs, err := store.UpcomingSubscriptions(ctx, slots)
	if err != nil {
		return rep, err
	}
	for _, sub := range subs {
		ns := nextSlot{Subscription: sub.ID, GuildID: sub.GuildID, ChannelID: sub.ChannelID, Topic: sub.Topic,
			Schedule: sub.Schedule, TimeZone: sub.TimeZone}
		if !sub.NextSlot.IsZero() {
			t := sub.NextSlot.In(zone(sub.TimeZone))
			ns.Slot = &t
		}
		rep.NextSlots = append(rep.NextSlots, ns)
	}

	recent, err := store.RecentDeliveries(ctx, deliveries)
	if err != nil {
		return rep, err
	}
	for _, d := range recent {
		di := deliveryInfo{Key: d.Key, Kind: "briefing", Subscription: d.SubscriptionID, GuildID: d.GuildID,
			ChannelID: d.ChannelID, Topic: d.Topic, When: d.UpdatedAt, Parts: d.Parts, PartsPosted: len(d.MessageIDs),
			Articles: len(d.Articles), Error: d.Error}
		switch {
		case strings.HasPrefix(d.Key, "brief:"):
			di.Kind = "brief"
		case !strings.HasPrefix(d.Key, "sub:"):
			di.Kind = "notice"
		}
		if !d.Slot.IsZero() {
			t := d.Slot.In(zone(d.TimeZone))
			di.Slot = &t
		}
		switch {
		case d.State == digest.DeliveryFailed:
			di.Outcome = "failed"
		case d.State == digest.DeliveryPending:
			di.Outcome = "posting"
		case di.Kind == "briefing" && len(d.Articles) == 0:
			di.Outcome = "nothing_new" // silent, or the one-line note
		default:
			di.Outcome = "posted"
		}
		rep.LastDeliveries = append(rep.LastDeliveries, di)
	}

	rep.LLM = llmSpend{Configured: cfg.LLMEnabled(), Models: []llmModel{}, Guilds: []llmGuild{}, GuildMonthlyTokens: cfg.LLM.GuildMonthlyTokens}
	if rep.LLM.Configured {
		rep.LLM.Model = cfg.LLM.Model
	}
	y, m, _ := now.UTC().Date()
	rep.LLM.Since = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	usage, err := store.LLMUsageSince(ctx, rep.LLM.Since)
	if err != nil {
		return rep, err
	}
	for _, u := range usage {
		rep.LLM.Calls += u.Calls
		rep.LLM.FailedCalls += u.FailedCalls
		rep.LLM.PromptTokens += u.PromptTokens
		rep.LLM.CompletionTokens += u.CompletionTokens
		rep.LLM.Models = append(rep.LLM.Models, llmModel{Model: u.Model, Calls: u.Calls, FailedCalls: u.FailedCalls,
			PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens})
	}
	if cfg.LLM.InputPrice > 0 || cfg.LLM.OutputPrice > 0 {
		c := cost(int(rep.LLM.PromptTokens), int(rep.LLM.CompletionTokens), cfg.LLM.InputPrice, cfg.LLM.OutputPrice)
		rep.LLM.EstimatedCostUSD = &c
	}
	guilds, err := store.GuildUsageSince(ctx, rep.LLM.Since)
	if err != nil {
		return rep, err
	}
	for _, u := range guilds {
		tokens := u.PromptTokens + u.CompletionTokens
		rep.LLM.Guilds = append(rep.LLM.Guilds, llmGuild{GuildID: u.GuildID, Calls: u.Calls, Tokens: tokens,
			Spent: u.GuildID != "" && cfg.LLM.GuildMonthlyTokens > 0 && tokens >= int64(cfg.LLM.GuildMonthlyTokens)})
	}
	return rep, nil
}

// zone loads an IANA time zone, UTC when it is empty or unknown.
func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// writeStatus writes the report for people.
func writeStatus(w io.Writer, rep statusReport) error {
	now := rep.Now
	sc := rep.Sources
	if sc.Total == 0 {
		fmt.Fprintln(w, "Sources: none yet; add one with `briefbot sources add URL` or `briefbot sources import FILE.opml`")
	} else {
		fmt.Fprintf(w, "Sources: %d (%d ok, %d new, %d failing, %d backing off, %d disabled)\n",
			sc.Total, sc.OK, sc.New, sc.Failing, sc.BackingOff, sc.Disabled)
	}
	if len(rep.Failing) > 0 {
		rows := [][]string{{"NAME", "STATE", "FAILURES", "NEXT POLL", "LAST SUCCESS", "LAST ERROR"}}
		for _, f := range rep.Failing {
			next := "until `briefbot sources enable " + f.Name + "`"
			if f.NextPoll != nil {
				next = until(now, *f.NextPoll)
			} else if f.State != "disabled" {
				next = "due now"
			}
			last := "never"
			if f.LastSuccess != nil {
				last = ago(now, *f.LastSuccess)
			}
			rows = append(rows, []string{f.Name, strings.ReplaceAll(f.State, "_", " "), fmt.Sprint(f.Failures),
				next, last, strings.Join(strings.Fields(truncate(f.LastError, 100)), " ")})
		}
		table(w, rows)
	}

	fmt.Fprintln(w)
	subs := rep.Subscriptions
	switch {
	case subs.Active+subs.Paused == 0:
		fmt.Fprintln(w, "Next slots: no subscriptions yet; subscribe a channel with /subscribe in Discord")
	case subs.Active == 0 && subs.Paused == 1:
		fmt.Fprintln(w, "Next slots: none; the one subscription is paused (see /subscriptions in Discord)")
	case subs.Active == 0:
		fmt.Fprintf(w, "Next slots: none; all %d subscriptions are paused (see /subscriptions in Discord)\n", subs.Paused)
	default:
		head := fmt.Sprintf("Next slots: %d of %s", len(rep.NextSlots), plural(subs.Active, "active subscription"))
		if subs.Paused > 0 {
			head += fmt.Sprintf(" (%d paused)", subs.Paused)
		}
		fmt.Fprintln(w, head)
		if len(rep.NextSlots) > 0 {
			rows := [][]string{{"LOCAL TIME", "IN", "GUILD", "CHANNEL", "TOPIC", "SCHEDULE"}}
			for _, s := range rep.NextSlots {
				when, in := "not scheduled yet", "due now"
				if s.Slot != nil {
					when, in = localTime(*s.Slot, s.TimeZone), until(now, *s.Slot)
				}
				rows = append(rows, []string{when, in, s.GuildID, s.ChannelID, orDash(s.Topic), s.Schedule})
			}
			table(w, rows)
		}
	}

	fmt.Fprintln(w)
	if len(rep.LastDeliveries) == 0 {
		fmt.Fprintln(w, "Last deliveries: none yet")
	} else {
		if n := len(rep.LastDeliveries); n == 1 {
			fmt.Fprintln(w, "Last deliveries: the most recent")
		} else {
			fmt.Fprintf(w, "Last deliveries: the %d most recent\n", n)
		}
		rows := [][]string{{"WHEN", "OUTCOME", "PARTS", "TOPIC", "GUILD", "CHANNEL", "SLOT", "ERROR"}}
		for _, d := range rep.LastDeliveries {
			parts := "-"
			if d.Parts > 0 {
				parts = fmt.Sprintf("%d/%d", d.PartsPosted, d.Parts)
			}
			topic := orDash(d.Topic)
			switch {
			case d.Kind == "notice":
				topic = "(notice)"
			case d.Kind == "brief" && d.Topic == "":
				topic = "(/brief)"
			}
			slot := "-"
			if d.Slot != nil {
				slot = d.Slot.Format("2006-01-02 15:04 MST")
			}
			rows = append(rows, []string{ago(now, d.When), strings.ReplaceAll(d.Outcome, "_", " "),
				parts, topic, orDash(d.GuildID), d.ChannelID, slot, strings.Join(strings.Fields(truncate(d.Error, 80)), " ")})
		}
		table(w, rows)
	}

	fmt.Fprintln(w)
	l := rep.LLM
	month := l.Since.Format("January 2006")
	switch {
	case l.Calls == 0 && !l.Configured:
		fmt.Fprintf(w, "LLM spend, %s: none; no language model is configured (OPENAI_API_KEY or llm.base_url), so briefings use the extractive summarizer\n", month)
	case l.Calls == 0:
		fmt.Fprintf(w, "LLM spend, %s (UTC): nothing recorded yet (model %s)\n", month, orDash(l.Model))
	default:
		fmt.Fprintf(w, "LLM spend, %s (UTC): %s (%d failed), %d prompt + %d completion tokens",
			month, plural(int(l.Calls), "call"), l.FailedCalls, l.PromptTokens, l.CompletionTokens)
		if l.EstimatedCostUSD != nil {
			fmt.Fprintf(w, ", about %s at the configured prices", dollars(*l.EstimatedCostUSD))
		}
		fmt.Fprintln(w)
		rows := [][]string{{"MODEL", "CALLS", "FAILED", "PROMPT TOKENS", "COMPLETION TOKENS"}}
		for _, m := range l.Models {
			rows = append(rows, []string{orDash(m.Model), fmt.Sprint(m.Calls), fmt.Sprint(m.FailedCalls),
				fmt.Sprint(m.PromptTokens), fmt.Sprint(m.CompletionTokens)})
		}
		table(w, rows)
		rows = [][]string{{"SERVER", "CALLS", "TOKENS", "ALLOWANCE"}}
		for _, g := range l.Guilds {
			allowance := "-"
			switch {
			case g.GuildID == "":
				g.GuildID = "(briefbot brief)"
			case l.GuildMonthlyTokens > 0 && g.Spent:
				allowance = fmt.Sprintf("used up (%s)", groupDigits(int64(l.GuildMonthlyTokens)))
			case l.GuildMonthlyTokens > 0:
				allowance = fmt.Sprintf("%d%% of %s", g.Tokens*100/int64(l.GuildMonthlyTokens), groupDigits(int64(l.GuildMonthlyTokens)))
			}
			rows = append(rows, []string{g.GuildID, fmt.Sprint(g.Calls), fmt.Sprint(g.Tokens), allowance})
		}
		table(w, rows)
	}
	return nil
}

// table writes rows as aligned columns, indented two spaces, with no
// trailing spaces.
func table(w io.Writer, rows [][]string) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
	}
	tw.Flush()
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			io.WriteString(w, strings.TrimRight(line, " \n")+"\n")
		}
	}
}

// until says how long after now t is, for people: "due now", "in 5m",
// "in 3h (14:05 UTC)", "in 2d".
func until(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "due now"
	case d < time.Minute:
		return "in <1m"
	case d < time.Hour:
		return fmt.Sprintf("in %dm", d/time.Minute)
	case d < 48*time.Hour:
		return fmt.Sprintf("in %dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	}
	return fmt.Sprintf("in %dd", d/(24*time.Hour))
}

// localTime writes a slot in its zone: "2026-03-03 08:00 KST Asia/Seoul".
func localTime(t time.Time, zoneName string) string {
	s := t.Format("2006-01-02 15:04 MST")
	if zoneName != "" && zoneName != t.Format("MST") {
		s += " " + zoneName
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// dollars writes an estimate in US dollars: cents, or four decimals
// under a dollar.
func dollars(v float64) string {
	if v < 1 {
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

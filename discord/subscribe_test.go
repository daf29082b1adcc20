package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/bwmarrin/discordgo"
)

// TestResumePausedSubscription: a subscription paused because Discord
// refused its briefing (50013) says why, which permissions briefbot
// needs and how to resume, with the channel mention intact in
// /subscriptions; the same /subscribe again is refused while the
// permission is still missing, then resumes it: unpaused, its next slot
// the first after now, its options kept (the reply says which given ones
// were not applied), even at the server's subscription limit.
func TestResumePausedSubscription(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 1})
	e.bot.cfg.MaxSubscriptions = 1
	e.start()
	ctx := context.Background()
	str := fakediscord.StringOption
	subscribe := func(extra ...fakediscord.Option) string {
		t.Helper()
		opts := append([]fakediscord.Option{str("topic", "korea-talks"), str("schedule", "daily 08:00"), str("timezone", "Asia/Seoul")}, extra...)
		content, _ := e.answer(e.send(fakediscord.Interaction{Name: "subscribe", Permissions: manageAll, Options: opts}))
		return content
	}
	if got := subscribe(str("nothing_new", "post")); !strings.HasPrefix(got, "Subscribed <#"+testChannel+">") {
		t.Fatalf("subscribe: %q", got)
	}
	subs, err := e.store.Subscriptions(ctx, testGuild)
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscriptions %+v, %v", subs, err)
	}
	sub := subs[0]

	noSend := fakediscord.DefaultPermissions &^ discordgo.PermissionSendMessages
	e.srv.SetBotPermissions(testChannel, noSend)
	slot := time.Now().Add(-time.Minute)
	if err := e.deliver(&sub, slot); err != nil {
		t.Fatal(err)
	}
	wantReason := "briefbot may not post there (Discord: 50013 Missing Permissions): grant it View Channel, Send Messages, Embed Links and Read Message History, then run the same /subscribe to resume"
	if !sub.Paused || sub.PauseReason != wantReason {
		t.Fatalf("paused %v with reason\n%q\nwant\n%q", sub.Paused, sub.PauseReason, wantReason)
	}
	_, list, _ := e.reply(e.send(fakediscord.Interaction{Name: "subscriptions"}))
	if want := fmt.Sprintf("#%d <#%s> **korea-talks**: daily 08:00 (Asia/Seoul) · says when nothing is new · paused: %s\n", sub.ID, testChannel, wantReason); !strings.Contains(list, want) {
		t.Errorf("/subscriptions:\n%q\nwant it to contain\n%q", list, want)
	}

	if got := subscribe(); !strings.Contains(got, "briefbot is missing the Send Messages permission there") {
		t.Errorf("subscribe again without the permission: %q", got)
	}
	if got, _ := e.store.Subscription(ctx, sub.ID); !got.Paused {
		t.Error("resumed without the permission")
	}

	e.srv.SetBotPermissions(testChannel, 0)
	before := time.Now()
	got := subscribe(str("catchup", "late"), str("nothing_new", "skip"), str("language", "Korean"))
	want := fmt.Sprintf("Resumed subscription #%d: <#%s> gets **korea-talks**, ", sub.ID, testChannel)
	if !strings.HasPrefix(got, want) || !strings.Contains(got, fmt.Sprintf(`It keeps its default language, nothing\_new post; to change that, /unsubscribe #%d and subscribe again.`, sub.ID)) {
		t.Errorf("subscribe again with the permission:\n%q\nwant it to start %q and say which options it kept", got, want)
	}
	resumed, err := e.store.Subscription(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Paused || resumed.PauseReason != "" || !resumed.NextSlot.After(before) || resumed.NextSlot.After(before.Add(24*time.Hour)) ||
		resumed.NothingNew != digest.NothingNewPost || resumed.CatchUp != digest.CatchUpLate {
		t.Errorf("resumed subscription %+v", resumed)
	}
	if n, _ := e.store.Subscriptions(ctx, testGuild); len(n) != 1 {
		t.Errorf("%d subscriptions after resuming, want the one", len(n))
	}
	if got := subscribe(); !strings.Contains(got, "already subscribed") {
		t.Errorf("subscribe once more: %q", got)
	}
}

func TestEscapeKeepChannels(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"can't post in <#300000000000000003> (Forbidden); fix the channel permissions, then subscribe again",
			"can't post in <#300000000000000003> (Forbidden); fix the channel permissions, then subscribe again"},
		{"topic a_b was removed", `topic a\_b was removed`},
		{"<@123> and <#1> **x**", "<\u200b@\u200b123\\> and <#1> \\*\\*x\\*\\*"},
		{"<#notanid>", "<\u200b#notanid\\>"},
	} {
		if got := escapeKeepChannels(tt.in); got != tt.want {
			t.Errorf("escapeKeepChannels(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAlreadySubscribedNamesTheSubscription: /subscribe with the channel,
// topic and schedule of an existing subscription names it, with its time
// zone, and says how to change the zone or resume it.
func TestAlreadySubscribedNamesTheSubscription(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	e.start()
	ctx := context.Background()
	add := func(spec, zone string, paused bool) digest.Subscription {
		t.Helper()
		sub, err := e.store.AddSubscription(ctx, digest.Subscription{GuildID: testGuild, ChannelID: testChannel, TopicID: e.topic.ID,
			Schedule: spec, TimeZone: zone, CatchUp: digest.CatchUpLate, NextSlot: time.Now().Add(time.Hour), Paused: paused, PauseReason: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	active, paused, cron := add("daily 08:00", "EST5EDT", false), add("daily 18:00", "EST5EDT", true), add("0 9 * * 1-5", "Asia/Seoul", false)
	for _, tt := range []struct{ spec, zone, want string }{
		{"daily 08:00", "EST5EDT", fmt.Sprintf("<#%s> is already subscribed to **korea-talks**, daily 08:00, in EST5EDT: subscription #%d. See /subscriptions.", testChannel, active.ID)},
		{"daily 08:00", "Asia/Seoul", fmt.Sprintf("<#%s> is already subscribed to **korea-talks**, daily 08:00, in EST5EDT: subscription #%d. "+
			"A channel gets a topic on a schedule once, whatever the time zone: to have it in Asia/Seoul instead, /unsubscribe #%[2]d, then subscribe again.", testChannel, active.ID)},
		{"daily 18:00", "Asia/Seoul", fmt.Sprintf("<#%s> is already subscribed to **korea-talks**, daily 18:00, in EST5EDT: subscription #%d, paused. "+
			"A channel gets a topic on a schedule once, whatever the time zone: to resume it as it is, run /subscribe with timezone EST5EDT; "+
			"to have it in Asia/Seoul instead, /unsubscribe #%[2]d, then subscribe again.", testChannel, paused.ID)},
		{"0 9 * * 1-5", "Asia/Seoul", fmt.Sprintf(`<#%s> is already subscribed to **korea-talks**, 0 9 \* \* 1-5, in Asia/Seoul: subscription #%d. See /subscriptions.`, testChannel, cron.ID)},
	} {
		content, ephemeral := e.answer(e.send(fakediscord.Interaction{Name: "subscribe", Permissions: manageAll, Options: []fakediscord.Option{
			fakediscord.StringOption("topic", "korea-talks"), fakediscord.StringOption("schedule", tt.spec), fakediscord.StringOption("timezone", tt.zone)}}))
		if content != tt.want || !ephemeral {
			t.Errorf("%s in %s: answer (ephemeral %v)\n%q\nwant\n%q", tt.spec, tt.zone, ephemeral, content, tt.want)
		}
	}
	if subs, _ := e.store.Subscriptions(ctx, testGuild); len(subs) != 3 {
		t.Errorf("%d subscriptions, want the 3", len(subs))
	}
}

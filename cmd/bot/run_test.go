package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestRunWithoutToken(t *testing.T) {
	c := newsCLI(t, korea, nil)
	if _, _, err := c.run("run"); err == nil || !strings.Contains(err.Error(), "DISCORD_TOKEN is not set") || !strings.Contains(err.Error(), `(see README, "Discord" → "Setup")`) {
		t.Errorf("run without a token: %v", err)
	}
	// The section the message points to exists.
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^## Discord\n(?:(?:[^#\n].*|###.*)?\n)*?### Setup\n`).Match(readme) {
		t.Error(`README has no "## Discord" section with a "### Setup" heading`)
	}
}

func TestRunBadToken(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "good"})
	c := newsCLI(t, korea, map[string]string{"DISCORD_TOKEN": "bad", "BRIEFBOT_DISCORD_API_URL": srv.URL()})
	if _, _, err := c.run("run"); err == nil || !strings.Contains(err.Error(), "DISCORD_TOKEN was rejected") {
		t.Errorf("run with a bad token: %v", err)
	}
}

// TestRunSubscribeAndScheduledPost subscribes a channel through the fake
// Discord, then lets the clock reach the slot: the briefing is posted
// once, with mentions disabled.
func TestRunSubscribeAndScheduledPost(t *testing.T) {
	const guild, channel = "100000000000000001", "200000000000000001"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: []string{guild}})
	srv.AddChannel(fakediscord.Channel{ID: channel, GuildID: guild, Name: "news"})
	c := newsCLI(t, korea, map[string]string{"DISCORD_TOKEN": "tok", "BRIEFBOT_DISCORD_API_URL": srv.URL()})
	clk := &clock{now: fixtureNow}
	c.now = clk.Now

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- runAt(ctx, []string{"--log-level", "error", "run", "--tick", "1s"}, func(k string) string { return c.env[k] }, strings.NewReader(""), &out, &errOut, c.now)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v\n%s", err, errOut.String())
		}
	}()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := srv.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	for len(srv.Commands("")) == 0 && wctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}

	sent, err := srv.SendInteraction(fakediscord.Interaction{Name: "subscribe", GuildID: guild, ChannelID: channel,
		Permissions: fakediscord.DefaultPermissions | 1<<4,
		Options:     []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks"), fakediscord.StringOption("schedule", "every 1h"), fakediscord.StringOption("timezone", "UTC")}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := srv.WaitResponseMessage(wctx, sent.ID)
	if err != nil || !strings.Contains(m.Content, "Subscribed") {
		t.Fatalf("subscribe: %v %q", err, m.Content)
	}

	// The slot is 13:00 UTC; the first tick polls the sources.
	waitPolled(t, c, 3)
	clk.Set(fixtureNow.Add(time.Hour + 30*time.Second))
	waitPosted(t, srv, channel, "Stockholm", errOut.String)
	msgs := waitStable(t, srv, channel) // every part posted
	if len(msgs) == 0 {
		t.Fatal("no messages")
	}
	var all strings.Builder
	for _, m := range msgs {
		all.Write(m.Raw)
		if string(m.AllowedMentions) != `{"parse":[],"replied_user":false}` {
			t.Errorf("allowed_mentions = %s", m.AllowedMentions)
		}
	}
	if !strings.Contains(all.String(), "Stockholm") {
		t.Errorf("the scheduled briefing lacks the Stockholm story:\n%s", all.String())
	}
	time.Sleep(2500 * time.Millisecond) // two more ticks: nothing posted again
	if n := len(srv.Messages(channel)); n != len(msgs) {
		t.Errorf("%d messages after more ticks, want %d", n, len(msgs))
	}
}

// waitPolled waits (at most 30 s) until n sources have been polled
// successfully.
func waitPolled(t *testing.T, c *cli, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, _, err := c.run("sources", "list", "--format", "json")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(out, `"state": "ok"`)+strings.Count(out, `"state":"ok"`) >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("fewer than %d sources polled", n)
}

// waitPosted waits (at most 30 s) until a message in channel contains
// want.
func waitPosted(t *testing.T, srv *fakediscord.Server, channel, want string, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range srv.Messages(channel) {
			if strings.Contains(string(m.Raw), want) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no message in %s contains %q\n%s", channel, want, logs())
}

// waitStable waits until a channel's message count has not changed for
// 1.5 s (at most 20 s) and returns the messages.
func waitStable(t *testing.T, srv *fakediscord.Server, channel string) []fakediscord.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last, since := -1, time.Now()
	for time.Now().Before(deadline) {
		msgs := srv.Messages(channel)
		if len(msgs) != last {
			last, since = len(msgs), time.Now()
		} else if time.Since(since) >= 1500*time.Millisecond {
			return msgs
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("messages in %s kept changing", channel)
	return nil
}

// TestRunHTTPInteractions runs `briefbot run --interactions-addr`: the
// endpoint passes the developer portal's check (signed PING answered,
// badly signed one refused), and a signed /subscribe is answered with no
// gateway session at all.
func TestRunHTTPInteractions(t *testing.T) {
	const guild, channel = "100000000000000001", "200000000000000001"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: []string{guild}})
	srv.AddChannel(fakediscord.Channel{ID: channel, GuildID: guild, Name: "news"})
	env := map[string]string{"DISCORD_TOKEN": "tok", "BRIEFBOT_DISCORD_API_URL": srv.URL(), "DISCORD_PUBLIC_KEY": srv.PublicKey()}
	c := newsCLI(t, korea, env)
	if _, _, err := newsCLI(t, korea, map[string]string{"DISCORD_TOKEN": "tok", "BRIEFBOT_DISCORD_API_URL": srv.URL()}).run("run", "--interactions-addr", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "DISCORD_PUBLIC_KEY") {
		t.Errorf("--interactions-addr without a public key: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- runAt(ctx, []string{"--log-level", "error", "run", "--tick", "1s", "--interactions-addr", addr},
			func(k string) string { return c.env[k] }, strings.NewReader(""), &out, &errOut, time.Now) // signatures carry real time
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v\n%s", err, errOut.String())
		}
	}()
	url := "http://" + addr + "/"
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	for srv.VerifyEndpoint(wctx, url) != nil && wctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if err := srv.VerifyEndpoint(wctx, url); err != nil {
		t.Fatalf("endpoint check: %v\n%s", err, errOut.String())
	}
	sent, _, err := srv.PostInteraction(wctx, url, fakediscord.Interaction{Name: "subscribe", GuildID: guild, ChannelID: channel,
		Permissions: fakediscord.DefaultPermissions | 1<<4,
		Options:     []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks"), fakediscord.StringOption("schedule", "daily 08:00"), fakediscord.StringOption("timezone", "UTC")}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := srv.WaitResponseMessage(wctx, sent.ID)
	if err != nil || !strings.Contains(m.Content, "Subscribed") {
		t.Fatalf("subscribe over HTTP: %v %q\n%s", err, m.Content, errOut.String())
	}
	if srv.Connected() {
		t.Error("a gateway session is open in HTTP interactions mode")
	}
}

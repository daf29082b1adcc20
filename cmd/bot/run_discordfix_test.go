package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
)

// TestRunLogsThroughSlog runs briefbot with DISCORD_TOKEN pasted with
// its "Bot " prefix and --log-format json: it connects and says so in
// one INFO line; a dropped gateway connection is logged by briefbot and
// by discordgo, both as JSON; the shutdown logs no reconnect; and no line
// carries the token. Not parallel: discordgo has one logger per process.
func TestRunLogsThroughSlog(t *testing.T) {
	const tok = "fix-token-7d2b41"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: tok,
		Guilds: []string{"100000000000000001"}})
	c := newsCLI(t, korea, map[string]string{"DISCORD_TOKEN": "Bot " + tok, "BRIEFBOT_DISCORD_API_URL": srv.URL()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var out, errOut syncBuffer
	go func() {
		done <- runAt(ctx, []string{"--log-level", "info", "--log-format", "json", "run", "--tick", "1s"},
			func(k string) string { return c.env[k] }, strings.NewReader(""), &out, &errOut, c.now)
	}()
	waitLog := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(errOut.String(), what); time.Sleep(20 * time.Millisecond) {
			select {
			case err := <-done:
				t.Fatalf("briefbot run exited: %v\n%s", err, errOut.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", what, errOut.String())
			}
		}
	}
	waitLog(`"msg":"connected to Discord as briefbot; 6 slash commands registered (globally)"`)
	srv.DropGateway()
	waitLog(`"msg":"discordgo"`)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := srv.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v\n%s", err, errOut.String())
	}
	time.Sleep(300 * time.Millisecond) // the session's Disconnect handler runs on its own goroutine

	logs := errOut.String()
	var reconnects int
	for line := range strings.Lines(logs) {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON line: %q", line)
		}
		if rec.Msg == "discord gateway disconnected; reconnecting" {
			reconnects++
		}
	}
	if reconnects != 1 {
		t.Errorf("%d reconnect warnings, want 1 (the dropped connection, not the shutdown):\n%s", reconnects, logs)
	}
	if strings.Contains(logs, tok) || strings.Contains(out.String(), tok) {
		t.Errorf("the token was printed:\n%s", logs)
	}
}

package discord

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// TestLogRouter: discordgo's lines go to the newest running bot's
// logger, else to the newest bot made; at the level discordgo gave
// (informational as DEBUG); with every known token masked.
func TestLogRouter(t *testing.T) {
	t.Parallel()
	r := &logRouter{}
	r.print(discordgo.LogError, 1, "before any bot") // dropped, no panic

	madeLog, made := bufferLogger(slog.LevelDebug)
	r.made(madeLog, "made-token")
	firstLog, first := bufferLogger(slog.LevelDebug)
	detachFirst := r.attach(firstLog, "first-token")
	secondLog, second := bufferLogger(slog.LevelWarn)
	detachSecond := r.attach(secondLog, "second-token")

	r.print(discordgo.LogError, 1, "error connecting to gateway %s, %s", "wss://gateway.discord.gg", "Bot second-token first-token made-token")
	r.print(discordgo.LogInformational, 1, "called") // below the second's level
	if got := second.String(); !strings.Contains(got, `level=ERROR msg=discordgo detail="error connecting to gateway wss://gateway.discord.gg, Bot xxxxx xxxxx xxxxx"`) ||
		strings.Contains(got, "called") {
		t.Errorf("newest running bot's log:\n%s", got)
	}
	detachSecond()
	r.print(discordgo.LogWarning, 1, "error reading from gateway")
	r.print(discordgo.LogInformational, 1, "called")
	if got := first.String(); !strings.Contains(got, `level=WARN msg=discordgo detail="error reading from gateway"`) ||
		!strings.Contains(got, `level=DEBUG msg=discordgo detail=called`) {
		t.Errorf("after the newest detached, the other running bot's log:\n%s", got)
	}
	detachFirst()
	r.print(discordgo.LogWarning, 1, "outside Run")
	if got := made.String(); !strings.Contains(got, `detail="outside Run"`) {
		t.Errorf("with no bot running, the newest bot made's log:\n%s", got)
	}
	if strings.Contains(second.String(), "reading") || strings.Contains(first.String(), "outside") {
		t.Error("a line went to a detached bot's log")
	}
}

// TestDiscordgoLogsThroughSlog: with a bot running, the lines discordgo
// logs when the gateway connection drops come out of the bot's JSON
// logger, with the line of discordgo that logged them, and not out of
// the standard log package. Not parallel: discordgo's logger is one per
// process, and a line goes to the newest running bot.
func TestDiscordgoLogsThroughSlog(t *testing.T) {
	std := log.Writer()
	var stdBuf logBuffer
	log.SetOutput(&stdBuf)
	defer log.SetOutput(std)

	e := newEnv(t, &fakeService{})
	var logs logBuffer
	e.log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.bot = e.newBot()
	if e.bot.session.LogLevel != discordgo.LogWarning {
		t.Errorf("session log level %d, want warning", e.bot.session.LogLevel)
	}
	e.start()
	e.srv.DropGateway()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	e.stop()

	var warned bool
	for line := range strings.Lines(logs.String()) {
		var rec struct {
			Level, Msg, Detail, Caller string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if rec.Msg != "discordgo" {
			continue
		}
		if rec.Level == "WARN" && strings.Contains(rec.Detail, "error reading from gateway") && strings.HasPrefix(rec.Caller, "wsapi.go:") {
			warned = true
		}
		if strings.Contains(line, token) {
			t.Errorf("the token in a line: %s", line)
		}
	}
	if !warned {
		t.Errorf("no discordgo WARN line about the dropped connection in the bot's log:\n%s", logs.String())
	}
	if got := stdBuf.String(); got != "" {
		t.Errorf("the standard logger printed:\n%s", got)
	}
}

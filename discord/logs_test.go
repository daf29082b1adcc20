package discord

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/bwmarrin/discordgo"
)

// logBuffer collects a logger's text output; it is safe for concurrent
// use, as the bot logs from its handlers' goroutines.
type logBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.String()
}

// bufferLogger returns a logger writing text lines at level and up to a
// logBuffer.
func bufferLogger(level slog.Level) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level})), buf
}

// afterDisconnect returns a channel closed once the bot's session has
// emitted a Disconnect event after this call. The bot's own Disconnect
// handler runs on a goroutine of its own at the same time, so a test
// that waits for this channel then gives it a moment to log.
func afterDisconnect(b *Bot) <-chan struct{} {
	done := make(chan struct{})
	var once sync.Once
	b.session.AddHandler(func(*discordgo.Session, *discordgo.Disconnect) { once.Do(func() { close(done) }) })
	return done
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		time.Sleep(200 * time.Millisecond) // let the bot's handler log, if it would
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
}

// TestShutdownIsNotAReconnect: a dropped gateway connection is logged as
// a reconnect, but neither a clean shutdown (ctx cancelled) nor Run
// giving up after an error (the session closed on the way out) is.
func TestShutdownIsNotAReconnect(t *testing.T) {
	t.Parallel()
	const warning = "discord gateway disconnected; reconnecting"
	t.Run("shutdown", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, &fakeService{})
		var logs *logBuffer
		e.log, logs = bufferLogger(slog.LevelDebug)
		e.bot = e.newBot()
		e.start()

		dropped := afterDisconnect(e.bot)
		e.srv.CloseGateway(4000) // resumable: discordgo reconnects
		waitClosed(t, dropped, "disconnect after CloseGateway")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(logs.String(), warning); n != 1 {
			t.Fatalf("a dropped connection logged %q %d times, want once:\n%s", warning, n, logs)
		}

		closed := afterDisconnect(e.bot)
		e.stop()
		waitClosed(t, closed, "disconnect on shutdown")
		if n := strings.Count(logs.String(), warning); n != 1 {
			t.Errorf("shutdown logged %q:\n%s", warning, logs)
		}
	})
	t.Run("register error", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, &fakeService{})
		var logs *logBuffer
		e.log, logs = bufferLogger(slog.LevelDebug)
		e.bot = e.newBot()
		e.srv.Inject("PUT /applications/*/commands", fakediscord.Fault{Status: 400})
		closed := afterDisconnect(e.bot)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var re *discordgo.RESTError
		if err := e.bot.Run(ctx); !errors.As(err, &re) || !strings.Contains(err.Error(), "register commands") {
			t.Fatalf("Run = %v, want the register commands error", err)
		}
		waitClosed(t, closed, "disconnect after Run returned")
		if strings.Contains(logs.String(), warning) {
			t.Errorf("Run returning an error logged %q:\n%s", warning, logs)
		}
	})
}

// TestConnectedLine: once connected, Run logs one INFO line that says as
// whom and where the slash commands went, and nothing at WARN, the
// default level: a successful start is not something to warn about.
func TestConnectedLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, guildID, want string
		again               bool
	}{
		{name: "global", want: `msg="connected to Discord as briefbot; 6 slash commands registered (globally)" user=briefbot shard=0 shard_count=1`},
		{name: "unchanged", again: true, want: `msg="connected to Discord as briefbot; 6 slash commands registered (globally, unchanged)"`},
		{name: "guild", guildID: testGuild, want: `msg="connected to Discord as briefbot; 6 slash commands registered (in guild ` + testGuild + `)"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, &fakeService{})
			e.configure = func(c *Config) { c.GuildID = tt.guildID }
			if tt.again {
				e.bot = e.newBot()
				e.start()
				e.stop()
			}
			infoLog, info := bufferLogger(slog.LevelInfo)
			warnLog, warn := bufferLogger(slog.LevelWarn)
			e.log = slog.New(teeHandler{infoLog.Handler(), warnLog.Handler()})
			e.bot = e.newBot()
			e.start()
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(info.String(), "connected to Discord") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := info.String(); strings.Count(got, "connected to Discord") != 1 || !strings.Contains(got, tt.want) {
				t.Errorf("INFO log:\n%s\nwant one line with %s", got, tt.want)
			}
			if got := warn.String(); got != "" {
				t.Errorf("a successful start logged at WARN:\n%s", got)
			}
		})
	}
}

// teeHandler sends each record to every handler that takes its level.
type teeHandler []slog.Handler

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, x := range h {
		if x.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, x := range h {
		if x.Enabled(ctx, r.Level) {
			errs = append(errs, x.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(teeHandler, len(h))
	for i, x := range h {
		out[i] = x.WithAttrs(as)
	}
	return out
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(h))
	for i, x := range h {
		out[i] = x.WithGroup(name)
	}
	return out
}

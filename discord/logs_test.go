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

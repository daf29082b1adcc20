package discord

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
)

// dglog routes discordgo's own log lines (gateway errors, reconnects,
// rate limits) to briefbot's slog loggers. discordgo writes them through
// one package variable, discordgo.Logger, whatever the session, and by
// default with the standard log package, which bypasses the handler
// cmd/bot builds (--log-format json, --log-level). This is the package's
// one piece of mutable state, forced by discordgo's: New points
// discordgo.Logger here once (installDGLog), before it makes its
// session, and the lines go to the logger of the newest bot in Run or
// Serve, else of the newest bot made.
var dglog = &logRouter{}

var dglogOnce sync.Once

// installDGLog points discordgo.Logger at dglog, the first time.
func installDGLog() { dglogOnce.Do(func() { discordgo.Logger = dglog.print }) }

// logRouter sends discordgo's lines to a bot's logger, with the tokens
// of the bots it knows masked.
type logRouter struct {
	mu sync.Mutex
	// running are the bots in Run or Serve, oldest first; last is the
	// newest bot made.
	running []*logSink
	last    *logSink
}

type logSink struct {
	log   *slog.Logger
	token string
}

// made makes a new bot the one lines go to when no bot is running.
func (r *logRouter) made(log *slog.Logger, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = &logSink{log: log, token: token}
}

// attach sends the lines to log until the returned function is called.
func (r *logRouter) attach(log *slog.Logger, token string) (detach func()) {
	s := &logSink{log: log, token: token}
	r.mu.Lock()
	r.running = append(r.running, s)
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, x := range r.running {
			if x == s {
				r.running = append(r.running[:i], r.running[i+1:]...)
				break
			}
		}
	}
}

// print is discordgo.Logger. Its lines become records with the message
// "discordgo", the text as detail and the line of discordgo that logged
// it as caller, at the level discordgo gave (informational as DEBUG).
func (r *logRouter) print(msgL, _ int, format string, a ...any) {
	r.mu.Lock()
	sink := r.last
	if n := len(r.running); n > 0 {
		sink = r.running[n-1]
	}
	tokens := make([]string, 0, len(r.running)+1)
	for _, s := range append(r.running, r.last) {
		if s != nil && s.token != "" {
			tokens = append(tokens, s.token)
		}
	}
	r.mu.Unlock()
	if sink == nil {
		return
	}
	level := dgLevel(msgL)
	ctx := context.Background()
	if !sink.log.Enabled(ctx, level) {
		return
	}
	text := strings.TrimSpace(fmt.Sprintf(format, a...))
	for _, t := range tokens {
		text = strings.ReplaceAll(text, t, "xxxxx")
	}
	args := []any{"detail", text}
	if where := dgCaller(); where != "" {
		args = append(args, "caller", where)
	}
	sink.log.Log(ctx, level, "discordgo", args...)
}

// dgLevel maps a discordgo log level to a slog level.
func dgLevel(msgL int) slog.Level {
	switch msgL {
	case discordgo.LogError:
		return slog.LevelError
	case discordgo.LogWarning:
		return slog.LevelWarn
	case discordgo.LogInformational:
		return slog.LevelDebug
	}
	return slog.LevelDebug - 4
}

// dgLogLevel is the level every session logs at: errors and warnings.
// Not discordgo's informational lines ("called" on every connect,
// request URLs, interaction tokens included, on every rate limit), nor
// its debug ones, which dump every gateway payload and the identify
// packet; the bot logs disconnects and rate limits itself.
const dgLogLevel = discordgo.LogWarning

// dgCaller is "file.go:line" of the discordgo code that logged the line
// being printed: the first frame in discordgo outside its logging.go.
func dgCaller() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "github.com/bwmarrin/discordgo.") && path.Base(f.File) != "logging.go" {
			return fmt.Sprintf("%s:%d", path.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

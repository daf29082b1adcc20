package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/internal/feedserver"
)

// TestRunRealTimeKill runs the briefbot binary, in real time, against the
// fake Discord and a local feed server: a channel subscribed to a
// one-minute schedule gets its posts; the process is killed with SIGKILL
// while a post is on its way to Discord, and restarted; every slot ends up
// posted exactly once, and SIGTERM then stops it cleanly.
func TestRunRealTimeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time end-to-end test (about two minutes); skipped with -short")
	}
	bin := buildBinary(t)
	const guild, channel = "100000000000000001", "200000000000000001"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: []string{guild}})
	srv.AddChannel(fakediscord.Channel{ID: channel, GuildID: guild, Name: "news"})
	feeds := feedserver.New(t)
	feeds.Set("/wire.xml", feedserver.Doc{Body: liveFeed(time.Now())})
	dir := t.TempDir()
	cfg := writeFile(t, dir, "briefbot.yaml", fmt.Sprintf(`database: %s
sources:
  - name: wire
    url: %s/wire.xml
    allow_private: true
topics:
  - name: korea-talks
    query: '"north korea" OR pyongyang'
schedule:
  min_interval: 1m
jobs:
  rescue_after: 10s
  drain_timeout: 10s
`, filepath.Join(dir, "b.db"), feeds.URL))
	env := append(os.Environ(), "BRIEFBOT_CONFIG="+cfg, "DISCORD_TOKEN=tok", "BRIEFBOT_DISCORD_API_URL="+srv.URL())

	p := startBot(t, bin, env)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for len(srv.Commands("")) == 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	sent, err := srv.SendInteraction(fakediscord.Interaction{Name: "subscribe", GuildID: guild, ChannelID: channel,
		Permissions: fakediscord.DefaultPermissions | 1<<4,
		Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks"), fakediscord.StringOption("schedule", "every 1m"),
			fakediscord.StringOption("timezone", "UTC"), fakediscord.StringOption("nothing_new", "post")}})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := srv.WaitResponseMessage(ctx, sent.ID); err != nil || !strings.Contains(m.Content, "Subscribed") {
		t.Fatalf("subscribe: %v %q\n%s", err, m.Content, p.logs())
	}
	replies := len(srv.Messages(channel))

	// The first slot's post is held by the fake for 3 s; the bot is
	// killed while it waits. The fake creates the message anyway, as
	// Discord may for a request whose answer is lost.
	srv.Inject("POST /channels/*/messages", fakediscord.Fault{Delay: 3 * time.Second})
	for srv.PendingFaults() > 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	p.kill(syscall.SIGKILL)
	for len(srv.Messages(channel)) == replies && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	firstPost := len(srv.Messages(channel))

	// The restart finds that post instead of repeating it, and goes on.
	p2 := startBot(t, bin, env)
	for len(srv.Messages(channel)) < firstPost+1 && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatalf("no post after the restart\nfirst run:\n%s\nsecond run:\n%s", p.logs(), p2.logs())
	}
	time.Sleep(2 * time.Second)
	if err := p2.kill(syscall.SIGTERM); err != nil {
		t.Errorf("briefbot run after SIGTERM: %v\n%s", err, p2.logs())
	}

	// Every part of every delivery was posted once.
	tag := regexp.MustCompile(`ref ([0-9a-f]{8})-(\d+)`)
	seen := map[string]int{}
	for _, m := range srv.Messages(channel)[replies:] {
		ref := tag.FindStringSubmatch(m.Content)
		if ref == nil {
			t.Errorf("a post without a part tag: %q", m.Content)
			continue
		}
		seen[ref[0]]++
	}
	if len(seen) < 2 {
		t.Errorf("%d slots posted, want at least 2 (before and after the restart)", len(seen))
	}
	for ref, n := range seen {
		if n != 1 {
			t.Errorf("%s posted %d times", ref, n)
		}
	}
	if t.Failed() {
		t.Logf("first run:\n%s\nsecond run:\n%s", p.logs(), p2.logs())
	}
}

// buildBinary builds briefbot into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "briefbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// liveFeed is an RSS feed of North Korea news published shortly before now.
func liveFeed(now time.Time) string {
	item := func(i int, title, text string) string {
		return fmt.Sprintf(`<item><title>%s</title><link>https://wire.example/%d</link><guid>wire-%d</guid><pubDate>%s</pubDate><description>%s</description></item>`,
			title, i, i, now.Add(-time.Duration(i+1)*time.Hour).Format(time.RFC1123Z), text)
	}
	return `<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>` +
		item(1, "North Korea and US envoys meet in Stockholm", "Envoys from North Korea and the United States met in Stockholm on Monday for the first working-level nuclear talks since the Hanoi summit. The meeting lasted eight hours at a villa outside the city, officials said.") +
		item(2, "North Korea fires a ballistic missile into the sea", "North Korea fired a short-range ballistic missile into the sea off its east coast on Tuesday, South Korea's military said. The missile flew about 600 kilometres before landing.") +
		`</channel></rss>`
}

// botProcess is a running briefbot binary.
type botProcess struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func startBot(t *testing.T, bin string, env []string) *botProcess {
	t.Helper()
	p := &botProcess{cmd: exec.Command(bin, "--log-level", "info", "run", "--tick", "1s"), done: make(chan error, 1)}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.kill(syscall.SIGKILL) })
	return p
}

func (p *botProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *botProcess) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// kill sends sig and waits for the process to exit (at most 20 s),
// returning its exit error; an already exited process returns nil.
func (p *botProcess) kill(sig syscall.Signal) error {
	if p.cmd.ProcessState != nil {
		return nil
	}
	p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- nil // later calls see it exited
		if sig == syscall.SIGKILL {
			return nil
		}
		return err
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		return fmt.Errorf("still running 20 s after %v", sig)
	}
}

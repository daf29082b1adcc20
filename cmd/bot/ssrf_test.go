package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
)

// privateFeed is a local server holding a valid feed that nothing a
// Discord user or a CLI user adds may reach. It counts every request.
type privateFeed struct {
	*httptest.Server
	hits atomic.Int32
	port string
}

func newPrivateFeed(t *testing.T) *privateFeed {
	t.Helper()
	p := &privateFeed{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, fixtureFeed("Intranet", 2))
	}))
	t.Cleanup(p.Close)
	_, p.port, _ = net.SplitHostPort(p.Listener.Addr().String())
	return p
}

// ssrfURLs are feed URLs that all lead to the private server, or to
// another non-public address; "evil.test" and "mixed.test" resolve
// through the test's stand-in for DNS.
func ssrfURLs(port string) []string {
	return []string{
		"http://127.0.0.1:" + port + "/feed",
		"http://localhost:" + port + "/feed",
		"http://[::1]:" + port + "/feed",
		"http://[::ffff:127.0.0.1]:" + port + "/feed",
		"http://2130706433:" + port + "/feed",
		"http://0177.0.0.1:" + port + "/feed",
		"http://0x7f.0.0.1:" + port + "/feed",
		"http://127.1:" + port + "/feed",
		"http://0.0.0.0:" + port + "/feed",
		"http://evil.test:" + port + "/feed",
		"http://mixed.test:" + port + "/feed",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:10.0.0.1]/feed",
		"http://100.64.0.1/feed",
		"http://[fd00::1]/feed",
	}
}

func ssrfLookup(_ context.Context, _, host string) ([]netip.Addr, error) {
	switch strings.ToLower(host) {
	case "evil.test", "localhost":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	case "mixed.test":
		return []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestDiscordSourcesAddRefusesPrivate adds each private URL with
// /sources add through the fake Discord, as a server admin would: every
// one is answered, only to the user, with a message saying why; nothing is
// stored; no request reaches the private server.
func TestDiscordSourcesAddRefusesPrivate(t *testing.T) {
	priv := newPrivateFeed(t)
	e := newSchedEnv(t, schedOptions{start: fixtureNow})
	// The service's poller, with the stand-in for DNS; the guard is the
	// real one.
	feeds := sources.NewFetcher(sources.FetchOptions{Timeout: 2 * time.Second, LookupIP: ssrfLookup})
	e.w.svc.poller = sources.NewPoller(e.store, feeds, feeds, slog.New(slog.NewTextHandler(io.Discard, nil)), e.clk.Now, sources.PollOptions{})

	const manageServer = fakediscord.DefaultPermissions | 1<<5
	for i, u := range ssrfURLs(priv.port) {
		t.Run(u, func(t *testing.T) {
			sent, err := e.srv.SendInteraction(fakediscord.Interaction{
				Name: "sources", GuildID: schedGuild, ChannelID: "200000000000000001", Permissions: manageServer,
				Options: []fakediscord.Option{fakediscord.SubCommand("add",
					fakediscord.StringOption("url", u), fakediscord.StringOption("name", fmt.Sprintf("intranet-%d", i)))},
			})
			if err != nil {
				t.Fatal(err)
			}
			content, ephemeral := interactionAnswer(t, e.srv, sent)
			if want := "That address points to a private or local network, which briefbot does not fetch for chat users."; content != want {
				t.Errorf("answer = %q, want %q", content, want)
			}
			if !ephemeral {
				t.Error("the refusal is visible to the whole channel")
			}
		})
	}
	srcs, err := e.store.Sources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		if s.GuildID != "" {
			t.Errorf("source %s (%s) was stored", s.Name, s.URL)
		}
	}
	if n := priv.hits.Load(); n != 0 {
		t.Errorf("the private server was reached %d times", n)
	}
}

// interactionAnswer waits for an interaction's final answer: an immediate
// reply, or the follow-up after a deferral. It returns its content and
// whether only the user sees it.
func interactionAnswer(t *testing.T, srv *fakediscord.Server, sent fakediscord.SentInteraction) (string, bool) {
	t.Helper()
	const ephemeralFlag = 1 << 6
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range srv.InteractionResponses(sent.ID) {
			var cb struct {
				Type int `json:"type"`
				Data struct {
					Content string `json:"content"`
					Flags   int64  `json:"flags"`
				} `json:"data"`
			}
			var body struct {
				Content string `json:"content"`
				Flags   int64  `json:"flags"`
			}
			switch {
			case r.Method == "POST" && strings.HasSuffix(r.Path, "/callback") && json.Unmarshal(r.Body, &cb) == nil && cb.Type == 4:
				return cb.Data.Content, cb.Data.Flags&ephemeralFlag != 0
			case r.Method == "POST" && strings.Contains(r.Path, "/webhooks/") && json.Unmarshal(r.Body, &body) == nil:
				return body.Content, body.Flags&ephemeralFlag != 0
			case r.Method == "PATCH" && strings.HasSuffix(r.Path, "/@original") && json.Unmarshal(r.Body, &body) == nil && body.Content != "":
				return body.Content, false
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no answer to interaction %s", sent.ID)
	return "", false
}

// TestCLISourcesAddRefusesPrivate: `briefbot sources add` refuses the
// private URLs the real resolver can decide on (no DNS here) with the
// guard's reason and how to allow an intranet feed; with --no-check the
// source is stored, and `briefbot fetch` refuses it at poll time. Only a
// config source with allow_private reaches the private server.
func TestCLISourcesAddRefusesPrivate(t *testing.T) {
	priv := newPrivateFeed(t)
	dir := t.TempDir()
	c := newCLI(t, map[string]string{"BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml",
		fmt.Sprintf("database: %s\nsources: []\ntopics: []\n", filepath.Join(dir, "b.db")))})
	for i, u := range ssrfURLs(priv.port) {
		if strings.Contains(u, ".test") {
			continue // needs the stand-in for DNS
		}
		t.Run(u, func(t *testing.T) {
			_, stderr, err := c.run("sources", "add", u, "--name", fmt.Sprintf("intranet-%d", i))
			if err == nil {
				t.Fatal("sources add succeeded")
			}
			for _, want := range []string{"is not a usable feed", "refusing to connect to", "allow_private: true"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not contain %q", stderr, want)
				}
			}
		})
	}
	if out, _, _ := c.run("sources", "list"); strings.Contains(out, "intranet") {
		t.Errorf("refused sources were stored:\n%s", out)
	}

	// Without the check, an address literal in any form the guard reads
	// is refused at once too.
	if _, stderr, err := c.run("sources", "add", "http://127.1:"+priv.port+"/feed", "--name", "unchecked", "--no-check"); err == nil || !strings.Contains(stderr, "refusing to connect to 127.0.0.1: loopback address") {
		t.Fatalf("sources add --no-check of 127.1: %v\n%s", err, stderr)
	}
	// One stored all the same (by an older briefbot, or a name that
	// resolves to loopback) is refused when polled.
	store, err := sqlstore.Open(t.Context(), filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.AddSource(t.Context(), digest.Source{Name: "unchecked", URL: "http://127.1:" + priv.port + "/feed", Interval: 15 * time.Minute, Origin: digest.OriginCLI})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, _ := c.run("fetch", "--source", "unchecked")
	if !strings.Contains(out+stderr, "refusing to connect to 127.1 (127.0.0.1): loopback address") {
		t.Errorf("fetch of a CLI source on loopback did not say it was refused:\n%s\n%s", out, stderr)
	}
	if n := priv.hits.Load(); n != 0 {
		t.Errorf("the private server was reached %d times", n)
	}

	// The operator's config source with allow_private does reach it.
	c.env["BRIEFBOT_CONFIG"] = writeFile(t, dir, "c2.yaml", fmt.Sprintf("database: %s\nsources:\n  - name: intranet\n    url: %s/feed\n    allow_private: true\ntopics: []\n",
		filepath.Join(dir, "b.db"), priv.URL))
	if out, stderr, err := c.run("fetch", "--source", "intranet"); err != nil {
		t.Fatalf("fetch of an allow_private config source: %v\n%s%s", err, out, stderr)
	}
	if n := priv.hits.Load(); n == 0 {
		t.Error("the allow_private config source did not reach the private server")
	}
}

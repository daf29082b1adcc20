package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/internal/fakeopenai"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.org/feed", "https://example.org/feed"},
		{"https://medium.com/feed/@someone", "https://medium.com/feed/@someone"},
		{"briefbot.db", "briefbot.db"},
		{"https://user:pw@example.org/feed", "https://xxxxx@example.org/feed"},
		{"https://token@example.org/feed", "https://xxxxx@example.org/feed"},
		{"postgres://briefbot:s3cret@db:5432/briefbot?sslmode=disable", "postgres://xxxxx@db:5432/briefbot?sslmode=disable"},
		// Passwords that break URL parsing are hidden too.
		{"postgres://briefbot:pa#ss@db/briefbot", "postgres://xxxxx@db/briefbot"},
		{"postgresql://briefbot:pa/ss?x@db/briefbot", "postgresql://xxxxx@db/briefbot"},
		{"http://u:s3cret@exa mple.org/feed", "http://xxxxx@exa mple.org/feed"},
		{"http://exa mple.org/feed", "http://exa mple.org/feed"},
	}
	for _, tt := range tests {
		got := redact(tt.in)
		if got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for _, secret := range []string{"s3cret", "pa#ss", "pa/ss", ":pw"} {
			if strings.Contains(tt.in, secret) && strings.Contains(got, secret) {
				t.Errorf("redact(%q) = %q keeps %q", tt.in, got, secret)
			}
		}
	}
}

// A PostgreSQL database that cannot be reached is named without its
// password, by every command that opens it.
func TestOpenDatabaseErrorHidesPassword(t *testing.T) {
	const password = "PgSecretH4Xw"
	for dsn, want := range map[string][]string{
		"postgres://briefbot:" + password + "@127.0.0.1:1/briefbot?sslmode=disable&connect_timeout=2": {"open database postgres", "xxxxx@127.0.0.1:1"},
		// Unencoded, the # would cut the password short: refused at load.
		"postgresql://briefbot:" + password + "#x@127.0.0.1:1/briefbot": {"database (from $BRIEFBOT_DATABASE): not a valid PostgreSQL URL: the user name or password holds a #"},
	} {
		c := newCLI(t, map[string]string{"BRIEFBOT_DATABASE": dsn, "BRIEFBOT_CONFIG": writeFile(t, t.TempDir(), "c.yaml", "sources: []\ntopics: []\n")})
		for _, args := range [][]string{{"sources", "list"}, {"fetch"}, {"topics", "list"}} {
			stdout, stderr, err := c.run(args...)
			if err == nil {
				t.Fatalf("%v on an unreachable database succeeded", args)
			}
			for _, w := range want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%v: stderr %q does not contain %q", args, stderr, w)
				}
			}
			if strings.Contains(stdout+stderr+err.Error(), password) {
				t.Errorf("%v prints the password: %s%s", args, stdout, stderr)
			}
		}
	}
}

// A URL refused as not http(s) is quoted without its userinfo, in the
// config's errors and in `sources add`'s.
func TestBadURLErrorHidesUserinfo(t *testing.T) {
	const password = "BadFeedSecretW8n"
	dir := t.TempDir()
	c := newCLI(t, map[string]string{"BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml", fmt.Sprintf(
		"database: %s\nsources:\n  - name: a\n    url: ftp://u:%s@example.org/feed\nllm:\n  base_url: gopher://u:%s@llm.example/v1\n", filepath.Join(dir, "b.db"), password, password))})
	_, stderr, err := c.run("config", "check")
	if err == nil || !strings.Contains(stderr, `bad URL "ftp://xxxxx@example.org/feed"`) || !strings.Contains(stderr, `bad URL "gopher://xxxxx@llm.example/v1"`) {
		t.Errorf("config check = %v, stderr %q; want both bad URLs, redacted", err, stderr)
	}
	if strings.Contains(stderr, password) {
		t.Errorf("config check prints the password: %s", stderr)
	}

	c.env["BRIEFBOT_CONFIG"] = writeFile(t, dir, "ok.yaml", fmt.Sprintf("database: %s\nsources: []\ntopics: []\n", filepath.Join(dir, "b.db")))
	for _, u := range []string{"ftp://u:" + password + "@example.org/feed", "http://u:" + password + "@exa mple.org:port/feed"} {
		_, stderr, err := c.run("sources", "add", u)
		if err == nil || !strings.Contains(stderr, "bad URL") {
			t.Errorf("sources add %s = %v, stderr %q; want bad URL", u, err, stderr)
		}
		if strings.Contains(stderr, password) {
			t.Errorf("sources add prints the password: %s", stderr)
		}
	}
}

// config check shows every URL without its credentials, and the secrets
// from the environment only as set.
func TestConfigCheckHidesCredentials(t *testing.T) {
	secrets := []string{"DiscordTokenQ7Rz", "sk-OpenAIKey3fJ9", "PgSecretH4Xw", "FeedSecret9bTq", "LlmProxySecretV2c", "DiscordProxySecretK1x"}
	dir := t.TempDir()
	c := newCLI(t, map[string]string{
		"DISCORD_TOKEN":     secrets[0],
		"OPENAI_API_KEY":    secrets[1],
		"BRIEFBOT_DATABASE": "postgres://briefbot:" + secrets[2] + "@db.example/briefbot",
		"BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml", fmt.Sprintf(`sources:
  - name: wire
    url: https://feeduser:%s@feeds.example/wire.xml
llm:
  base_url: https://llmuser:%s@llm.example/v1
discord:
  api_url: https://bot:%s@discord-proxy.example
`, secrets[3], secrets[4], secrets[5])),
	})
	stdout, stderr, err := c.run("config", "check")
	if err != nil {
		t.Fatalf("config check: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"DISCORD_TOKEN: (set, masked)", "OPENAI_API_KEY: (set, masked)",
		"database: postgres://xxxxx@db.example/briefbot", "url: https://xxxxx@feeds.example/wire.xml",
		"base_url: https://xxxxx@llm.example/v1", "api_url: https://xxxxx@discord-proxy.example",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("config check output lacks %q:\n%s", want, stdout)
		}
	}
	for _, s := range append(secrets, "feeduser", "llmuser") {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("config check prints %q:\n%s", s, stdout)
		}
	}
}

// A config file that does not decode is quoted around the error with the
// credentials of its URLs hidden.
func TestConfigSyntaxErrorHidesCredentials(t *testing.T) {
	const password = "FeedSecret9bTq"
	dir := t.TempDir()
	for name, file := range map[string]string{
		"syntax":        "sources:\n  - name: wire\n    url: https://feeduser:" + password + "@feeds.example/wire.xml\n   bad: [\n",
		"unknown field": "sources:\n  - name: wire\n    url: 'https://feeduser:" + password + "@feeds.example/wire.xml'\n    colour: blue\n",
		"wrong type":    "database: [\"postgres://briefbot:" + password + "@db.example/briefbot\"]\n",
	} {
		c := newCLI(t, map[string]string{"BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml", file)})
		_, stderr, err := c.run("config", "check")
		if err == nil {
			t.Fatalf("%s: config check succeeded", name)
		}
		if !strings.Contains(stderr, "c.yaml: [") {
			t.Errorf("%s: stderr %q does not say where the error is", name, stderr)
		}
		if strings.Contains(stderr, password) {
			t.Errorf("%s: config check prints the password:\n%s", name, stderr)
		}
		if name != "wrong type" && !strings.Contains(stderr, "https://xxxxx@feeds.example/wire.xml") {
			t.Errorf("%s: stderr does not quote the lines around the error:\n%s", name, stderr)
		}
	}
}

// Distinctive secret values. Each must never appear in anything briefbot
// prints, logs, returns as an error or serves.
const (
	secretDiscordToken = "MTA5ODc2NTQzMjEwOTg3NjU0.GhTkSe.SecretDiscordTokenQ7Rz"
	secretOpenAIKey    = "sk-SecretOpenAIKey3fJ9wLmQ"
	secretPGPassword   = "PgSecretH4Xw"
	secretPGBroken     = "PgBrokenSecret#Zq"     // not percent-encoded: the URL does not parse
	secretFeedUser     = "feeduser"              // the user name is not secret; user:password is
	secretFeedPassword = "FeedSecret9bTq"        // a source URL's userinfo
	secretLLMPassword  = "LlmProxySecretV2c"     // userinfo in llm.base_url
	secretBadFeedPass  = "BadFeedSecretW8n"      // userinfo in an invalid source URL
	secretAPIPassword  = "DiscordProxySecretK1x" // userinfo in discord.api_url
)

// secretFragments are the values grepped for: each secret whole, and the
// recognizable parts of it (the password alone, the token's parts, the
// base64 of user:password as sent in an Authorization header, the
// percent-encoded forms).
func secretFragments() map[string]string {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	parts := strings.Split(secretDiscordToken, ".")
	return map[string]string{
		"DISCORD_TOKEN":                   secretDiscordToken,
		"DISCORD_TOKEN first part":        parts[0],
		"DISCORD_TOKEN last part":         parts[2],
		"DISCORD_TOKEN in base64":         b64(secretDiscordToken),
		"OPENAI_API_KEY":                  secretOpenAIKey,
		"OPENAI_API_KEY without sk-":      strings.TrimPrefix(secretOpenAIKey, "sk-"),
		"PostgreSQL password":             secretPGPassword,
		"PostgreSQL user:password base64": b64("briefbot:" + secretPGPassword),
		"unparsable PostgreSQL password":  "PgBrokenSecret",
		"source password":                 secretFeedPassword,
		"source user:password":            secretFeedUser + ":" + secretFeedPassword,
		"source user:password base64":     b64(secretFeedUser + ":" + secretFeedPassword),
		"llm.base_url password":           secretLLMPassword,
		"llm.base_url user:pass base64":   b64("llmuser:" + secretLLMPassword),
		"invalid source URL password":     secretBadFeedPass,
		"discord.api_url password":        secretAPIPassword,
		"percent-encoded broken password": url.QueryEscape(secretPGBroken),
	}
}

// leaks returns a line per secret fragment found in text.
func leaks(text string) []string {
	var found []string
	for name, v := range secretFragments() {
		if i := strings.Index(text, v); i >= 0 {
			lo, hi := max(0, i-80), min(len(text), i+len(v)+40)
			found = append(found, fmt.Sprintf("%s: …%s…", name, text[lo:hi]))
		}
	}
	return found
}

// syncBuffer is a bytes.Buffer safe for a process's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secretsEnv is an installation with every secret set: a feed behind
// basic auth (user:password in the source URL), a fake Discord, a fake
// OpenAI-compatible endpoint.
type secretsEnv struct {
	t      *testing.T
	dir    string
	feeds  *httptest.Server
	feedOK bool // whether the feed server answers, else 500
	mu     sync.Mutex
	llm    *fakeopenai.Server
	env    map[string]string
}

func newSecretsEnv(t *testing.T) *secretsEnv {
	t.Helper()
	e := &secretsEnv{t: t, dir: t.TempDir(), feedOK: true}
	e.feeds = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != secretFeedUser || pass != secretFeedPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="feeds"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		e.mu.Lock()
		ok = e.feedOK
		e.mu.Unlock()
		if !ok {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, liveFeed(time.Now()))
	}))
	t.Cleanup(e.feeds.Close)
	e.llm = fakeopenai.New(t)
	e.env = map[string]string{
		"DISCORD_TOKEN":   secretDiscordToken,
		"OPENAI_API_KEY":  secretOpenAIKey,
		"OPENAI_BASE_URL": e.llm.URL(),
	}
	e.config("")
	return e
}

// feedURL is the protected feed's URL with its credentials.
func (e *secretsEnv) feedURL() string {
	return "http://" + secretFeedUser + ":" + secretFeedPassword + "@" + strings.TrimPrefix(e.feeds.URL, "http://") + "/wire.xml"
}

// config writes the config file with the protected source, plus more.
func (e *secretsEnv) config(more string) {
	e.env["BRIEFBOT_CONFIG"] = writeFile(e.t, e.dir, "briefbot.yaml", fmt.Sprintf(`database: %s
sources:
  - name: wire
    url: %s
    allow_private: true
topics:
  - name: korea-talks
    query: '"north korea" OR pyongyang'
%s`, filepath.Join(e.dir, "b.db"), e.feedURL(), more))
}

// run runs briefbot in-process at debug log level and returns everything
// it printed and the error text.
func (e *secretsEnv) run(ctx context.Context, args ...string) string {
	e.t.Helper()
	var out, errOut syncBuffer
	err := runAt(ctx, append([]string{"--log-level", "debug"}, args...), func(k string) string { return e.env[k] }, strings.NewReader(""), &out, &errOut, time.Now)
	all := out.String() + errOut.String()
	if err != nil {
		all += "\nerror: " + err.Error()
	}
	return all
}

// check fails t for every secret in text; with -v it logs text.
func check(t *testing.T, scenario, text string) {
	t.Helper()
	for _, l := range leaks(text) {
		t.Errorf("%s leaks %s", scenario, l)
	}
	if testing.Verbose() {
		t.Logf("== %s\n%s", scenario, text)
	}
}

// TestSecretsNeverPrinted runs briefbot through failing and succeeding
// scenarios with every secret set to a distinctive value, and greps all it
// printed (stdout, stderr, its log at debug level, error texts), every
// HTTP answer of its interactions endpoint and every message it sent to
// Discord for each secret and its recognizable fragments.
func TestSecretsNeverPrinted(t *testing.T) {
	e := newSecretsEnv(t)
	ctx := t.Context()
	pgURL := "postgres://briefbot:" + secretPGPassword + "@127.0.0.1:1/briefbot?sslmode=disable&connect_timeout=2"

	t.Run("config check", func(t *testing.T) {
		e.env["BRIEFBOT_DATABASE"] = pgURL
		e.env["DISCORD_PUBLIC_KEY"] = strings.Repeat("ab", 32)
		defer delete(e.env, "BRIEFBOT_DATABASE")
		defer delete(e.env, "DISCORD_PUBLIC_KEY")
		e.config("llm:\n  base_url: http://llmuser:" + secretLLMPassword + "@127.0.0.1:1/v1\ndiscord:\n  api_url: http://bot:" + secretAPIPassword + "@127.0.0.1:1\n")
		defer e.config("")
		check(t, "config check", e.run(ctx, "config", "check"))

		e.env["BRIEFBOT_CONFIG"] = writeFile(t, e.dir, "bad.yaml", fmt.Sprintf(`database: %s
sources:
  - name: wire
    url: %s
  - name: badurl
    url: ftp://u:%s@example.org/feed
  - name: dup
    url: %s
    interval: 1s
`, filepath.Join(e.dir, "b.db"), e.feedURL(), secretBadFeedPass, e.feedURL()))
		check(t, "config check, invalid", e.run(ctx, "config", "check"))
		e.env["BRIEFBOT_CONFIG"] = writeFile(t, e.dir, "syntax.yaml", fmt.Sprintf("database: %s\nsources:\n  - name: wire\n    url: %s\n   bad: [\n", filepath.Join(e.dir, "b.db"), e.feedURL()))
		check(t, "config check, YAML syntax error", e.run(ctx, "config", "check"))
	})

	t.Run("PostgreSQL unreachable", func(t *testing.T) {
		defer delete(e.env, "BRIEFBOT_DATABASE")
		for _, dsn := range []string{pgURL, "postgresql://briefbot:" + secretPGBroken + "@127.0.0.1:1/briefbot"} {
			e.env["BRIEFBOT_DATABASE"] = dsn
			for _, args := range [][]string{{"config", "check"}, {"sources", "list"}, {"fetch"}, {"run"}, {"migrate", "--from", filepath.Join(e.dir, "b.db"), "--to", dsn}} {
				check(t, "postgres: "+strings.Join(args[:1], " "), e.run(ctx, args...))
			}
		}
	})

	t.Run("source with userinfo", func(t *testing.T) {
		check(t, "fetch, ok", e.run(ctx, "fetch"))
		e.setFeedOK(false)
		check(t, "fetch, 500", e.run(ctx, "fetch", "--source", "wire"))
		check(t, "fetch, 500, json", e.run(ctx, "fetch", "--source", "wire", "--format", "json"))
		check(t, "sources list", e.run(ctx, "sources", "list"))
		check(t, "sources list, json", e.run(ctx, "sources", "list", "--format", "json"))
		e.setFeedOK(true)

		wrong := strings.Replace(e.feedURL(), secretFeedPassword, secretFeedPassword+"x", 1)
		check(t, "sources add, guarded", e.run(ctx, "sources", "add", wrong+"?2", "--name", "wrong"))
		check(t, "sources add --no-check, loopback literal", e.run(ctx, "sources", "add", e.feedURL()+"?3", "--name", "literal", "--no-check"))
		// 127.1 is no address literal to the refusal at add time: the
		// guard refuses it when polled.
		unchecked := strings.Replace(e.feedURL(), "@127.0.0.1:", "@127.1:", 1)
		check(t, "sources add --no-check", e.run(ctx, "sources", "add", unchecked+"?4", "--name", "unchecked", "--no-check"))
		check(t, "sources add, duplicate", e.run(ctx, "sources", "add", unchecked+"?4", "--name", "unchecked2", "--no-check"))
		check(t, "fetch a guarded CLI source", e.run(ctx, "fetch", "--source", "unchecked"))
		check(t, "sources list after add", e.run(ctx, "sources", "list"))
		check(t, "sources add, bad URL", e.run(ctx, "sources", "add", "ftp://u:"+secretBadFeedPass+"@example.org/feed"))
		check(t, "sources add, unparsable URL", e.run(ctx, "sources", "add", "http://u:"+secretBadFeedPass+"@exa mple.org:port/feed"))
		check(t, "sources remove", e.run(ctx, "sources", "remove", "unchecked"))
	})

	t.Run("language model failing", func(t *testing.T) {
		for _, r := range []fakeopenai.Response{
			{Status: http.StatusUnauthorized, Content: "Incorrect API key provided: sk-Secr****wLmQ. You can find your API key at https://platform.openai.com/account/api-keys."},
			{Status: http.StatusUnauthorized, Content: "Invalid key " + secretOpenAIKey + " for this server"}, // one that echoes the key
			{Status: http.StatusInternalServerError, Content: "upstream exploded"},
		} {
			llm := fakeopenai.New(t)
			for range 40 {
				llm.Enqueue(r)
			}
			e.env["OPENAI_BASE_URL"] = llm.URL()
			check(t, fmt.Sprintf("brief, language model answering %d %q", r.Status, r.Content[:12]), e.run(ctx, "brief", "korea-talks", "--no-fetch", "--format", "json"))
			check(t, fmt.Sprintf("summarize, language model answering %d %q", r.Status, r.Content[:12]), e.run(ctx, "summarize", "korea-talks"))
			reqs := llm.Requests()
			if len(reqs) == 0 || reqs[0].Header.Get("Authorization") != "Bearer "+secretOpenAIKey {
				t.Errorf("the language model was not asked with the key (%d requests)", len(reqs))
			}
		}
		// A base URL with credentials, unreachable.
		e.env["OPENAI_BASE_URL"] = "http://llmuser:" + secretLLMPassword + "@" + fetchClosedAddr(t) + "/v1"
		check(t, "brief, language model unreachable", e.run(ctx, "brief", "korea-talks", "--no-fetch"))
		e.env["OPENAI_BASE_URL"] = e.llm.URL()
	})

	t.Run("Discord rejects the token", func(t *testing.T) {
		dsc := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "the-right-token", Guilds: []string{"100000000000000001"}})
		e.env["BRIEFBOT_DISCORD_API_URL"] = dsc.URL()
		defer delete(e.env, "BRIEFBOT_DISCORD_API_URL")
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		check(t, "run, token rejected", e.run(rctx, "run", "--tick", "1s"))
		check(t, "run --interactions-addr, token rejected", e.run(rctx, "run", "--tick", "1s", "--interactions-addr", "127.0.0.1:0"))
	})

	t.Run("interactions endpoint", func(t *testing.T) {
		e.interactionsEndpoint(t)
	})

	t.Run("handler panic", func(t *testing.T) {
		e.handlerPanic(t)
	})

	if t.Failed() && !testing.Verbose() {
		t.Log("run with -v to see every scenario's output")
	}
}

func (e *secretsEnv) setFeedOK(ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.feedOK = ok
}

// interactionsEndpoint runs `briefbot run --interactions-addr` against the
// fake Discord with the right token, sends it good and bad requests, and
// checks every answer, every message it sent to Discord and its log.
func (e *secretsEnv) interactionsEndpoint(t *testing.T) {
	const guild, channel = "100000000000000001", "200000000000000001"
	dsc := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: secretDiscordToken, Guilds: []string{guild}})
	dsc.AddChannel(fakediscord.Channel{ID: channel, GuildID: guild, Name: "news"})
	e.env["BRIEFBOT_DISCORD_API_URL"] = dsc.URL()
	e.env["DISCORD_PUBLIC_KEY"] = dsc.PublicKey()
	defer delete(e.env, "BRIEFBOT_DISCORD_API_URL")
	defer delete(e.env, "DISCORD_PUBLIC_KEY")
	for range 40 {
		e.llm.Enqueue(fakeopenai.Response{Status: http.StatusUnauthorized, Content: "Incorrect API key provided: sk-Secr****wLmQ."})
	}

	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runAt(ctx, []string{"--log-level", "debug", "run", "--tick", "1s", "--interactions-addr", "127.0.0.1:0"},
			func(k string) string { return e.env[k] }, strings.NewReader(""), &out, &errOut, time.Now)
	}()
	addrRE := regexp.MustCompile(`msg="serving HTTP interactions" addr=(\S+)`)
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(errOut.String()); m != nil {
			addr = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("briefbot run exited: %v\n%s", err, errOut.String())
		default:
		}
	}
	if addr == "" {
		cancel()
		t.Fatalf("briefbot run did not serve interactions:\n%s", errOut.String())
	}
	endpoint := "http://" + addr + "/"

	var answers strings.Builder
	record := func(what string, status int, h http.Header, body []byte) {
		fmt.Fprintf(&answers, "== %s: %d\n", what, status)
		for k, vs := range h {
			fmt.Fprintf(&answers, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		fmt.Fprintf(&answers, "%s\n", body)
	}
	for _, req := range []struct{ method, path, body string }{
		{"GET", "", ""}, {"GET", "metrics", ""}, {"GET", "healthz", ""}, {"GET", "debug/pprof/", ""},
		{"POST", "", "not json"}, {"POST", "", `{"type":1}`},
	} {
		r, err := http.NewRequestWithContext(ctx, req.method, endpoint+req.path, strings.NewReader(req.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		record(req.method+" /"+req.path, resp.StatusCode, resp.Header, body)
	}
	if err := dsc.VerifyEndpoint(ctx, endpoint); err != nil {
		t.Errorf("VerifyEndpoint: %v", err)
	}

	manage := fakediscord.DefaultPermissions | 1<<5 | 1<<4
	str := fakediscord.StringOption
	for _, i := range []fakediscord.Interaction{
		{Name: "sources", Options: []fakediscord.Option{fakediscord.SubCommand("list")}},
		{Name: "sources", Options: []fakediscord.Option{fakediscord.SubCommand("add", str("url", e.feedURL()+"?chat"), str("name", "chat"))}},
		{Name: "sources", Options: []fakediscord.Option{fakediscord.SubCommand("add", str("url", "ftp://u:"+secretBadFeedPass+"@example.org/feed"))}},
		{Name: "brief", Options: []fakediscord.Option{str("topic", "korea-talks")}},
		{Name: "topics", Options: []fakediscord.Option{fakediscord.SubCommand("list")}},
		{Name: "subscriptions"},
	} {
		i.GuildID, i.ChannelID, i.Permissions = guild, channel, manage
		sent, resp, err := dsc.PostInteraction(ctx, endpoint, i)
		if err != nil {
			t.Fatalf("/%s: %v", i.Name, err)
		}
		record("interaction /"+i.Name, resp.Status, resp.Header, resp.Body)
		interactionAnswer(t, dsc, sent)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("briefbot run: %v", err)
	}

	// What the bot sent to Discord (the token goes in the Authorization
	// header, as it must; everything else is shown to users).
	var sentToDiscord strings.Builder
	for _, r := range dsc.Requests() {
		fmt.Fprintf(&sentToDiscord, "%s %s?%s\n%s\n", r.Method, r.Path, r.Query.Encode(), r.Body)
		for k, vs := range r.Header {
			if k == "Authorization" {
				if len(vs) != 1 || vs[0] != "Bot "+secretDiscordToken {
					t.Errorf("%s %s: Authorization %q, want the bot token", r.Method, r.Path, vs)
				}
				continue
			}
			fmt.Fprintf(&sentToDiscord, "%s: %s\n", k, strings.Join(vs, ", "))
		}
	}
	check(t, "interactions endpoint: HTTP answers", answers.String())
	check(t, "interactions endpoint: requests to Discord", sentToDiscord.String())
	check(t, "interactions endpoint: output and log", out.String()+errOut.String())
}

// acceptingService stores chat-added sources without fetching them, as if
// each were a feed on a public host.
type acceptingService struct{ *service }

func (s acceptingService) AddSource(ctx context.Context, src digest.Source) (digest.Source, error) {
	if src.Interval == 0 {
		src.Interval = time.Hour
	}
	return s.store.AddSource(ctx, src)
}

// /sources list and /sources add show source URLs without their
// credentials: the list to anyone in the server, the added source to the
// whole channel.
func TestDiscordSourcesHideUserinfo(t *testing.T) {
	const guild, channel, password = "100000000000000001", "200000000000000001", "FeedSecret9bTq"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: []string{guild}})
	srv.AddChannel(fakediscord.Channel{ID: channel, GuildID: guild, Name: "news"})
	svc := newTestService(t)
	if _, err := svc.store.AddSource(t.Context(), digest.Source{Name: "wire", URL: "https://feeduser:" + password + "@feeds.example/wire.xml",
		Interval: time.Hour, Origin: digest.OriginConfig, AllowPrivate: true}); err != nil {
		t.Fatal(err)
	}
	bot, err := discord.New(discord.Config{Token: "tok", APIURL: srv.URL(), Transport: srv.Client().Transport, Now: time.Now},
		svc.store, acceptingService{svc}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = bot.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for len(srv.Commands("")) == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}

	send := func(opts ...fakediscord.Option) string {
		t.Helper()
		sent, err := srv.SendInteraction(fakediscord.Interaction{Name: "sources", GuildID: guild, ChannelID: channel,
			Permissions: fakediscord.DefaultPermissions | 1<<5, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		content, _ := interactionAnswer(t, srv, sent)
		return content
	}
	added := send(fakediscord.SubCommand("add", fakediscord.StringOption("url", "https://chatuser:"+password+"@news.example/feed"), fakediscord.StringOption("name", "chat")))
	if !strings.Contains(added, "Added source **chat** (<https://news.example/feed>)") {
		t.Errorf("/sources add answered %q", added)
	}
	list := send(fakediscord.SubCommand("list"))
	if !strings.Contains(list, "<https://feeds.example/wire.xml>") || !strings.Contains(list, "<https://news.example/feed>") {
		t.Errorf("/sources list answered %q", list)
	}
	for _, got := range []string{added, list} {
		if strings.Contains(got, password) || strings.Contains(got, "feeduser") || strings.Contains(got, "chatuser") {
			t.Errorf("answer shows credentials: %q", got)
		}
	}
}

// handlerPanic makes /sources add panic inside the service (it has no
// poller) with a URL carrying credentials, and checks the log and the
// answer.
func (e *secretsEnv) handlerPanic(t *testing.T) {
	const guild, channel = "100000000000000001", "200000000000000001"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: secretDiscordToken, Guilds: []string{guild}})
	srv.AddChannel(fakediscord.Channel{ID: channel, GuildID: guild, Name: "news"})
	svc := newTestService(t)
	svc.cfg.DiscordToken, svc.cfg.OpenAIKey = secretDiscordToken, secretOpenAIKey
	svc.poller = nil
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bot, err := discord.New(discord.Config{Token: secretDiscordToken, APIURL: srv.URL(), Transport: srv.Client().Transport, Now: time.Now}, svc.store, svc, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = bot.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for len(srv.Commands("")) == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	sent, err := srv.SendInteraction(fakediscord.Interaction{Name: "sources", GuildID: guild, ChannelID: channel,
		Permissions: fakediscord.DefaultPermissions | 1<<5,
		Options:     []fakediscord.Option{fakediscord.SubCommand("add", fakediscord.StringOption("url", e.feedURL()), fakediscord.StringOption("name", "boom"))}})
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := interactionAnswer(t, srv, sent)
	if !strings.Contains(logs.String(), "interaction handler panicked") {
		t.Errorf("no panic was logged; the scenario did not run:\n%s", logs.String())
	}
	check(t, "handler panic: log", logs.String())
	check(t, "handler panic: answer", answer)
}

// fetchClosedAddr returns a loopback address nothing listens on.
func fetchClosedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

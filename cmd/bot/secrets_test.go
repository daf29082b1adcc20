package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/internal/fakediscord"
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
	for _, dsn := range []string{
		"postgres://briefbot:" + password + "@127.0.0.1:1/briefbot?sslmode=disable&connect_timeout=2",
		"postgresql://briefbot:" + password + "#x@127.0.0.1:1/briefbot",
	} {
		c := newCLI(t, map[string]string{"BRIEFBOT_DATABASE": dsn, "BRIEFBOT_CONFIG": writeFile(t, t.TempDir(), "c.yaml", "sources: []\ntopics: []\n")})
		for _, args := range [][]string{{"sources", "list"}, {"fetch"}, {"topics", "list"}} {
			stdout, stderr, err := c.run(args...)
			if err == nil {
				t.Fatalf("%v on an unreachable database succeeded", args)
			}
			if !strings.Contains(stderr, "open database postgres") || !strings.Contains(stderr, "xxxxx@127.0.0.1:1") {
				t.Errorf("%v: stderr %q does not name the database", args, stderr)
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

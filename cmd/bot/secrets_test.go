package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
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

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/feedserver"
)

// cli runs briefbot with args and the given environment.
type cli struct {
	t     *testing.T
	env   map[string]string
	now   func() time.Time // nil means time.Now
	stdin string
}

func newCLI(t *testing.T, env map[string]string) *cli {
	if env == nil {
		env = map[string]string{}
	}
	return &cli{t: t, env: env}
}

func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	now := c.now
	if now == nil {
		now = time.Now
	}
	err = runAt(context.Background(), append([]string{"--log-level", "error"}, args...), func(k string) string { return c.env[k] }, strings.NewReader(c.stdin), &out, &errOut, now)
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func fixtureFeed(title string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link>`, title, strings.ToLower(title))
	for i := range n {
		fmt.Fprintf(&b, `<item><title>%s story %d</title><link>https://%s.example/story/%d?utm_source=rss</link><pubDate>Mon, 02 Mar 2026 08:0%d:00 +0000</pubDate><description><![CDATA[<p>%s</p>]]></description></item>`,
			title, i, strings.ToLower(title), i, i%10, prose(title+fmt.Sprint(i), 150))
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

// prose returns n pseudo-random words seeded by seed: texts with different
// seeds share almost no word 3-grams, so they are distinct articles.
func prose(seed string, n int) string {
	words := strings.Fields("harbour council minister talks summit rain market budget envoy border trade vote court school river bridge storm harvest factory strike")
	h := fnv.New64a()
	h.Write([]byte(seed))
	x := h.Sum64()
	out := make([]string, n)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = words[x%uint64(len(words))]
	}
	return strings.Join(out, " ") + "."
}

func TestFetchEndToEnd(t *testing.T) {
	srv := feedserver.New(t)
	srv.Set("/alpha.xml", feedserver.Doc{Body: fixtureFeed("Alpha", 3)})
	srv.Set("/beta.xml", feedserver.Doc{Body: fixtureFeed("Beta", 2)})
	srv.Set("/broken.xml", feedserver.Doc{Status: 503})
	dir := t.TempDir()
	cfg := writeFile(t, dir, "briefbot.yaml", fmt.Sprintf(`database: %s
sources:
  - name: alpha
    url: %s/alpha.xml
    allow_private: true
  - name: beta
    url: %s/beta.xml
    interval: 30m
    allow_private: true
  - name: broken
    url: %s/broken.xml
    allow_private: true
`, filepath.Join(dir, "test.db"), srv.URL, srv.URL, srv.URL))
	c := newCLI(t, map[string]string{"BRIEFBOT_CONFIG": cfg})

	out, _, err := c.run("fetch")
	if err != nil {
		t.Fatalf("first fetch: %v\n%s", err, out)
	}
	for _, want := range []string{"alpha  ", "new", "3 new", "2 new", "broken", "failed", "503", "total: 3 sources: 2 new"} {
		if !strings.Contains(out, want) {
			t.Errorf("first fetch output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = c.run("fetch", "--format", "json")
	if err != nil {
		t.Fatalf("second fetch: %v\n%s", err, out)
	}
	var got struct {
		Sources []struct {
			Source string `json:"source"`
			Status string `json:"status"`
			New    int    `json:"new"`
		} `json:"sources"`
		Total struct {
			Articles int `json:"articles_new"`
		} `json:"total"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	status := map[string]string{}
	for _, s := range got.Sources {
		status[s.Source] = s.Status
	}
	// broken is backing off after its failure, so it waits.
	if status["alpha"] != "unchanged" || status["beta"] != "unchanged" || status["broken"] != "waiting" || got.Total.Articles != 0 {
		t.Errorf("second fetch = %+v, want alpha and beta unchanged, broken waiting, nothing new", got)
	}
	if _, notMod := srv.Hits("/alpha.xml"); notMod != 1 {
		t.Errorf("alpha answered 304 %d times, want 1", notMod)
	}

	// One source on request, even while it backs off.
	out, _, err = c.run("fetch", "--source", "broken")
	if err == nil || !strings.Contains(out, "503") {
		t.Errorf("fetch --source broken: err %v, output:\n%s", err, out)
	}
	if _, _, err := c.run("fetch", "--source", "nope"); err == nil || !strings.Contains(err.Error(), "known sources: alpha, beta, broken") {
		t.Errorf("fetch --source nope: %v", err)
	}

	out, _, err = c.run("sources", "list")
	if err != nil || !strings.Contains(out, "failing(2)") || !strings.Contains(out, "beta") {
		t.Errorf("sources list: %v\n%s", err, out)
	}
}

func TestSourcesAddRemove(t *testing.T) {
	srv := feedserver.New(t)
	srv.Set("/feed.xml", feedserver.Doc{Body: fixtureFeed("Gamma", 1)})
	dir := t.TempDir()
	c := newCLI(t, map[string]string{"BRIEFBOT_DATABASE": filepath.Join(dir, "t.db"), "BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml", "sources: []\n")})

	// Sources added from the command line are SSRF-guarded: a loopback
	// feed is refused.
	if _, _, err := c.run("sources", "add", srv.URL+"/feed.xml"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("sources add of a loopback URL: %v, want refused", err)
	}
	// Without the check, an address literal or localhost name that is
	// not public is refused all the same.
	for _, u := range []string{srv.URL + "/feed.xml", "http://10.0.0.1/feed", "http://[::1]:8080/feed", "http://localhost:8080/feed", "http://feeds.localhost/rss", "http://2130706433/feed", "http://0x7f.0.0.1/feed", "http://127.1/feed"} {
		if _, _, err := c.run("sources", "add", u, "--no-check"); err == nil || !strings.Contains(err.Error(), " is not allowed: refusing to connect to ") || !strings.Contains(err.Error(), "allow_private: true") {
			t.Errorf("sources add %s --no-check: %v, want refused", u, err)
		}
	}
	out, _, err := c.run("sources", "add", "https://gamma.example/feed.xml", "--no-check", "--name", "gamma", "--interval", "1h")
	if err != nil || !strings.Contains(out, "added source gamma (https://gamma.example/feed.xml, every 1h)") {
		t.Fatalf("sources add: %v\n%s", err, out)
	}
	if _, _, err := c.run("sources", "add", "https://gamma.example/feed.xml", "--no-check", "--name", "gamma2"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("adding the same URL twice: %v", err)
	}
	if _, _, err := c.run("sources", "add", "ftp://x.example/feed", "--no-check"); err == nil {
		t.Error("adding an ftp URL succeeded")
	}
	if _, _, err := c.run("sources", "add", "https://x.example/feed", "--no-check", "--interval", "soon"); err == nil || !strings.Contains(err.Error(), "bad duration") {
		t.Errorf("bad interval: %v", err)
	}
	out, _, _ = c.run("sources", "list", "--format", "json")
	if !strings.Contains(out, `"name": "gamma"`) || !strings.Contains(out, `"interval": "1h0m0s"`) {
		t.Errorf("sources list json:\n%s", out)
	}
	if out, _, err := c.run("sources", "remove", "gamma"); err != nil || !strings.Contains(out, "removed source gamma") {
		t.Errorf("sources remove: %v\n%s", err, out)
	}
	if _, _, err := c.run("sources", "remove", "gamma"); err == nil || !strings.Contains(err.Error(), `no source named "gamma"`) {
		t.Errorf("removing twice: %v", err)
	}
}

// sources enable says what it did: re-enabled a disabled source, reset
// the failures of a failing one, or nothing.
func TestSourcesEnable(t *testing.T) {
	srv := feedserver.New(t)
	srv.Set("/broken.xml", feedserver.Doc{Status: 503})
	dir := t.TempDir()
	c := newCLI(t, map[string]string{"BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml", fmt.Sprintf(`database: %s
fetch:
  disable_after: 2
sources:
  - name: broken
    url: %s/broken.xml
    allow_private: true
`, filepath.Join(dir, "t.db"), srv.URL))})
	enable := func(want string) {
		t.Helper()
		if out, _, err := c.run("sources", "enable", "broken"); err != nil || out != want+"\n" {
			t.Errorf("sources enable = %q, %v; want %q", out, err, want)
		}
	}
	enable("source broken is not disabled; nothing to do")
	c.run("fetch", "--source", "broken")
	enable("source broken was not disabled; reset its 1 failure, so the next fetch polls it")
	c.run("fetch", "--source", "broken")
	c.run("fetch", "--source", "broken")
	if out, _, _ := c.run("sources", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("broken is not disabled after 2 failures:\n%s", out)
	}
	enable("enabled source broken; the next fetch polls it")
	if out, _, _ := c.run("sources", "list"); !strings.Contains(out, "broken  new") && !strings.Contains(out, "broken  ok") {
		t.Errorf("after enable:\n%s", out)
	}
}

// Removing a source or topic owned by the config says where to change
// it: the file, or a new file when the built-in defaults apply.
func TestRemoveConfigOwned(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		file string // "" means no config file
		args []string
		want string
	}{
		{name: "default source, no file", args: []string{"sources", "remove", "yonhap"},
			want: "source \"yonhap\" is one of the built-in defaults; to drop it, create briefbot.yaml with a `sources:` list that leaves it out (see `briefbot config check` for the current list)"},
		{name: "default topic, no file", args: []string{"topics", "remove", "korea-talks"},
			want: "topic \"korea-talks\" is one of the built-in defaults; to drop it, create briefbot.yaml with a `topics:` list that leaves it out"},
		{name: "default source, file without sources", file: "topics: []\n", args: []string{"sources", "remove", "yonhap"},
			want: "has no `sources:` list); to drop it, add a `sources:` list to"},
		{name: "file source", file: "sources:\n  - name: mine\n    url: https://x.example/feed\n", args: []string{"sources", "remove", "mine"},
			want: "comes from the config file"},
		{name: "file topic", file: "topics:\n  - name: mine\n    query: rain\n", args: []string{"topics", "remove", "mine"},
			want: "topic \"mine\" comes from the config file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"BRIEFBOT_DATABASE": filepath.Join(dir, fmt.Sprintf("%d.db", i)), "BRIEFBOT_CONFIG": ""}
			if tt.file != "" {
				env["BRIEFBOT_CONFIG"] = writeFile(t, dir, fmt.Sprintf("%d.yaml", i), tt.file)
			}
			t.Chdir(t.TempDir()) // no ./briefbot.yaml
			_, _, err := newCLI(t, env).run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v: %v, want it to contain %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		file    string // "" means no file
		env     map[string]string
		wantErr string // "" means success
		wantOut []string
		notOut  []string
	}{
		{name: "defaults", wantOut: []string{"built-in defaults", "database: briefbot.db", "yonhap", "bbc-world", "DISCORD_TOKEN: (not set)"}},
		{name: "env overrides and masked secrets", env: map[string]string{"BRIEFBOT_DATABASE": "/tmp/x.db", "DISCORD_TOKEN": "sekrit-token", "OPENAI_API_KEY": "sk-sekrit", "BRIEFBOT_MODEL": "llama3", "OPENAI_BASE_URL": "http://localhost:11434/v1", "BRIEFBOT_DISCORD_API_URL": "http://127.0.0.1:9999"},
			wantOut: []string{"database: /tmp/x.db", "model: llama3", "base_url: http://localhost:11434/v1", "api_url: http://127.0.0.1:9999", "DISCORD_TOKEN: (set, masked)"},
			notOut:  []string{"sekrit"}},
		{name: "valid file", file: "database: my.db\nsources:\n  - name: yonhap\n    url: https://example.org/rss.xml\n    interval: 15m\n    allow_private: false\n", wantOut: []string{"database: my.db", "name: yonhap"}, notOut: []string{"bbc-world"}},
		{name: "unknown key", file: "database: my.db\nsources:\n  - name: a\n    url: https://example.org/rss.xml\n    intervl: 15m\n", wantErr: `[5:5] unknown field "intervl"`},
		{name: "bad duration", file: "sources:\n  - name: a\n    url: https://example.org/rss.xml\n    interval: 15 minutes\n", wantErr: `:4: sources[0].interval: source "a": bad duration "15 minutes"`},
		{name: "bad url", file: "sources:\n  - name: a\n    url: example.org/rss.xml\n", wantErr: `:3: sources[0].url: source "a": bad URL`},
		{name: "missing name", file: "sources:\n  - url: https://example.org/rss.xml\n", wantErr: `:2: sources[0]: source has no name`},
		{name: "duplicate name", file: "sources:\n  - name: a\n    url: https://example.org/1\n  - name: a\n    url: https://example.org/2\n", wantErr: `:4: sources[1].name: source name "a" is already used`},
		{name: "yaml syntax", file: "sources: [\n", wantErr: "yaml_syntax.yaml: [1:10] sequence end token ']' not found"},
		{name: "secret in file refused", file: "discord:\n  token: abc\n", wantErr: `unknown field "token"`},
		{name: "postgres password masked", env: map[string]string{"BRIEFBOT_DATABASE": "postgres://bot:hunter2@db.example/briefbot"},
			wantOut: []string{"database: postgres://xxxxx@db.example/briefbot"}, notOut: []string{"hunter2"}},
		{name: "shards", env: map[string]string{"BRIEFBOT_SHARD_ID": "1", "BRIEFBOT_SHARD_COUNT": "4"}, wantOut: []string{"shard_id: 1", "shard_count: 4"}},
		{name: "shard out of range", file: "discord:\n  shard_id: 2\n  shard_count: 2\n", wantErr: "discord.shard_id: 2 is out of range: want 0 to shard_count-1 (1)"},
		{name: "bad shard env", env: map[string]string{"BRIEFBOT_SHARD_COUNT": "two"}, wantErr: `config: discord.shard_count (from $BRIEFBOT_SHARD_COUNT): "two" is not a whole number`},
		{name: "shard env out of range", file: "discord:\n  shard_id: 0\n", env: map[string]string{"BRIEFBOT_SHARD_ID": "2"},
			wantErr: "config: discord.shard_id (from $BRIEFBOT_SHARD_ID): 2 is out of range: want 0 to shard_count-1 (0)"},
		{name: "database env", file: "database: my.db\n", env: map[string]string{"BRIEFBOT_DATABASE": "mysql://x"},
			wantErr: "config: database (from $BRIEFBOT_DATABASE): a mysql:// URL is not"},
		{name: "duration range", file: "fetch:\n  interval: 30s\n", wantErr: ":2: fetch.interval: duration 30s is out of range: want 1m to 168h"},
		{name: "bad rescue_after", file: "jobs:\n  rescue_after: 1s\n", wantErr: "jobs.rescue_after: duration 1s is out of range: want 10s to 24h"},
		{name: "provider settings", file: "llm:\n  api_type: azure\n  api_version: 2025-01-01-preview\n  max_tokens_param: max_completion_tokens\n  max_output_tokens: 2000\n  headers:\n    HTTP-Referer: https://briefbot.example\n    X-Title: briefbot\n  guild_monthly_tokens: 500000\n  input_price_per_million: 0.15\n  output_price_per_million: 0.6\n",
			wantOut: []string{"api_type: azure", "api_version: 2025-01-01-preview", "max_tokens_param: max_completion_tokens", "max_output_tokens: 2000", "HTTP-Referer: https://briefbot.example", "guild_monthly_tokens: 500000", "input_price_per_million: 0.15"}},
		{name: "api version and allowance env", env: map[string]string{"OPENAI_API_VERSION": "2024-10-21", "BRIEFBOT_GUILD_MONTHLY_TOKENS": "100000"}, wantOut: []string{"api_version: \"2024-10-21\"", "guild_monthly_tokens: 100000"}},
		{name: "bad allowance env", env: map[string]string{"BRIEFBOT_GUILD_MONTHLY_TOKENS": "lots"}, wantErr: `config: llm.guild_monthly_tokens (from $BRIEFBOT_GUILD_MONTHLY_TOKENS): "lots" is not a whole number`},
		{name: "bad api_type", file: "llm:\n  api_type: anthropic\n", wantErr: `llm.api_type: "anthropic" is not an API type: want openai or azure`},
		{name: "max_tokens for a reasoning model", file: "llm:\n  model: o3-mini\n  max_tokens_param: max_tokens\n", wantErr: `llm.max_tokens_param: model "o3-mini" is one of OpenAI's reasoning models`},
		{name: "bad max_tokens_param", file: "llm:\n  max_tokens_param: tokens\n", wantErr: `llm.max_tokens_param: "tokens": want auto, max_tokens or max_completion_tokens`},
		{name: "key in headers", file: "llm:\n  headers:\n    Authorization: Bearer sk-123\n", wantErr: "llm.headers.Authorization: credentials do not belong in the config file: set OPENAI_API_KEY"},
		{name: "bad header name", file: "llm:\n  headers:\n    \"X Title\": briefbot\n", wantErr: `"X Title" is not a valid HTTP header name`},
		{name: "negative price", file: "llm:\n  input_price_per_million: -1\n", wantErr: "llm.input_price_per_million: -1: want US dollars per million tokens"},
		{name: "call limit over the briefing's", file: "llm:\n  max_output_tokens: 5000\n", wantErr: "llm.max_output_tokens: 5000 is more than llm.output_budget (4000)"},
		{name: "negative allowance", file: "llm:\n  guild_monthly_tokens: -5\n", wantErr: "llm.guild_monthly_tokens: -5 is negative"},
		{name: "postgres URL with a slash in the password", file: "database: postgres://bob:p/ss@127.0.0.1:5/briefbot\n",
			wantErr: ":1: database: not a valid PostgreSQL URL: the user name or password holds a #, ?, @, / or space; percent-encode special characters in the user name and password (# → %23, ? → %3F, / → %2F, @ → %40)"},
		{name: "postgres URL with a bad port", file: "database: postgres://bob:pass@127.0.0.1:5x/briefbot\n", wantErr: ":1: database: not a valid PostgreSQL URL: invalid port"},
		{name: "postgres URL whose database name quotes the password", env: map[string]string{"BRIEFBOT_DATABASE": "postgres://db.example/pass%zzword"}, wantErr: "not a valid PostgreSQL URL: it does not parse", notOut: []string{"zzword"}},
		{name: "postgres URL with a bad parameter", env: map[string]string{"BRIEFBOT_DATABASE": "postgres://bob:hunter2@db.example/b?sslmode=sometimes"},
			wantErr: "config: database (from $BRIEFBOT_DATABASE): not a valid PostgreSQL URL: failed to configure TLS (sslmode is invalid); percent-encode"},
		{name: "postgres URL with an encoded password", env: map[string]string{"BRIEFBOT_DATABASE": "postgres://bob:p%2Fss%23x@db.example:5432/briefbot?sslmode=disable"},
			wantOut: []string{"database: postgres://xxxxx@db.example:5432/briefbot?sslmode=disable"}, notOut: []string{"p%2Fss"}},
		{name: "postgres URL with a # in the password", file: "database: postgres://bob:p#ss@127.0.0.1:5432/briefbot\n", wantErr: "database: not a valid PostgreSQL URL: the user name or password holds a #, ?, @, / or space; percent-encode"},
		{name: "postgres URL with a ? in the password", env: map[string]string{"BRIEFBOT_DATABASE": "postgres://bob:p?ss@db.example/briefbot"}, wantErr: "not a valid PostgreSQL URL: the user name or password holds a #, ?, @, / or space"},
		{name: "postgres URL with an @ in the password", env: map[string]string{"BRIEFBOT_DATABASE": "postgres://bob:p@ss@db.example/briefbot"}, wantErr: "not a valid PostgreSQL URL: the user name or password holds a #, ?, @, / or space"},
		{name: "postgres URL with an @ in a parameter", env: map[string]string{"BRIEFBOT_DATABASE": "postgres://bob@db.example/briefbot?application_name=a@b"}, wantOut: []string{"application_name=a@b"}},
		{name: "Azure and token defaults shown", wantOut: []string{"api_version: \"2024-10-21\"", "max_tokens_param: auto"}},
		{name: "another database's URL", env: map[string]string{"BRIEFBOT_DATABASE": "mysql://x"}, wantErr: "config: database (from $BRIEFBOT_DATABASE): a mysql:// URL is not a SQLite file path or a postgres:// URL"},
		{name: "keyword-value DSN", file: "database: host=db user=bob password=hunter2 dbname=briefbot\n",
			wantErr: ":1: database: PostgreSQL keyword/value strings (host=… user=…) are not supported: write it as a URL, postgres://user:password@host:5432/dbname?sslmode=require"},
		{name: "SQLite path", file: "database: ./data/briefbot.db\n", wantOut: []string{"database: ./data/briefbot.db"}},
		{name: "guild id", file: "discord:\n  guild_id: \"123456789012345678\"\n", wantOut: []string{"guild_id: \"123456789012345678\""}},
		{name: "bad guild id", file: "discord:\n  guild_id: my-server\n", wantErr: `:2: discord.guild_id: "my-server" is not a Discord server ID: want its 17 to 20 digits`},
		{name: "short guild id", file: "discord:\n  guild_id: \"1234\"\n", wantErr: `discord.guild_id: "1234" is not a Discord server ID`},
		{name: "summarizer extractive", wantOut: []string{"# summarizer: extractive (no OPENAI_API_KEY or llm.base_url)\n"}, notOut: []string{"# warning:"}},
		{name: "summarizer with key", env: map[string]string{"OPENAI_API_KEY": "sk-sekrit"},
			wantOut: []string{"# summarizer: language model gpt-4o-mini at https://api.openai.com/v1 (OPENAI_API_KEY set)\n"}, notOut: []string{"# warning:", "sekrit"}},
		{name: "summarizer openai without key", file: "llm:\n  base_url: https://api.openai.com/v1\n",
			wantOut: []string{"# summarizer: language model gpt-4o-mini at https://api.openai.com/v1 (OPENAI_API_KEY not set)\n", "# warning: llm.base_url is api.openai.com, which needs an API key, and OPENAI_API_KEY is not set"}},
		{name: "summarizer azure without key", file: "llm:\n  base_url: https://my.openai.azure.com\n  model: dep\n", wantOut: []string{"# warning: llm.base_url is my.openai.azure.com"}},
		{name: "summarizer openrouter without key", env: map[string]string{"OPENAI_BASE_URL": "https://openrouter.ai/api/v1"}, wantOut: []string{"# warning: llm.base_url is openrouter.ai"}},
		{name: "summarizer local model without key", env: map[string]string{"OPENAI_BASE_URL": "http://localhost:11434/v1", "BRIEFBOT_MODEL": "llama3.1"},
			wantOut: []string{"# summarizer: language model llama3.1 at http://localhost:11434/v1 (OPENAI_API_KEY not set)\n"}, notOut: []string{"# warning:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.file != "" {
				env["BRIEFBOT_CONFIG"] = writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml", tt.file)
			} else {
				env["BRIEFBOT_CONFIG"] = ""
			}
			c := newCLI(t, env)
			t.Chdir(t.TempDir()) // no ./briefbot.yaml
			out, _, err := c.run("config", "check")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("config check error = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "p/ss") {
					t.Errorf("config check error shows a password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("config check: %v", err)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.notOut {
				if strings.Contains(out, n) {
					t.Errorf("output contains %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	c := newCLI(t, nil)
	for _, args := range [][]string{{"--help"}, {"fetch", "--help"}, {"sources", "add", "--help"}, {"config", "check", "--help"}} {
		out, _, err := c.run(args...)
		if err != nil || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: err %v, output:\n%s", args, err, out)
		}
	}
	if out, _, err := c.run("version"); err != nil || !strings.HasPrefix(out, "briefbot ") {
		t.Errorf("version: %v %q", err, out)
	}
	if _, stderr, err := c.run("nonsense"); err == nil || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: %v %q", err, stderr)
	}
}

// A config source whose URL a CLI-added source already uses is skipped
// with a warning; commands keep working.
func TestConfigSourceClashWarns(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	c := newCLI(t, map[string]string{"BRIEFBOT_DATABASE": db, "BRIEFBOT_CONFIG": writeFile(t, dir, "a.yaml", "sources: []\n")})
	if _, _, err := c.run("sources", "add", "https://x.example/feed", "--no-check", "--name", "mine"); err != nil {
		t.Fatal(err)
	}
	c.env["BRIEFBOT_CONFIG"] = writeFile(t, dir, "b.yaml", "sources:\n  - name: theirs\n    url: https://x.example/feed\n")
	out, stderr, err := c.run("sources", "list")
	if err != nil || !strings.Contains(stderr, `config source "theirs" skipped`) || !strings.Contains(out, "mine") {
		t.Errorf("sources list with a clashing config: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	if _, _, err := c.run("sources", "remove", "mine"); err != nil {
		t.Errorf("removing the CLI source: %v", err)
	}
	if out, _, _ := c.run("sources", "list"); !strings.Contains(out, "theirs") {
		t.Errorf("after the clash is resolved the config source is synced:\n%s", out)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/feedserver"
)

// fixtureNow is shortly after the fixture feeds' articles were published.
var fixtureNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// newsCLI serves the fixture feeds in testdata/feeds and returns a CLI
// configured with them and the given topics YAML.
func newsCLI(t *testing.T, topicsYAML string, env map[string]string) *cli {
	t.Helper()
	srv := feedserver.New(t)
	var srcs strings.Builder
	for _, name := range []string{"wire", "herald", "analysis"} {
		body, err := os.ReadFile(filepath.Join("testdata", "feeds", name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		srv.Set("/"+name+".xml", feedserver.Doc{Body: string(body)})
		fmt.Fprintf(&srcs, "  - name: %s\n    url: %s/%s.xml\n    allow_private: true\n", name, srv.URL, name)
	}
	dir := t.TempDir()
	cfg := writeFile(t, dir, "briefbot.yaml", fmt.Sprintf("database: %s\nsources:\n%s%s", filepath.Join(dir, "b.db"), srcs.String(), topicsYAML))
	if env == nil {
		env = map[string]string{}
	}
	env["BRIEFBOT_CONFIG"] = cfg
	c := newCLI(t, env)
	c.now = func() time.Time { return fixtureNow }
	return c
}

type briefJSON struct {
	Topic          string   `json:"topic"`
	Query          string   `json:"query"`
	Lede           string   `json:"lede"`
	Summarizer     string   `json:"summarizer"`
	FallbackReason string   `json:"fallback_reason"`
	Searched       []string `json:"searched_sources"`
	Stories        []struct {
		Title   string `json:"title"`
		Bullets []struct {
			Text      string   `json:"text"`
			Citations []string `json:"citations"`
		} `json:"bullets"`
		Articles []struct {
			Title  string `json:"title"`
			URL    string `json:"url"`
			Outlet string `json:"outlet"`
		} `json:"articles"`
	} `json:"stories"`
}

func decodeBrief(t *testing.T, out string) briefJSON {
	t.Helper()
	var b briefJSON
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("brief json: %v\n%s", err, out)
	}
	return b
}

const korea = "topics:\n  - name: korea-talks\n    query: '\"north korea\" OR pyongyang OR \"kim jong un\" OR denuclearization -football'\n"

func TestBriefTopic(t *testing.T) {
	c := newsCLI(t, korea, nil)
	out, stderr, err := c.run("brief", "korea-talks", "--format", "json")
	if err != nil {
		t.Fatalf("brief: %v\n%s\n%s", err, out, stderr)
	}
	b := decodeBrief(t, out)
	if b.Topic != "korea-talks" || b.Summarizer != "extractive" {
		t.Errorf("topic %q summarizer %q", b.Topic, b.Summarizer)
	}
	var talks, missiles int
	for _, s := range b.Stories {
		urls := map[string]bool{}
		for _, a := range s.Articles {
			urls[a.URL] = true
			switch {
			case strings.Contains(a.URL, "pyongyang-cup"), strings.Contains(a.URL, "seoul-trade-fair"):
				t.Errorf("unrelated article %s in story %q", a.URL, s.Title)
			case strings.Contains(a.URL, "stockholm"):
				talks++
			case strings.Contains(a.URL, "missile"):
				missiles++
			}
		}
		if len(s.Bullets) == 0 {
			t.Errorf("story %q has no bullets", s.Title)
		}
		for _, bl := range s.Bullets {
			if len(bl.Citations) == 0 {
				t.Errorf("bullet %q cites nothing", bl.Text)
			}
			for _, u := range bl.Citations {
				if !urls[u] {
					t.Errorf("bullet %q cites %s, not an article of its story", bl.Text, u)
				}
			}
			for _, junk := range []string{"Credit:", "Leave a Reply", "appeared first", "Image caption", "newsletter"} {
				if strings.Contains(bl.Text, junk) {
					t.Errorf("bullet %q contains boilerplate %q", bl.Text, junk)
				}
			}
		}
	}
	if len(b.Stories) != 2 || talks != 3 || missiles != 1 {
		t.Errorf("got %d stories (talks articles %d, missile articles %d), want 2 stories: Stockholm talks (3 articles) and the missile launch\n%s", len(b.Stories), talks, missiles, out)
	}

	// Text and markdown render the same briefing.
	out, _, err = c.run("brief", "korea-talks", "--no-fetch")
	if err != nil || !strings.Contains(out, "1. ") || !strings.Contains(out, "[1]") {
		t.Errorf("text brief: %v\n%s", err, out)
	}
	out, _, err = c.run("brief", "korea-talks", "--no-fetch", "--format", "markdown")
	if err != nil || !strings.Contains(out, "## Briefing: korea-talks") || !strings.Contains(out, "](<http") {
		t.Errorf("markdown brief: %v\n%s", err, out)
	}
}

func TestBriefQuery(t *testing.T) {
	c := newsCLI(t, "", nil)
	out, _, err := c.run("brief", "--query", `"north korea" -stockholm`, "--format", "json")
	if err != nil {
		t.Fatalf("brief --query: %v\n%s", err, out)
	}
	b := decodeBrief(t, out)
	if len(b.Stories) != 1 || !strings.Contains(b.Stories[0].Articles[0].URL, "missile") {
		t.Errorf("want only the missile story:\n%s", out)
	}
	// Word boundaries: a partial word ("yongbyo") does not match Yongbyon.
	out, _, err = c.run("brief", "--query", "yongbyo", "--no-fetch", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if b := decodeBrief(t, out); len(b.Stories) != 0 || len(b.Searched) != 3 {
		t.Errorf("partial word matched, or searched sources missing:\n%s", out)
	}
	out, _, _ = c.run("brief", "--query", "volcano", "--no-fetch")
	if !strings.Contains(out, "Nothing matched") || !strings.Contains(out, "Searched 3 sources: analysis, herald, wire") {
		t.Errorf("no-match text:\n%s", out)
	}
}

func TestBriefErrors(t *testing.T) {
	c := newsCLI(t, korea, nil)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no topic or query", []string{"brief"}, "name a topic"},
		{"both", []string{"brief", "korea-talks", "--query", "x"}, "not both"},
		{"unknown topic", []string{"brief", "nope", "--no-fetch"}, `no topic named "nope": known topics: korea-talks`},
		{"malformed query", []string{"brief", "--query", `"north korea`}, "quote is never closed at column 1"},
		{"unbalanced", []string{"brief", "--query", "(a OR b"}, `"(" is never closed at column 1`},
		{"bad since", []string{"brief", "korea-talks", "--since", "forever"}, "bad --since"},
		{"bad format", []string{"brief", "korea-talks", "--format", "html"}, "bad --format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestTopicsCommands(t *testing.T) {
	c := newsCLI(t, korea, nil)
	if _, _, err := c.run("fetch"); err != nil {
		t.Fatal(err)
	}
	out, _, err := c.run("topics", "add", "missiles", "--query", "missile OR missiles")
	if err != nil || !strings.Contains(out, "1 stored article of the last 30 days matches it") {
		t.Errorf("topics add: %v\n%s", err, out)
	}
	if _, _, err := c.run("topics", "add", "bad", "--query", "a OR"); err == nil || !strings.Contains(err.Error(), "column") {
		t.Errorf("bad query: %v", err)
	}
	if _, _, err := c.run("topics", "add", "missiles", "--query", "x"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate topic: %v", err)
	}
	out, _, _ = c.run("topics", "list")
	if !strings.Contains(out, "korea-talks") || !strings.Contains(out, "missiles") {
		t.Errorf("topics list:\n%s", out)
	}
	out, _, err = c.run("brief", "missiles", "--no-fetch", "--format", "json")
	if b := decodeBrief(t, out); err != nil || len(b.Stories) != 1 {
		t.Errorf("brief on a new topic: %v\n%s", err, out)
	}
	if _, _, err := c.run("topics", "remove", "korea-talks"); err == nil || !strings.Contains(err.Error(), "config file") {
		t.Errorf("removing a config topic: %v", err)
	}
	if out, _, err := c.run("topics", "remove", "missiles"); err != nil || !strings.Contains(out, "removed topic missiles") {
		t.Errorf("topics remove: %v %s", err, out)
	}
}

func TestSummarize(t *testing.T) {
	story := "Envoys from the two countries met on Monday in Stockholm for the first working-level talks since the summit collapsed without an agreement. The delegations spent about eight hours discussing sanctions relief and the dismantling of a nuclear complex, a Swedish official said. The chief negotiator told reporters that the talks had broken down."
	arr := fmt.Sprintf(`[{"title":"Envoys meet in Stockholm","url":"https://a.example/1","text":%q,"outlet":"A"},
{"title":"Talks in Stockholm break down","url":"https://b.example/2?utm_source=x","text":%q,"outlet":"B","published":"2026-03-02T09:00:00Z"}]`, story, story+" More to follow.")
	c := newCLI(t, map[string]string{"BRIEFBOT_CONFIG": ""})
	c.now = func() time.Time { return fixtureNow }
	t.Chdir(t.TempDir())

	c.stdin = arr
	out, _, err := c.run("summarize", "--format", "json", "--max-words", "40")
	if err != nil {
		t.Fatalf("summarize: %v\n%s", err, out)
	}
	b := decodeBrief(t, out)
	if len(b.Stories) != 1 || len(b.Stories[0].Articles) != 2 || len(b.Stories[0].Bullets) == 0 {
		t.Fatalf("want one story of both copies with bullets:\n%s", out)
	}
	words := 0
	for _, bl := range b.Stories[0].Bullets {
		words += len(strings.Fields(bl.Text))
	}
	if words > 40 {
		t.Errorf("bullets have %d words, want at most 40", words)
	}

	c.stdin = `{"title":"One","text":"` + story + `"}` + "\n" + `{"title":"Two","url":"https://c.example/x","text":"Different text entirely."}` + "\n"
	if out, _, err := c.run("summarize"); err != nil || !strings.Contains(out, "1. ") {
		t.Errorf("JSON lines: %v\n%s", err, out)
	}

	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", "no articles"},
		{"not json", "hello", "article 1: not JSON"},
		{"bad second line", `{"title":"a"}` + "\n{oops", "article 2: not JSON"},
		{"not an object", `[{"title":"a"}, 42]`, "article 2: not an object"},
		{"no title or text", `[{"url":"https://x.example/"}]`, "needs a title or a text"},
		{"bad url", `[{"title":"a","url":"ftp://x"}]`, "bad url"},
		{"bad date", `[{"title":"a","published":"yesterday"}]`, `article 1: bad published "yesterday": want RFC 3339`},
		{"truncated array", `[{"title":"a"}`, "JSON array"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.stdin = tt.in
			if _, _, err := c.run("summarize"); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// Counts of one read as one: "1 due source", not "1 due sources".
func TestBriefFetchProgressOneSource(t *testing.T) {
	srv := feedserver.New(t)
	body, err := os.ReadFile(filepath.Join("testdata", "feeds", "wire.xml"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Set("/wire.xml", feedserver.Doc{Body: string(body)})
	dir := t.TempDir()
	cfg := writeFile(t, dir, "briefbot.yaml", fmt.Sprintf("database: %s\nsources:\n  - name: wire\n    url: %s/wire.xml\n    allow_private: true\n", filepath.Join(dir, "b.db"), srv.URL))
	c := newCLI(t, map[string]string{"BRIEFBOT_CONFIG": cfg})
	c.now = func() time.Time { return fixtureNow }
	_, stderr, err := c.run("brief", "--query", "volcano")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fetching 1 due source…\n", "fetched 1 source: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0 sources"}, {1, "1 source"}, {2, "2 sources"}} {
		if got := plural(tt.n, "source"); got != tt.want {
			t.Errorf("plural(%d, source) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// When no searched source has been fetched, "nothing matched" says so
// instead of blaming the query, and sources backing off are named.
func TestBriefAllSourcesFailing(t *testing.T) {
	srv := feedserver.New(t)
	srv.Set("/a.xml", feedserver.Doc{Status: 503})
	srv.Set("/b.xml", feedserver.Doc{Status: 404})
	dir := t.TempDir()
	src := "  - name: %s\n    url: %s/%s.xml\n    allow_private: true\n"
	one := fmt.Sprintf("database: %s\nsources:\n"+src, filepath.Join(dir, "one.db"), "a", srv.URL, "a")
	two := fmt.Sprintf("database: %s\nsources:\n"+src+src, filepath.Join(dir, "two.db"), "a", srv.URL, "a", "b", srv.URL, "b")
	tests := []struct {
		name, config, wantOut string
		wantSkipped           string
	}{
		{name: "one source", config: one, wantOut: "The one source searched, a, has not been fetched successfully (see `briefbot sources list`).",
			wantSkipped: "skipping 1 source backing off after failures (the first retries in "},
		{name: "two sources", config: two, wantOut: "None of the 2 sources searched has been fetched successfully (see `briefbot sources list`): a, b.",
			wantSkipped: "skipping 2 sources backing off after failures (the first retries in "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, map[string]string{"BRIEFBOT_CONFIG": writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml", tt.config)})
			c.now = func() time.Time { return fixtureNow }
			out, stderr, err := c.run("brief", "--query", "volcano")
			if err != nil {
				t.Fatal(err)
			}
			unwrapped := func(s string) string { return strings.Join(strings.Fields(s), " ") }
			if !strings.Contains(unwrapped(out), tt.wantOut) || strings.Contains(out, "`briefbot fetch`") {
				t.Errorf("first brief: stdout lacks %q (or still hints at fetch):\n%s", tt.wantOut, out)
			}
			if strings.Contains(stderr, "skipping") {
				t.Errorf("first brief skipped sources:\n%s", stderr)
			}
			// Now every source backs off: nothing is fetched, and stderr
			// says why.
			out, stderr, err = c.run("brief", "--query", "volcano")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(unwrapped(out), tt.wantOut) {
				t.Errorf("second brief: stdout lacks %q:\n%s", tt.wantOut, out)
			}
			if !strings.Contains(stderr, tt.wantSkipped) || strings.Contains(stderr, "fetching") {
				t.Errorf("second brief: stderr lacks %q (or fetched):\n%s", tt.wantSkipped, stderr)
			}
		})
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/feedserver"
	"github.com/briefbot/briefbot/sources"
	"github.com/google/go-cmp/cmp"
)

// importCLI returns a CLI on an empty database of its own with no config
// sources, at a fixed time.
func importCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	c := newCLI(t, map[string]string{"BRIEFBOT_DATABASE": filepath.Join(dir, "t.db"), "BRIEFBOT_CONFIG": writeFile(t, dir, "c.yaml", "sources: []\n")})
	c.now = func() time.Time { return time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC) }
	return c
}

// sourceList returns the CLI's sources as name → URL and interval.
func sourceList(t *testing.T, c *cli) map[string]string {
	t.Helper()
	out, _, err := c.run("sources", "list", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct{ Name, URL, Interval string }
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Name] = r.URL + " " + r.Interval
	}
	return got
}

const fixtureOPML = "testdata/opml/subscriptions.opml"

func TestSourcesImport(t *testing.T) {
	c := importCLI(t)
	if _, _, err := c.run("sources", "add", "https://existing.example/rss", "--no-check", "--name", "existing"); err != nil {
		t.Fatal(err)
	}
	report := `%[1]s harbour-herald https://herald.example/rss.xml (every 15m) from World
%[1]s wire-service-top-stories https://wire.example/top/feed (every 15m) from World
%[1]s peninsula-analysis https://analysis.example/feed/ (every 15m) from World / Asia
%[1]s sosik-example https://www.sosik.example/rss (every 15m) from World / Asia
%[1]s harbour-herald-2 https://herald.example/tech.xml (every 15m) from Tech
skipped "Wire again" https://WIRE.example/top/feed: listed before, as entry 2
%[1]s gopher-notes http://xxxxx@notes.example/atom.xml (every 15m) from Tech
skipped "Audio Hour" feed://audio.example/podcast: not an absolute http:// or https:// URL
skipped "Broken entry": the outline has no xmlUrl
skipped "Already here" https://existing.example/rss: already a source (existing)
%[1]s 6, skipped 4 (1 listed twice, 1 not http(s), 1 no xmlUrl, 1 already a source)%[2]s
`
	out, _, err := c.run("sources", "import", fixtureOPML, "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out, fmt.Sprintf(report, "would add", "; dry run, nothing stored")); diff != "" {
		t.Errorf("import --dry-run (-got +want):\n%s", diff)
	}
	if got := sourceList(t, c); len(got) != 1 {
		t.Errorf("a dry run stored sources: %v", got)
	}

	out, _, err = c.run("sources", "import", fixtureOPML)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(out, fmt.Sprintf(report, "added", "; run `briefbot fetch` to poll them now")); diff != "" {
		t.Errorf("import (-got +want):\n%s", diff)
	}
	want := map[string]string{
		"existing":                 "https://existing.example/rss 15m0s",
		"harbour-herald":           "https://herald.example/rss.xml 15m0s",
		"wire-service-top-stories": "https://wire.example/top/feed 15m0s",
		"peninsula-analysis":       "https://analysis.example/feed/ 15m0s",
		"sosik-example":            "https://www.sosik.example/rss 15m0s",
		"harbour-herald-2":         "https://herald.example/tech.xml 15m0s",
		"gopher-notes":             "http://xxxxx@notes.example/atom.xml 15m0s",
	}
	if diff := cmp.Diff(sourceList(t, c), want); diff != "" {
		t.Errorf("sources after import (-got +want):\n%s", diff)
	}

	// Again: every feed is a source now.
	out, _, err = c.run("sources", "import", fixtureOPML)
	if err != nil || !strings.HasSuffix(out, "\nadded 0, skipped 10 (8 already a source, 1 not http(s), 1 no xmlUrl)\n") {
		t.Errorf("import again: %v\n%s", err, out)
	}

	// From standard input, with --interval.
	c.stdin = `<opml version="2.0"><body><outline text="Stdin Feed" xmlUrl="https://stdin.example/feed"/></body></opml>`
	out, _, err = c.run("sources", "import", "-", "--interval", "2h")
	if err != nil || out != "added stdin-feed https://stdin.example/feed (every 2h)\nadded 1, skipped 0; run `briefbot fetch` to poll them now\n" {
		t.Errorf("import from stdin: %v\n%s", err, out)
	}
	c.stdin = ""
}

func TestSourcesImportErrors(t *testing.T) {
	c := importCLI(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		name, file, want string
	}{
		{"missing file", filepath.Join(dir, "nope.opml"), "no such file"},
		{"an rss feed", writeFile(t, dir, "feed.xml", fixtureFeed("Alpha", 1)), "feed.xml: not an OPML document: the document is <rss>, not <opml>"},
		{"not xml", writeFile(t, dir, "notes.txt", "https://a.example/feed\n"), "not an OPML document"},
		{"bad interval in the file", writeFile(t, dir, "iv.opml", `<opml><body><outline text="a" xmlUrl="https://a.example/" briefbot:interval="soon"/></body></opml>`), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := c.run("sources", "import", tt.file)
			if tt.want == "" {
				if err != nil || !strings.Contains(out, `skipped "a" https://a.example/: briefbot:interval: bad duration "soon"`) || !strings.Contains(out, "1 bad interval") {
					t.Errorf("import: %v\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("import error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	big := writeFile(t, dir, "big.opml", "<opml><body>"+strings.Repeat(" ", maxOPMLBytes)+"</body></opml>")
	if _, _, err := c.run("sources", "import", big); err == nil || !strings.Contains(err.Error(), "larger than 10 MiB") {
		t.Errorf("import of a huge file: %v", err)
	}
	empty := writeFile(t, dir, "empty.opml", `<opml version="2.0"><head/><body/></opml>`)
	if out, _, err := c.run("sources", "import", empty); err != nil || out != empty+" lists no feeds; nothing to import\n" {
		t.Errorf("import of an empty list: %v %q", err, out)
	}
	if got := sourceList(t, c); len(got) != 0 {
		t.Errorf("sources stored: %v", got)
	}
}

// --check fetches each feed with the SSRF guard of `sources add`: a
// feed on a loopback address is refused, and nothing is stored.
func TestSourcesImportCheckRefusesPrivate(t *testing.T) {
	srv := feedserver.New(t)
	srv.Set("/feed.xml", feedserver.Doc{Body: fixtureFeed("Local", 2)})
	c := importCLI(t)
	c.stdin = fmt.Sprintf(`<opml><body><outline text="Local" xmlUrl="%s/feed.xml"/></body></opml>`, srv.URL)
	out, _, err := c.run("sources", "import", "-", "--check")
	if err != nil || !strings.Contains(out, `skipped "Local" `+srv.URL+"/feed.xml: not a usable feed: ") ||
		!strings.Contains(out, "refusing") || !strings.HasSuffix(out, "added 0, skipped 1 (1 failed check)\n") {
		t.Errorf("import --check of a loopback feed: %v\n%s", err, out)
	}
	if hits, _ := srv.Hits("/feed.xml"); hits != 0 {
		t.Errorf("the loopback feed was fetched %d times", hits)
	}
	if got := sourceList(t, c); len(got) != 0 {
		t.Errorf("sources stored: %v", got)
	}
}

// Without --check, feeds whose host is a non-public address literal or a
// localhost name are skipped at once; names are left to the poll-time
// guard.
func TestSourcesImportRefusesPrivateLiterals(t *testing.T) {
	c := importCLI(t)
	c.stdin = `<opml><body>
<outline text="Intranet" xmlUrl="http://10.0.0.1/feed"/>
<outline text="Here" xmlUrl="http://localhost:8080/rss"/>
<outline text="Mapped" xmlUrl="http://[::ffff:127.0.0.1]/rss"/>
<outline text="Public" xmlUrl="https://news.example/rss"/>
</body></opml>`
	out, _, err := c.run("sources", "import", "-")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`skipped "Intranet" http://10.0.0.1/feed: refusing to connect to 10.0.0.1: private address (allowed only for operator sources with allow_private: true)`,
		`skipped "Here" http://localhost:8080/rss: refusing to connect to localhost: loopback name`,
		`skipped "Mapped" http://[::ffff:127.0.0.1]/rss: refusing to connect to ::ffff:127.0.0.1: loopback address (IPv4-mapped)`,
		"added public https://news.example/rss",
		"added 1, skipped 3 (3 not public)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	if got := sourceList(t, c); len(got) != 1 {
		t.Errorf("sources stored: %v", got)
	}
}

// checkFeeds checks at most limit feeds at once, skips those that fail,
// and names an untitled feed after the title it found.
func TestCheckFeeds(t *testing.T) {
	var feeds []sources.OPMLFeed
	for i := range 12 {
		feeds = append(feeds, sources.OPMLFeed{Title: fmt.Sprintf("Feed %d", i), URL: fmt.Sprintf("https://f%d.example/rss", i)})
	}
	feeds = append(feeds, sources.OPMLFeed{URL: "https://untitled.example/rss"}, sources.OPMLFeed{Title: "Not http", URL: "gopher://x.example/"})
	entries := planImport(feeds, nil, 15*time.Minute, false, false)
	var inFlight, most atomic.Int32
	var mu sync.Mutex
	var checked []string
	err := checkFeeds(t.Context(), entries, 3, func(ctx context.Context, url string) (string, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		checked = append(checked, url)
		mu.Unlock()
		switch url {
		case "https://f4.example/rss":
			return "", errors.New("sources: not a feed: an HTML page")
		case "https://untitled.example/rss":
			return "The Untitled Gazette", nil
		}
		return "ignored: the outline has a title", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m > 3 || m < 2 {
		t.Errorf("%d checks at once, want at most 3 (and some concurrency)", m)
	}
	if len(checked) != 13 {
		t.Errorf("%d feeds checked, want 13 (not the gopher one)", len(checked))
	}
	nameImports(entries, nil)
	if e := entries[4]; e.skip != skipCheck || e.detail != "not a usable feed: sources: not a feed: an HTML page" {
		t.Errorf("failed check: %+v", e)
	}
	if e := entries[12]; e.skip != "" || e.name != "the-untitled-gazette" {
		t.Errorf("untitled feed: %+v", e)
	}
	if e := entries[0]; e.name != "feed-0" {
		t.Errorf("titled feed named %q", e.name)
	}

	// A cancelled import checks nothing more and says so.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	entries = planImport(feeds[:2], nil, time.Hour, false, false)
	if err := checkFeeds(ctx, entries, 1, func(ctx context.Context, url string) (string, error) { return "", ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled checkFeeds = %v", err)
	}
	for _, e := range entries {
		if e.skip != skipCheck {
			t.Errorf("entry %+v not skipped", e)
		}
	}
}

func TestImportNames(t *testing.T) {
	for _, tt := range []struct{ title, url, want string }{
		{"bbc.world_2", "https://x.example/", "bbc.world_2"},
		{"BBC News — World", "https://x.example/", "bbc-news-world"},
		{"  Wire: Top Stories!  ", "https://x.example/", "wire-top-stories"},
		{"연합뉴스", "https://www.yna.example/rss", "yna-example"},
		{"", "https://feeds.example.org/a", "feeds-example-org"},
		{"", "https://127.0.0.1:8080/a", "127-0-0-1"},
		{"-dash", "https://x.example/", "dash"},
		{"BBC Türkçe", "https://x.example/", "bbc-turkce"},
		{"Anadolu Ajansı", "https://x.example/", "anadolu-ajansi"},
		{"Ærø Tidende — Straße", "https://x.example/", "aero-tidende-strasse"},
		{"ﬁnance ①", "https://x.example/", "finance-1"},
	} {
		if got := importName(tt.title, tt.url); got != tt.want {
			t.Errorf("importName(%q, %q) = %q, want %q", tt.title, tt.url, got, tt.want)
		}
	}
	taken := map[string]bool{"a": true, "a-2": true, strings.Repeat("x", 64): true}
	if got := uniqueName("a", taken); got != "a-3" {
		t.Errorf("uniqueName(a) = %q", got)
	}
	if got := uniqueName("b", taken); got != "b" {
		t.Errorf("uniqueName(b) = %q", got)
	}
	long := uniqueName(strings.Repeat("x", 64), taken)
	if long != strings.Repeat("x", 62)+"-2" || !sourceNamePattern.MatchString(long) {
		t.Errorf("uniqueName of a 64-character name = %q", long)
	}
}

func TestSourcesExport(t *testing.T) {
	c := importCLI(t)
	out, stderr, err := c.run("sources", "export")
	if err != nil || !strings.Contains(stderr, "no sources to export") {
		t.Fatalf("export of nothing: %v %s", err, stderr)
	}
	if feeds, err := sources.ParseOPML(strings.NewReader(out)); err != nil || len(feeds) != 0 {
		t.Errorf("export of nothing = %v, %v:\n%s", feeds, err, out)
	}

	if _, _, err := c.run("sources", "add", "https://a.example/rss", "--no-check", "--name", "alpha", "--interval", "30m"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("sources", "add", "https://bob:hunter2@b.example/feed?x=1&y=2", "--no-check", "--name", "beta.private", "--interval", "90m"); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = c.run("sources", "export")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0" xmlns:briefbot="https://github.com/briefbot/briefbot/opml">
  <head>
    <title>briefbot sources</title>
    <dateCreated>Mon, 02 Mar 2026 08:00:00 +0000</dateCreated>
    <docs>https://opml.org/spec2.opml</docs>
  </head>
  <body>
    <outline type="rss" text="alpha" title="alpha" xmlUrl="https://a.example/rss" briefbot:interval="30m"></outline>
    <outline type="rss" text="beta.private" title="beta.private" xmlUrl="https://b.example/feed?x=1&amp;y=2" briefbot:interval="1h30m"></outline>
  </body>
</opml>
`
	if diff := cmp.Diff(out, want); diff != "" {
		t.Errorf("export (-got +want):\n%s", diff)
	}
	if !strings.Contains(stderr, "the credentials in the URLs of beta.private are left out; --with-credentials keeps them") || strings.Contains(out+stderr, "hunter2") {
		t.Errorf("export without credentials: stderr %q", stderr)
	}

	file := filepath.Join(t.TempDir(), "backup.opml")
	out, _, err = c.run("sources", "export", file, "--with-credentials")
	if err != nil || out != "exported 2 sources to "+file+"\n" {
		t.Fatalf("export to a file: %v %q", err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), `xmlUrl="https://bob:hunter2@b.example/feed?x=1&amp;y=2"`) {
		t.Errorf("export --with-credentials: %v\n%s", err, data)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("a file with credentials has mode %v, %v; want 0600", info.Mode(), err)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}
	if _, _, err := c.run("sources", "export", filepath.Join(t.TempDir(), "no", "such", "dir.opml")); err == nil {
		t.Error("export into a missing directory succeeded")
	}
}

// roundTrip imports file into a new database, exports it, imports that
// into another and exports again: the two exports are the same, and the
// second import skips nothing. It returns the first export.
func roundTrip(t *testing.T, file string) string {
	t.Helper()
	first := importCLI(t)
	out, _, err := first.run("sources", "import", file)
	if err != nil {
		t.Fatalf("import %s: %v", file, err)
	}
	t.Logf("import %s: %s", file, out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	exported := filepath.Join(t.TempDir(), "export.opml")
	if _, _, err := first.run("sources", "export", exported, "--with-credentials"); err != nil {
		t.Fatal(err)
	}
	second := importCLI(t)
	out, _, err = second.run("sources", "import", exported)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "skipped") && !strings.Contains(out, "skipped 0") {
		t.Errorf("importing an export skipped entries:\n%s", out)
	}
	again, _, err := second.run("sources", "export", "--with-credentials")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(again, string(data)); diff != "" {
		t.Errorf("export(import(export)) differs from export (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(sourceList(t, second), sourceList(t, first)); diff != "" {
		t.Errorf("sources after the round trip (-got +want):\n%s", diff)
	}
	return string(data)
}

func TestSourcesImportExportRoundTrip(t *testing.T) {
	exported := roundTrip(t, fixtureOPML)
	feeds, err := sources.ParseOPML(strings.NewReader(exported))
	if err != nil || len(feeds) != 7 {
		t.Errorf("the export lists %d feeds, %v; want the fixture's 7 usable ones", len(feeds), err)
	}
}

// The round trip on real-world OPML files: those of the shared corpus,
// and $BRIEFBOT_TEST_OPML (a file or a directory, your own reader's
// export say), when there are any.
func TestSourcesImportExportRoundTripCorpus(t *testing.T) {
	roots := []string{filepath.Join("..", "..", "..", "shared", "corpora")}
	if p := os.Getenv("BRIEFBOT_TEST_OPML"); p != "" {
		roots = append(roots, p)
	}
	var files []string
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (path == root || strings.Contains(strings.ToLower(d.Name()), "opml")) {
				files = append(files, path)
			}
			return nil
		})
	}
	if len(files) == 0 {
		t.Skipf("no OPML file in %s (set BRIEFBOT_TEST_OPML to try one)", strings.Join(roots, " or "))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			feeds, err := readOPML(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			exported := roundTrip(t, f)
			again, err := sources.ParseOPML(strings.NewReader(exported))
			if err != nil || len(again) == 0 || len(again) > len(feeds) {
				t.Errorf("%s: %d feeds, exported %d, %v", f, len(feeds), len(again), err)
			}
		})
	}
}

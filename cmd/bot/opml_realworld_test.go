package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// realWorldOPML is a feed list published on the web (see its NOTICE).
const realWorldOPML = "testdata/opml/real-world/top100.opml"

// TestSourcesImportRealWorldOPML imports a real-world OPML file (Share
// Your OPML's "Top 100 Feeds" of 2007): every feed is added under a
// distinct name with its URL exactly as listed, and an export of them
// imports into a fresh database as the same sources (roundTrip).
func TestSourcesImportRealWorldOPML(t *testing.T) {
	data, err := os.ReadFile(realWorldOPML)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range regexp.MustCompile(`xmlUrl="([^"]+)"`).FindAllStringSubmatch(string(data), -1) {
		want = append(want, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	if len(want) != 100 {
		t.Fatalf("the fixture lists %d feeds, want 100", len(want))
	}

	c := importCLI(t)
	out, _, err := c.run("sources", "import", realWorldOPML)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if !strings.Contains(out, "added 100, skipped 0") {
		t.Errorf("import summary:\n%s", out)
	}
	var got []string
	for name, v := range sourceList(t, c) {
		if !sourceNamePattern.MatchString(name) {
			t.Errorf("source name %q is not a valid name", name)
		}
		got = append(got, strings.Fields(v)[0])
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("imported URLs differ from the file's:\n got %q\nwant %q", got, want)
	}

	exported := roundTrip(t, realWorldOPML)
	if n := strings.Count(exported, "xmlUrl="); n != 100 {
		t.Errorf("the export lists %d feeds, want 100", n)
	}
}

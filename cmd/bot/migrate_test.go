package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "from.db"), filepath.Join(dir, "to.db")
	c := newsCLI(t, korea, map[string]string{"BRIEFBOT_DATABASE": from})
	if _, _, err := c.run("fetch"); err != nil {
		t.Fatal(err)
	}
	out, _, err := c.run("migrate", "--from", "sqlite:"+from, "--to", "sqlite:"+to)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	added := regexp.MustCompile(`(?m)^articles\s+(\d+) read\s+(\d+) added`).FindStringSubmatch(out)
	if added == nil || added[1] == "0" || added[1] != added[2] {
		t.Fatalf("first migrate did not copy the articles:\n%s", out)
	}
	again, _, err := c.run("migrate", "--from", "sqlite:"+from, "--to", "sqlite:"+to)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(\d+) added`).FindAllStringSubmatch(again, -1) {
		if m[1] != "0" {
			t.Errorf("second migrate added rows:\n%s", again)
			break
		}
	}
	if !regexp.MustCompile(`(?m)^sources\s+3 read\s+0 added`).MatchString(again) {
		t.Errorf("second migrate output:\n%s", again)
	}
	// The copy is a working installation.
	c.env["BRIEFBOT_DATABASE"] = to
	if out, _, err := c.run("brief", "korea-talks", "--no-fetch", "--format", "json"); err != nil || !strings.Contains(out, "Stockholm") {
		t.Errorf("brief on the copy: %v\n%s", err, out)
	}
	// A --from that names no file fails, and is not created.
	nope := filepath.Join(dir, "nope.db")
	if _, _, err := c.run("migrate", "--from", "sqlite:"+nope, "--to", "sqlite:"+filepath.Join(dir, "copy2.db")); err == nil || !strings.Contains(err.Error(), "--from "+nope+": no such database file") {
		t.Errorf("migrate --from a missing file: %v", err)
	}
	if _, err := os.Stat(nope); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("migrate --from a missing file created it: %v", err)
	}
	if _, _, err := c.run("migrate", "--from", dir, "--to", "sqlite:"+filepath.Join(dir, "copy3.db")); err == nil || !strings.Contains(err.Error(), "a directory, not a database file") {
		t.Errorf("migrate --from a directory: %v", err)
	}
	for _, bad := range [][]string{
		{"migrate", "--from", "sqlite:" + from},
		{"migrate", "--from", from, "--to", "sqlite:" + from},
		{"migrate", "--from", from, "--to", to, "--articles-since", "soon"},
	} {
		if _, _, err := c.run(bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

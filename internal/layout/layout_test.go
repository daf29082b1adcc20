// Package layout holds the test that enforces the import rules of
// DESIGN.md: which project packages and SDKs each package may import.
package layout

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/briefbot/briefbot"

// rule says what a package may import: project packages (relative to the
// module, transitively) and third-party module path prefixes (directly).
type rule struct {
	project    []string
	thirdParty []string
}

var rules = map[string]rule{
	"digest":   {thirdParty: []string{"golang.org/x/text"}}, // DESIGN.md: "stdlib (and x/text if needed)"
	"sources":  {project: []string{"digest"}, thirdParty: []string{"github.com/mmcdole/gofeed", "codeberg.org/readeck/go-readability/v2", "golang.org/x/net", "golang.org/x/text", "github.com/gogs/chardet"}},
	"prompts":  {project: []string{"digest"}},
	"llm":      {project: []string{"digest", "prompts"}, thirdParty: []string{"github.com/sashabaranov/go-openai"}},
	"sqlstore": {project: []string{"digest"}, thirdParty: []string{"modernc.org/sqlite", "github.com/jackc/pgx/v5"}},
	"jobs":     {project: []string{"digest"}, thirdParty: []string{"github.com/riverqueue/river", "github.com/jackc/pgx/v5/pgxpool"}},
	"schedule": {project: []string{"digest"}, thirdParty: []string{"github.com/robfig/cron/v3"}},
	"discord":  {project: []string{"digest"}, thirdParty: []string{"github.com/bwmarrin/discordgo"}},
}

// sdks may each be imported directly by one project package only (tests and
// internal test servers aside).
var sdks = []string{
	"github.com/bwmarrin/discordgo", "github.com/sashabaranov/go-openai", "github.com/robfig/cron/v3",
	"github.com/riverqueue/river", "github.com/mmcdole/gofeed", "codeberg.org/readeck/go-readability/v2",
	"modernc.org/sqlite", "github.com/jackc/pgx/v5",
}

// sharedSDKs are SDKs two packages must name: River's PostgreSQL driver
// takes a pgx pool, so the job queue opens one (pgxpool only) while
// sqlstore owns the SQL. Users are listed sorted.
var sharedSDKs = map[string][]string{
	"github.com/jackc/pgx/v5": {"jobs", "sqlstore"},
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	sdkUsers := map[string][]string{}
	seen := map[string]bool{}
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		top, _, _ := strings.Cut(rel, "/")
		seen[top] = true
		if top == "internal" || top == "cmd" {
			continue
		}
		r, ok := rules[top]
		if !ok {
			t.Errorf("package %s is not in DESIGN.md's layout table; add a rule here when adding a package", p.ImportPath)
			continue
		}
		for _, d := range p.Deps {
			if !strings.HasPrefix(d, module+"/") {
				continue
			}
			dtop, _, _ := strings.Cut(strings.TrimPrefix(d, module+"/"), "/")
			if dtop != top && !slices.Contains(r.project, dtop) {
				t.Errorf("%s depends on %s; DESIGN.md allows only %v", p.ImportPath, d, r.project)
			}
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) || isStd(imp) {
				continue
			}
			if !hasPrefix(imp, r.thirdParty) {
				t.Errorf("%s imports %s; DESIGN.md allows only %v", p.ImportPath, imp, r.thirdParty)
			}
			for _, sdk := range sdks {
				if imp == sdk || strings.HasPrefix(imp, sdk+"/") {
					sdkUsers[sdk] = appendUnique(sdkUsers[sdk], top)
				}
			}
		}
	}
	for sdk, users := range sdkUsers {
		if sharedSDKs[sdk] != nil && slices.Equal(sortedCopy(users), sharedSDKs[sdk]) {
			continue
		}
		if len(users) > 1 {
			t.Errorf("%s is imported by %v; each SDK belongs to one package", sdk, users)
		}
	}
	for _, must := range []string{"digest", "sources", "cmd"} {
		if !seen[must] {
			t.Errorf("package %s not found: is the layout test run from the module?", must)
		}
	}
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func hasPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

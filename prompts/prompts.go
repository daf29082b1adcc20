// Package prompts holds the prompt templates of the LLM summarizer and
// renders them. Prompts are data: the templates (*.tmpl, embedded in the
// binary) can be replaced file by file from a directory, and their hash is
// part of every summary cache key, so a prompt change never serves a
// summary written under the old prompt.
//
// Rendering is a pure function of its input. Article text is untrusted:
// each article is fenced between marker lines carrying a nonce derived
// from the content and chosen so that no article contains it, so an
// article cannot close its fence and speak outside it.
//
// The templates are text/template files:
//
//   - story.system.tmpl and story.user.tmpl render a StoryData (with its
//     Fence) into the system and user messages of a summary request;
//   - story.retry.tmpl renders a RetryData: the follow-up message after
//     an invalid reply;
//   - story.repair.tmpl renders a RepairData: the follow-up message that
//     asks for bullets that broke the rules to be rewritten.
//
// Templates may call language (an empty language reads "the language of
// the articles"), date (a time in UTC, or "unknown"), join
// (strings.Join) and quote (strconv.Quote).
package prompts

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// The template files a Set holds.
const (
	StorySystem = "story.system.tmpl"
	StoryUser   = "story.user.tmpl"
	StoryRetry  = "story.retry.tmpl"
	StoryRepair = "story.repair.tmpl"
)

// names lists every template file a Set holds, sorted.
func names() []string {
	return []string{StoryRepair, StoryRetry, StorySystem, StoryUser}
}

//go:embed *.tmpl
var embedded embed.FS

// Set is a complete, parsed set of prompt templates. It is immutable and
// safe for concurrent use.
type Set struct {
	tmpl map[string]*template.Template
	hash string
}

// StoryData is what the story prompts are rendered from.
type StoryData struct {
	// Language is the language to write in, as a name or BCP 47 tag; empty
	// means the articles' own language.
	Language string
	// MaxBullets and MaxWords bound the summary: bullets, and words of all
	// bullets together.
	MaxBullets int
	MaxWords   int
	// Articles are the story's articles as the model sees them.
	Articles []Article
}

// Article is one article of a story prompt. Outlet, Title and Text are
// untrusted; the renderer fences them.
type Article struct {
	// Index is the number the model cites the article by.
	Index     int
	Outlet    string
	Title     string
	Published time.Time
	Text      string
}

// RetryData is what story.retry.tmpl is rendered from.
type RetryData struct {
	// Reason says what was wrong with the reply, without a final period.
	Reason string
}

// RepairData is what story.repair.tmpl is rendered from.
type RepairData struct {
	Bullets []RepairBullet
}

// RepairBullet is a bullet that broke the rules.
type RepairBullet struct {
	// Number is the bullet's position in the reply, from 1.
	Number int
	Text   string
	// Problems say what is wrong with it, one phrase each.
	Problems []string
}

// Default returns the embedded templates. It panics if they do not parse,
// which the package's tests rule out.
func Default() *Set {
	s, err := load(nil)
	if err != nil {
		panic(err)
	}
	return s
}

// Load returns the embedded templates with those in dir replacing the
// embedded ones of the same file name. Only *.tmpl files in dir are read;
// one with an unknown name, or one that does not parse or render, is an
// error naming the file. An empty dir means the defaults.
func Load(dir string) (*Set, error) {
	if dir == "" {
		return load(nil)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	override := make(map[string]string)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if !slices.Contains(names(), e.Name()) {
			return nil, fmt.Errorf("prompts: %s: unknown template (known: %s)", path, strings.Join(names(), ", "))
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("prompts: %w", err)
		}
		override[path] = string(b)
	}
	return load(override)
}

// load parses the embedded templates, replaced by override (keyed by path,
// whose base name is the template name).
func load(override map[string]string) (*Set, error) {
	src := make(map[string]string)
	path := make(map[string]string)
	for _, name := range names() {
		b, err := fs.ReadFile(embedded, name)
		if err != nil {
			return nil, fmt.Errorf("prompts: embedded %s: %w", name, err)
		}
		src[name], path[name] = string(b), name
	}
	for p, s := range override {
		src[filepath.Base(p)], path[filepath.Base(p)] = s, p
	}
	set := &Set{tmpl: make(map[string]*template.Template)}
	h := sha256.New()
	for _, name := range names() {
		t, err := template.New(name).Funcs(funcs()).Option("missingkey=error").Parse(src[name])
		if err != nil {
			return nil, fmt.Errorf("prompts: %s: %v", path[name], err)
		}
		set.tmpl[name] = t
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", name, len(src[name]), src[name])
	}
	set.hash = hex.EncodeToString(h.Sum(nil)[:16])
	// Render a sample so that a template naming a missing field fails
	// now, not at the first briefing.
	sample := StoryData{Language: "English", MaxBullets: 3, MaxWords: 90, Articles: []Article{{Index: 1, Outlet: "Outlet", Title: "Title", Published: time.Unix(0, 0), Text: "Text."}}}
	checks := []struct {
		name string
		data any
	}{
		{StorySystem, storyView{sample, "0"}},
		{StoryUser, storyView{sample, "0"}},
		{StoryRetry, RetryData{Reason: "reason"}},
		{StoryRepair, RepairData{Bullets: []RepairBullet{{Number: 1, Text: "Text.", Problems: []string{"problem"}}}}},
	}
	for _, c := range checks {
		if _, err := set.render(c.name, c.data); err != nil {
			return nil, fmt.Errorf("prompts: %s: %v", path[c.name], errors.Unwrap(err))
		}
	}
	return set, nil
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"language": func(l string) string {
			if strings.TrimSpace(l) == "" {
				return "the language of the articles"
			}
			return l
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "unknown"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"join":  strings.Join,
		"quote": strconv.Quote,
	}
}

// Hash identifies the templates' sources: it changes when any template
// changes. It is part of every summary cache key.
func (s *Set) Hash() string { return s.hash }

// storyView is what the story templates see: the data, cleaned, and the
// fence nonce.
type storyView struct {
	StoryData
	Fence string
}

// Story renders the system and user messages that ask for a summary of
// one story. Outlets and titles are put on one line each, and every
// article is fenced with a nonce that no article contains.
func (s *Set) Story(data StoryData) (system, user string, err error) {
	v := storyView{StoryData: data}
	v.Articles = make([]Article, len(data.Articles))
	for i, a := range data.Articles {
		a.Outlet = oneLine(a.Outlet)
		a.Title = oneLine(a.Title)
		a.Text = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(a.Text, "\r\n", "\n"), "\r", "\n"))
		v.Articles[i] = a
	}
	v.Fence = fence(v.Articles)
	if system, err = s.render(StorySystem, v); err != nil {
		return "", "", err
	}
	if user, err = s.render(StoryUser, v); err != nil {
		return "", "", err
	}
	return system, user, nil
}

// Retry renders the follow-up message after an invalid reply.
func (s *Set) Retry(data RetryData) (string, error) {
	return s.render(StoryRetry, data)
}

// Repair renders the follow-up message asking for bullets to be rewritten.
func (s *Set) Repair(data RepairData) (string, error) {
	return s.render(StoryRepair, data)
}

func (s *Set) render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := s.tmpl[name].Execute(&b, data); err != nil {
		return "", fmt.Errorf("prompts: render %s: %w", name, err)
	}
	return b.String(), nil
}

// fence returns a nonce for the article fences: derived from the articles,
// so rendering is deterministic, and contained in none of them, so no
// article can forge its fence's end.
func fence(articles []Article) string {
	h := sha256.New()
	for _, a := range articles {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00", a.Index, a.Outlet, a.Title, a.Text)
	}
	seed := h.Sum(nil)
	for n := 0; ; n++ {
		sum := sha256.Sum256(append(seed, strconv.Itoa(n)...))
		nonce := hex.EncodeToString(sum[:8])
		if !slices.ContainsFunc(articles, func(a Article) bool {
			return strings.Contains(a.Outlet, nonce) || strings.Contains(a.Title, nonce) || strings.Contains(a.Text, nonce)
		}) {
			return nonce
		}
	}
}

// oneLine collapses runs of white space, line breaks included, to one space.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

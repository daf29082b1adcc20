package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// render writes a briefing in the given format: text, markdown or json.
// now is used for relative times in text.
func render(w io.Writer, b digest.Briefing, format string, now time.Time) error {
	switch format {
	case "json":
		return writeJSON(w, briefingJSON(b))
	case "markdown":
		_, err := io.WriteString(w, renderMarkdown(b))
		return err
	default:
		_, err := io.WriteString(w, renderText(b, now))
		return err
	}
}

// jsonBriefing is the `--format json` shape; field names are a public
// interface for scripts.
type jsonBriefing struct {
	Topic          string      `json:"topic"`
	Query          string      `json:"query"`
	From           time.Time   `json:"from"`
	To             time.Time   `json:"to"`
	Lede           string      `json:"lede"`
	Summarizer     string      `json:"summarizer"`
	Model          string      `json:"model"`
	FallbackReason string      `json:"fallback_reason"`
	Dropped        int         `json:"dropped_bullets"`
	Matched        int         `json:"matched_articles"`
	Searched       []string    `json:"searched_sources,omitempty"`
	Stories        []jsonStory `json:"stories"`
}

type jsonStory struct {
	Title    string        `json:"title"`
	Outlets  int           `json:"outlets"`
	Bullets  []jsonBullet  `json:"bullets"`
	Articles []jsonArticle `json:"articles"`
}

type jsonBullet struct {
	Text      string   `json:"text"`
	Citations []string `json:"citations"`
}

type jsonArticle struct {
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	Outlet    string    `json:"outlet"`
	Published time.Time `json:"published"`
}

func briefingJSON(b digest.Briefing) jsonBriefing {
	out := jsonBriefing{
		Topic: b.Topic, Query: b.Query, From: b.From, To: b.To, Lede: b.Lede,
		Summarizer: b.Summarizer, Model: b.Model, FallbackReason: b.FallbackReason,
		Dropped: b.Dropped, Matched: b.Matched, Searched: b.Searched,
		Stories: make([]jsonStory, 0, len(b.Stories)),
	}
	for _, s := range b.Stories {
		js := jsonStory{Title: s.Headline, Outlets: s.Outlets(), Bullets: []jsonBullet{}}
		for _, bl := range s.Bullets {
			jb := jsonBullet{Text: bl.Text, Citations: []string{}}
			for _, c := range bl.Citations {
				if u := s.Articles[c].URL; u != "" && !slices.Contains(jb.Citations, u) {
					jb.Citations = append(jb.Citations, u)
				}
			}
			js.Bullets = append(js.Bullets, jb)
		}
		for _, a := range s.Articles {
			js.Articles = append(js.Articles, jsonArticle{Title: a.Title, URL: a.URL, Outlet: a.Outlet, Published: a.Published})
		}
		out.Stories = append(out.Stories, js)
	}
	return out
}

const textWidth = 80

// renderText lays a briefing out for a terminal: wrapped, numbered
// citations, sources under each story.
func renderText(b digest.Briefing, now time.Time) string {
	var sb strings.Builder
	sb.WriteString(wrap(b.Lede, textWidth, "", ""))
	if len(b.Stories) == 0 {
		sb.WriteString(nothingFound(b))
		return sb.String()
	}
	if b.FallbackReason != "" {
		sb.WriteString(wrap("("+b.FallbackReason+")", textWidth, "", ""))
	}
	for i, s := range b.Stories {
		sb.WriteByte('\n')
		head := fmt.Sprintf("%d. %s", i+1, s.Headline)
		if n := s.Outlets(); n > 1 {
			head += fmt.Sprintf(" (%d outlets)", n)
		}
		sb.WriteString(wrap(head, textWidth, "", "   "))
		for _, bl := range s.Bullets {
			sb.WriteString(wrap("• "+bl.Text+" "+citeMarks(bl.Citations), textWidth, "   ", "     "))
		}
		for j, a := range s.Articles {
			line := fmt.Sprintf("[%d] %s: %s, %s", j+1, a.Outlet, a.Title, ago(now, a.Published))
			if a.URL != "" {
				line += " " + a.URL
			}
			sb.WriteString(wrap(line, textWidth, "   ", "       "))
		}
	}
	return sb.String()
}

func nothingFound(b digest.Briefing) string {
	n := len(b.Searched)
	switch {
	case n == 0:
		return ""
	case b.Unfetched >= n && n == 1:
		return wrap(fmt.Sprintf("The one source searched, %s, has not been fetched successfully (see `briefbot sources list`).",
			b.Searched[0]), textWidth, "", "")
	case b.Unfetched >= n:
		return wrap(fmt.Sprintf("None of the %d sources searched has been fetched successfully (see `briefbot sources list`): %s.",
			n, strings.Join(b.Searched, ", ")), textWidth, "", "")
	}
	return wrap(fmt.Sprintf("Searched %s: %s. Try a longer --since, a broader query, or `briefbot fetch` first.",
		plural(n, "source"), strings.Join(b.Searched, ", ")), textWidth, "", "")
}

// plural counts n of a noun with a regular plural: "1 source",
// "2 sources", "0 new articles".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func citeMarks(cites []int) string {
	var sb strings.Builder
	for _, c := range cites {
		fmt.Fprintf(&sb, "[%d]", c+1)
	}
	return sb.String()
}

// wrap word-wraps s to width, with indent on the first line and hang on
// the others, and ends it with a newline.
func wrap(s string, width int, indent, hang string) string {
	var sb strings.Builder
	line := indent
	empty := true
	for _, w := range strings.Fields(s) {
		if !empty && len([]rune(line))+1+len([]rune(w)) > width {
			sb.WriteString(line + "\n")
			line, empty = hang, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	sb.WriteString(line + "\n")
	return sb.String()
}

// renderMarkdown writes a briefing as Markdown, with model and article
// text escaped so it cannot inject links or formatting.
func renderMarkdown(b digest.Briefing) string {
	var sb strings.Builder
	title := "Briefing"
	switch {
	case b.Topic != "":
		title += ": " + b.Topic
	case b.Query != "":
		title += ": " + b.Query
	}
	fmt.Fprintf(&sb, "## %s\n\n%s\n", mdEscape(title), mdEscape(b.Lede))
	if len(b.Stories) == 0 {
		if s := nothingFound(b); s != "" {
			sb.WriteString("\n" + mdEscape(strings.TrimSpace(s)) + "\n")
		}
		return sb.String()
	}
	if b.FallbackReason != "" {
		fmt.Fprintf(&sb, "\n_%s_\n", mdEscape(b.FallbackReason))
	}
	for i, s := range b.Stories {
		fmt.Fprintf(&sb, "\n### %d. %s\n\n", i+1, mdEscape(s.Headline))
		for _, bl := range s.Bullets {
			var links []string
			for _, c := range bl.Citations {
				a := s.Articles[c]
				if a.URL != "" {
					links = append(links, fmt.Sprintf("[%s](<%s>)", mdEscape(a.Outlet), a.URL))
				}
			}
			line := "- " + mdEscape(bl.Text)
			if len(links) > 0 {
				line += " (" + strings.Join(links, ", ") + ")"
			}
			sb.WriteString(line + "\n")
		}
		var srcs []string
		for _, a := range s.Articles {
			if a.URL != "" {
				srcs = append(srcs, fmt.Sprintf("[%s: %s](<%s>)", mdEscape(a.Outlet), mdEscape(a.Title), a.URL))
			} else {
				srcs = append(srcs, mdEscape(a.Outlet+": "+a.Title))
			}
		}
		sb.WriteString("\nSources: " + strings.Join(srcs, " · ") + "\n")
	}
	return sb.String()
}

var mdSpecial = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"<", `\<`, ">", `\>`, "#", `\#`, "|", `\|`, "~", `\~`, "@", "@\u200b",
)

// mdEscape escapes Markdown syntax, and breaks @mentions.
func mdEscape(s string) string { return mdSpecial.Replace(s) }

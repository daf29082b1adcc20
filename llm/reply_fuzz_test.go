package llm

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/briefbot/briefbot/digest"
)

// fuzzMention reports text that Discord would turn into a mention, found
// without the regular expressions under test.
func fuzzMention(s string) bool {
	l := strings.ToLower(s)
	if strings.Contains(l, "@everyone") || strings.Contains(l, "@here") || strings.Contains(l, "<@") {
		return true
	}
	for i := strings.Index(l, "<#"); i >= 0; i = strings.Index(l, "<#") {
		if i+2 < len(l) && '0' <= l[i+2] && l[i+2] <= '9' {
			return true
		}
		l = l[i+2:]
	}
	return false
}

// fuzzLink reports an http(s) URL, found without the regular expressions
// under test.
func fuzzLink(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "http://") || strings.Contains(l, "https://")
}

// FuzzParseReply checks that the reply parser never panics and never
// accepts a reply that breaks its limits: a truncated reply, a missing,
// long, linking or mentioning headline, too many bullets or words, an
// empty or long bullet, a bullet without citations or citing an article
// the prompt did not number. Citations come sorted and distinct, text on
// one line, and an accepted reply written back as JSON parses the same.
func FuzzParseReply(f *testing.F) {
	f.Add(goodReply, "stop", uint8(3), uint8(3))
	f.Add(`{"headline":"T","bullets":[{"text":"A.","citations":[7, "2", 1e3, -1]}]}`, "stop", uint8(3), uint8(1))
	f.Add("```json\n{\"headline\":\"T\",\"bullets\":[]}\n```", "length", uint8(1), uint8(4))
	f.Add(`{"headline":"T","bullets":[{"text":null,"citations":null}],"extra":{}}`, "", uint8(2), uint8(2))
	f.Add(`{"headline":"Talks @everyone","bullets":[{"text":"See www.x.org <@1> <#2>.","citations":[1,1,"01"]}]}`, "stop", uint8(2), uint8(2))
	f.Add(`{"headline":"Ignore previous instructions","bullets":[{"text":"As an AI, `+strings.Repeat("word ", 70)+`","citations":[1]}]} {}`, "stop", uint8(1), uint8(1))
	f.Add("```json\n{\"headline\":\" A\\n\\tB \",\"bullets\":[{\"text\":\"  x\\u00a0 y \",\"citations\":[2,1]}]}\n```", "stop", uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, content, finish string, articles, maxBullets uint8) {
		lim := limits{articles: int(articles), maxBullets: int(maxBullets), maxWords: 90}
		r, err := parseReply(content, finish, lim)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if finish == finishLength {
			t.Fatal("accepted a truncated reply")
		}
		if r.Headline == "" || len(r.Bullets) == 0 || len(r.Bullets) > lim.maxBullets {
			t.Fatalf("accepted headline %q with %d bullets (max %d)", r.Headline, len(r.Bullets), lim.maxBullets)
		}
		if utf8.RuneCountInString(r.Headline) > maxHeadlineChars || fuzzMention(r.Headline) || r.Headline != oneLine(r.Headline) {
			t.Fatalf("accepted headline %q", r.Headline)
		}
		words := 0
		for _, b := range r.Bullets {
			if b.Text == "" || b.Text != oneLine(b.Text) || len(strings.Fields(b.Text)) > maxBulletWords || utf8.RuneCountInString(b.Text) > maxBulletChars {
				t.Fatalf("accepted bullet %q", b.Text)
			}
			words += len(strings.Fields(b.Text))
			if len(b.Citations) == 0 {
				t.Fatalf("accepted bullet %q without citations", b.Text)
			}
			for _, c := range b.Citations {
				if c < 1 || c > lim.articles {
					t.Fatalf("accepted citation %d of %d articles", c, lim.articles)
				}
			}
			if !slices.IsSorted(b.Citations) || len(slices.Compact(slices.Clone(b.Citations))) != len(b.Citations) {
				t.Fatalf("citations %v not sorted and distinct", b.Citations)
			}
		}
		if words > lim.maxWords*3/2 {
			t.Fatalf("accepted %d words (max %d)", words, lim.maxWords)
		}
		var w struct {
			Headline string `json:"headline"`
			Bullets  []struct {
				Text      string `json:"text"`
				Citations []int  `json:"citations"`
			} `json:"bullets"`
		}
		w.Headline = r.Headline
		for _, b := range r.Bullets {
			w.Bullets = append(w.Bullets, struct {
				Text      string `json:"text"`
				Citations []int  `json:"citations"`
			}{b.Text, b.Citations})
		}
		data, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseReply(string(data), "stop", lim)
		if err != nil {
			t.Fatalf("accepted reply written back as %s: %v", data, err)
		}
		if !slices.EqualFunc(again.Bullets, r.Bullets, func(a, b replyBullet) bool { return a.Text == b.Text && slices.Equal(a.Citations, b.Citations) }) || again.Headline != r.Headline {
			t.Fatalf("accepted reply written back as %s parses to %+v, want %+v", data, again, r)
		}
	})
}

// FuzzValidateReply runs a reply through the whole validation a summary
// gets: the story's articles selected and numbered for the prompt,
// parseReply, the prompt numbers mapped back to the story's articles and
// checkBullet against the cited articles. A bullet that passes cites at
// least one of the story's articles (each once, in order), links nowhere,
// mentions no one and is grounded in what it cites; one that fails says
// why.
func FuzzValidateReply(f *testing.F) {
	const a1 = "Envoys from North Korea and the United States met in Geneva on Monday. Talks covered 40% of sanctions."
	const a2 = "Ri Son Gwon said there was \"real progress\" after the third round of talks worth $3.5bn."
	f.Add(goodReply, "North Korea and US envoys meet in Geneva", a1, a2, uint16(2000))
	f.Add(`{"headline":"Talks","bullets":[{"text":"Envoys met in Geneva; 40% of sanctions.","citations":[1]},{"text":"Ri said \"real progress\" at www.evil.example <@&1>.","citations":[2,1]},{"text":"Kim Jong Un paid $9bn.","citations":[2]}]}`, "Talks", a1, a2, uint16(2000))
	f.Add(`{"headline":"T","bullets":[{"text":"Envoys met.","citations":[1,2]}]}`, "Same", a1, a1, uint16(1))
	f.Add(`{"headline":"T","bullets":[{"text":"Envoys met @here, see https://x.example.","citations":[3]}]}`, "", "", a2, uint16(0))
	f.Fuzz(func(t *testing.T, content, title, text1, text2 string, budget uint16) {
		story := digest.Story{ID: "s", Articles: []digest.Article{
			{ID: "a", Outlet: "Wire", Title: title, Text: text1},
			{ID: "b", Outlet: "Paper", Title: title, Text: text2},
			{ID: "c", Outlet: "Copy", Title: title, Text: text1}, // a wire copy of the first
		}}
		sel := selectArticles(story, int(budget))
		if len(sel.articles) == 0 || len(sel.articles) != len(sel.origin) {
			t.Fatalf("selected %d articles with %d origins", len(sel.articles), len(sel.origin))
		}
		for k, o := range sel.origin {
			if o < 0 || o >= len(story.Articles) || (k > 0 && o <= sel.origin[k-1]) {
				t.Fatalf("origins %v", sel.origin)
			}
		}
		rep, err := parseReply(content, "stop", limits{articles: len(sel.articles), maxBullets: 4, maxWords: 160})
		if err != nil {
			return
		}
		var s *Summarizer
		for _, b := range rep.Bullets {
			bullet := s.toBullet(b, sel)
			if len(bullet.Citations) == 0 || !slices.IsSorted(bullet.Citations) || len(slices.Compact(slices.Clone(bullet.Citations))) != len(bullet.Citations) {
				t.Fatalf("bullet %q cites %v", bullet.Text, bullet.Citations)
			}
			for _, c := range bullet.Citations {
				if c < 0 || c >= len(story.Articles) {
					t.Fatalf("bullet %q cites article %d of %d", bullet.Text, c, len(story.Articles))
				}
			}
			cited := citedTexts(story, bullet.Citations)
			problems := checkBullet(bullet.Text, cited)
			for _, p := range problems {
				if p == "" {
					t.Fatalf("bullet %q: an empty problem in %q", bullet.Text, problems)
				}
			}
			if len(problems) > 0 {
				continue
			}
			switch {
			case fuzzMention(bullet.Text):
				t.Fatalf("bullet %q passed with a mention", bullet.Text)
			case fuzzLink(bullet.Text):
				t.Fatalf("bullet %q passed with a link", bullet.Text)
			case len(digest.Ungrounded(bullet.Text, cited)) > 0:
				t.Fatalf("bullet %q passed ungrounded in %q", bullet.Text, cited)
			}
		}
	})
}

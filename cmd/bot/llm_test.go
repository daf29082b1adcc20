package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/briefbot/briefbot/internal/fakeopenai"
)

var promptTitle = regexp.MustCompile(`index=(\d+)>>>\nOutlet: [^\n]*\nTitle: ([^\n]*)`)

// titleReply answers a story prompt with the first article's title as
// headline and one plain bullet citing it.
func titleReply(r fakeopenai.Request) fakeopenai.Response {
	user := r.Chat.Messages[len(r.Chat.Messages)-1].Content
	m := promptTitle.FindStringSubmatch(user)
	if m == nil {
		return fakeopenai.Response{Status: 400, Body: `{"error":{"message":"no article in prompt"}}`}
	}
	reply, _ := json.Marshal(map[string]any{
		"headline": m[2],
		"bullets":  []map[string]any{{"text": "The story developed further on the day.", "citations": []int{atoi(m[1])}}},
	})
	return fakeopenai.Response{Content: string(reply)}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func TestBriefWithLLM(t *testing.T) {
	ai := fakeopenai.New(t)
	for range 2 {
		ai.Enqueue(fakeopenai.Response{Func: titleReply})
	}
	c := newsCLI(t, korea, map[string]string{"OPENAI_BASE_URL": ai.URL(), "OPENAI_API_KEY": "sk-test-secret", "BRIEFBOT_MODEL": "test-model"})

	out, stderr, err := c.run("brief", "korea-talks", "--format", "json")
	if err != nil {
		t.Fatalf("brief: %v\n%s\n%s", err, out, stderr)
	}
	b := decodeBrief(t, out)
	if b.Summarizer != "llm" || b.FallbackReason != "" || len(b.Stories) != 2 {
		t.Fatalf("want an LLM briefing of 2 stories:\n%s", out)
	}
	for _, s := range b.Stories {
		if len(s.Bullets) != 1 || s.Bullets[0].Text != "The story developed further on the day." || len(s.Bullets[0].Citations) != 1 {
			t.Errorf("story %q bullets = %+v", s.Title, s.Bullets)
		}
	}
	if n := ai.Calls(); n != 2 {
		t.Errorf("LLM calls = %d, want one per story (2)", n)
	}
	for _, r := range ai.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer sk-test-secret" {
			t.Errorf("Authorization = %q", got)
		}
	}

	// The same briefing again costs nothing: summaries are cached.
	out, _, err = c.run("brief", "korea-talks", "--no-fetch", "--format", "json")
	if err != nil || decodeBrief(t, out).Summarizer != "llm" {
		t.Fatalf("second brief: %v\n%s", err, out)
	}
	if n := ai.Calls(); n != 2 {
		t.Errorf("LLM calls after a repeat = %d, want still 2", n)
	}
}

func TestBriefLLMFailureFallsBack(t *testing.T) {
	ai := fakeopenai.New(t)
	for range 2 {
		ai.Enqueue(fakeopenai.Response{Status: 401, Body: `{"error":{"message":"Incorrect API key provided: sk-wro***","type":"invalid_request_error","code":"invalid_api_key"}}`})
	}
	c := newsCLI(t, korea, map[string]string{"OPENAI_BASE_URL": ai.URL(), "OPENAI_API_KEY": "sk-wrong-secret"})
	out, stderr, err := c.run("brief", "korea-talks", "--format", "json")
	if err != nil {
		t.Fatalf("brief: %v\n%s", err, out)
	}
	b := decodeBrief(t, out)
	if b.Summarizer != "extractive" || !strings.HasPrefix(b.FallbackReason, "summarized without the language model: ") || len(b.Stories) != 2 {
		t.Errorf("want an extractive briefing saying why:\n%s", out)
	}
	for _, s := range b.Stories {
		if len(s.Bullets) == 0 {
			t.Errorf("story %q has no bullets after fallback", s.Title)
		}
	}
	if strings.Contains(out+stderr, "sk-wrong-secret") {
		t.Errorf("the API key leaked into the output:\n%s\n%s", out, stderr)
	}
}

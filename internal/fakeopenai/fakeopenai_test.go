package fakeopenai

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	return resp, v
}

const chat = `{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{},"strict":true}}}`

func TestServer(t *testing.T) {
	s := New(t)
	s.Reply(`{"ok":true}`)
	s.Enqueue(Response{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"2"}}})
	s.Enqueue(Response{Func: func(r Request) Response {
		return Response{Content: "echo " + r.Chat.Messages[0].Content, FinishReason: "length"}
	}})

	resp, v := post(t, s.URL()+"/chat/completions", chat)
	if resp.StatusCode != http.StatusOK || v["object"] != "chat.completion" {
		t.Fatalf("status %d, body %v", resp.StatusCode, v)
	}
	choice := v["choices"].([]any)[0].(map[string]any)
	if msg := choice["message"].(map[string]any); msg["role"] != "assistant" || msg["content"] != `{"ok":true}` || choice["finish_reason"] != "stop" {
		t.Errorf("choice %v", choice)
	}
	if u := v["usage"].(map[string]any); u["total_tokens"].(float64) <= 0 {
		t.Errorf("usage %v", u)
	}

	resp, v = post(t, s.URL()+"/chat/completions", chat)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" || v["error"] == nil {
		t.Errorf("status %d, Retry-After %q, body %v", resp.StatusCode, resp.Header.Get("Retry-After"), v)
	}

	// Without the /v1 prefix too, as some base URLs have none.
	_, v = post(t, strings.TrimSuffix(s.URL(), "/v1")+"/chat/completions", chat)
	choice = v["choices"].([]any)[0].(map[string]any)
	if choice["message"].(map[string]any)["content"] != "echo hi" || choice["finish_reason"] != "length" {
		t.Errorf("func reply %v", choice)
	}

	reqs := s.Requests()
	if len(reqs) != 3 || s.Calls() != 3 || s.Pending() != 0 {
		t.Fatalf("%d requests, %d pending", len(reqs), s.Pending())
	}
	if reqs[0].Chat.ResponseFormat.Type != "json_schema" || reqs[2].Path != "/chat/completions" {
		t.Errorf("recorded %+v", reqs)
	}
}

func TestRejectJSONSchema(t *testing.T) {
	s := New(t)
	s.RejectJSONSchema()
	s.Reply(`{}`)
	resp, v := post(t, s.URL()+"/chat/completions", chat)
	errBody, _ := v["error"].(map[string]any)
	if resp.StatusCode != http.StatusBadRequest || errBody["param"] != "response_format" || !strings.Contains(errBody["message"].(string), "json_schema") {
		t.Errorf("status %d, body %v", resp.StatusCode, v)
	}
	if s.Pending() != 1 {
		t.Error("the rejection took a scripted response")
	}
	resp, _ = post(t, s.URL()+"/chat/completions", strings.Replace(chat, `"json_schema"`, `"json_object"`, 1))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("JSON mode rejected: %d", resp.StatusCode)
	}
}

func TestBadRequests(t *testing.T) {
	s := New(t)
	if resp, _ := post(t, s.URL()+"/models", chat); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	if resp, _ := post(t, s.URL()+"/chat/completions", `{"model":`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("broken JSON: %d", resp.StatusCode)
	}
	if resp, _ := post(t, s.URL()+"/chat/completions", `{"model":"m","messages":[]}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no messages: %d", resp.StatusCode)
	}
}

// Package fakeopenai is an OpenAI-compatible chat completions server for
// tests. It speaks the real wire protocol (POST …/chat/completions, JSON in
// and out, OpenAI's error bodies), answers from a scripted queue of
// responses, records every request, and can reject json_schema response
// formats the way servers without structured output do.
package fakeopenai

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one chat message on the wire.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ResponseFormat is a request's response_format.
type ResponseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// ChatRequest is the decoded body of a chat completions request (the
// fields tests look at).
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	ResponseFormat      *ResponseFormat `json:"response_format,omitempty"`
	Stream              bool            `json:"stream"`
}

// Request is one request the server received.
type Request struct {
	Method string
	// Path is the URL path, such as /v1/chat/completions or
	// /openai/deployments/gpt-4o/chat/completions.
	Path   string
	Query  string
	Header http.Header
	Body   []byte
	// Chat is Body decoded; zero if it did not decode.
	Chat ChatRequest
}

// Usage is a reply's token usage.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Response is one scripted reply. The zero Response is a 200 with an
// empty assistant message.
type Response struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Header is added to the reply (e.g. Retry-After).
	Header http.Header
	// Body, when set, is sent verbatim instead of a generated body.
	Body string
	// Content is the assistant message of a successful completion; for an
	// error status it is the error message.
	Content string
	// FinishReason defaults to "stop".
	FinishReason string
	// Usage defaults to an estimate from the request and Content.
	Usage *Usage
	// Func, when set, computes the response from the request instead.
	Func func(Request) Response
	// Delay holds the reply back, to provoke client timeouts; a cancelled
	// request ends the wait.
	Delay time.Duration
	// Truncate sends the headers, with the whole body's Content-Length,
	// and the first half of the body (a completion's, or Body), then
	// breaks the connection: a reply cut off mid-stream.
	Truncate bool
}

// Server is a fake OpenAI-compatible server. It is safe for concurrent use.
type Server struct {
	t   testing.TB
	srv *httptest.Server

	mu           sync.Mutex
	queue        []Response
	requests     []Request
	rejectSchema bool
	otherwise    *Response // see Otherwise
}

// New starts a server; the test's cleanup closes it. A call with no
// scripted response left fails the test and gets a 500, unless
// Otherwise set a response for that.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the base URL for an OpenAI client, ending in /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Enqueue adds responses to the end of the queue; each call takes one.
func (s *Server) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, rs...)
}

// Reply enqueues successful completions with these assistant messages.
func (s *Server) Reply(contents ...string) {
	for _, c := range contents {
		s.Enqueue(Response{Content: c})
	}
}

// RejectJSONSchema makes the server answer every request whose
// response_format is json_schema with a 400, as servers without
// structured outputs do, without taking a response from the queue.
func (s *Server) RejectJSONSchema() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectSchema = true
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns how many requests the server received.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Pending returns how many scripted responses are left.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		writeError(w, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), nil)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "method not allowed", nil)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error(), nil)
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	decodeErr := json.Unmarshal(body, &req.Chat)

	s.mu.Lock()
	s.requests = append(s.requests, req)
	reject := s.rejectSchema && req.Chat.ResponseFormat != nil && req.Chat.ResponseFormat.Type == "json_schema"
	var resp Response
	empty := len(s.queue) == 0
	if !reject && decodeErr == nil && !empty {
		resp, s.queue = s.queue[0], s.queue[1:]
	} else if empty && s.otherwise != nil {
		resp, empty = *s.otherwise, false
	}
	s.mu.Unlock()

	switch {
	case decodeErr != nil:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "We could not parse the JSON body of your request.", nil)
		return
	case req.Chat.Model == "" || len(req.Chat.Messages) == 0:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "you must provide a model parameter and messages", nil)
		return
	case reject:
		param := "response_format"
		writeError(w, http.StatusBadRequest, "invalid_request_error", "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", &param)
		return
	case empty:
		s.t.Errorf("fakeopenai: unexpected call %d: no scripted response left", s.Calls())
		writeError(w, http.StatusInternalServerError, "server_error", "fakeopenai: no scripted response", nil)
		return
	}
	if resp.Func != nil {
		resp = resp.Func(req)
	}
	if resp.Delay > 0 {
		select {
		case <-time.After(resp.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		send(w, status, []byte(resp.Body), resp.Truncate)
		return
	}
	if status >= 400 {
		msg := resp.Content
		if msg == "" {
			msg = http.StatusText(status)
		}
		typ := "server_error"
		switch {
		case status == http.StatusTooManyRequests:
			typ = "requests"
		case status < 500:
			typ = "invalid_request_error"
		}
		writeError(w, status, typ, msg, nil)
		return
	}
	finish := resp.FinishReason
	if finish == "" {
		finish = "stop"
	}
	usage := resp.Usage
	if usage == nil {
		in := len(body) / 4
		out := max(1, len(resp.Content)/4)
		usage = &Usage{PromptTokens: in, CompletionTokens: out, TotalTokens: in + out}
	}
	s.mu.Lock()
	n := len(s.requests)
	s.mu.Unlock()
	completion := map[string]any{
		"id":      fmt.Sprintf("chatcmpl-fake%d", n),
		"object":  "chat.completion",
		"created": time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Unix(),
		"model":   req.Chat.Model,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": resp.Content},
			"logprobs":      nil,
			"finish_reason": finish,
		}},
		"usage":              usage,
		"system_fingerprint": "fp_fake",
	}
	w.Header().Set("Content-Type", "application/json")
	b, err := json.Marshal(completion)
	if err != nil {
		panic(err)
	}
	send(w, status, append(b, '\n'), resp.Truncate)
}

// writeError writes an error in OpenAI's shape:
// {"error": {"message", "type", "param", "code"}}.
func writeError(w http.ResponseWriter, status int, typ, msg string, param *string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": param, "code": nil,
	}})
}

// FirstSentence answers a summary request as a well-behaved model would:
// the first article's title as the headline and its first sentence as the
// one bullet, citing article 1. It reads the article fenced in the
// prompt as briefbot's prompts fence it (" index=1>>>").
func FirstSentence(req Request) Response {
	var user string
	for _, m := range req.Chat.Messages {
		if m.Role == "user" && strings.Contains(m.Content, " index=1>>>") {
			user = m.Content
		}
	}
	_, rest, ok := strings.Cut(user, " index=1>>>")
	if !ok {
		return Response{Status: 400, Content: "fakeopenai: no article 1 in the prompt"}
	}
	title := "Story"
	if _, t, ok := strings.Cut(rest, "\nTitle: "); ok {
		title, _, _ = strings.Cut(t, "\n")
	}
	_, body, _ := strings.Cut(rest, "\n\n")
	body, _, _ = strings.Cut(body, "\n<<<end ")
	body = strings.TrimPrefix(strings.TrimSpace(body), "[…] ")
	sentence, _, _ := strings.Cut(body, ". ")
	sentence = strings.TrimSuffix(strings.TrimSpace(sentence), ".") + "."
	b, err := json.Marshal(map[string]any{"headline": title, "bullets": []map[string]any{{"text": sentence, "citations": []int{1}}}})
	if err != nil {
		panic(err)
	}
	return Response{Content: string(b)}
}

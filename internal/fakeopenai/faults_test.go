package fakeopenai

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestTruncate(t *testing.T) {
	s := New(t)
	s.Enqueue(Response{Content: `{"headline": "cut"}`, Truncate: true}, Response{Body: `{"choices": [`, Truncate: true})
	for i := range 2 {
		resp, err := http.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(chat))
		if err != nil {
			t.Fatalf("reply %d: %v, want the headers", i+1, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) == 0 || int64(len(b)) >= resp.ContentLength {
			t.Errorf("reply %d: read %d of %d bytes, error %v; want part of the body, then io.ErrUnexpectedEOF", i+1, len(b), resp.ContentLength, err)
		}
	}
}

func TestOtherwise(t *testing.T) {
	s := New(t)
	s.Reply("first")
	s.Otherwise(Response{Status: http.StatusServiceUnavailable})
	for i, want := range []int{200, 503, 503} {
		resp, _ := post(t, s.URL()+"/chat/completions", chat)
		if resp.StatusCode != want {
			t.Errorf("call %d: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

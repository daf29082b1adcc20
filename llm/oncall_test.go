package llm

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakeopenai"
	"github.com/google/go-cmp/cmp"
)

// callRecorder is a Config.OnCall that keeps what it is told.
type callRecorder struct {
	mu    sync.Mutex
	calls []Call
}

func (r *callRecorder) record(_ context.Context, c Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

// TestOnCall checks that every request, retries included, is reported
// with its outcome and the usage the server reported.
func TestOnCall(t *testing.T) {
	st := newSetup(t)
	st.cfg.Timeout = 200 * time.Millisecond
	rec := &callRecorder{}
	st.cfg.OnCall = rec.record
	st.cfg.MaxRetries = 4
	st.srv.Enqueue(
		fakeopenai.Response{Status: http.StatusTooManyRequests, Content: "Rate limit reached"},
		fakeopenai.Response{Status: http.StatusBadGateway},
		fakeopenai.Response{Content: goodReply, Delay: 2 * time.Second},
		fakeopenai.Response{Content: goodReply, Usage: &fakeopenai.Usage{PromptTokens: 700, CompletionTokens: 60, TotalTokens: 760}},
	)
	if _, err := st.summarizer().Summarize(context.Background(), request(fixtureStory())); err != nil {
		t.Fatal(err)
	}
	var got []Call
	for _, c := range rec.calls {
		if c.Duration <= 0 {
			t.Errorf("call %+v has no duration", c)
		}
		c.Duration = 0
		got = append(got, c)
	}
	want := []Call{
		{Outcome: CallRateLimited},
		{Outcome: CallServerError},
		{Outcome: CallTimeout},
		{Outcome: CallOK, PromptTokens: 700, CompletionTokens: 60},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("calls (-got +want):\n%s", diff)
	}

	// A refused request (400 that is not about the schema) is an error.
	st = newSetup(t)
	rec = &callRecorder{}
	st.cfg.OnCall = rec.record
	st.srv.Enqueue(fakeopenai.Response{Status: http.StatusUnauthorized, Content: "bad key"})
	if _, err := st.summarizer().Summarize(context.Background(), request(fixtureStory())); err == nil {
		t.Fatal("no error for a 401")
	}
	if len(rec.calls) != 1 || rec.calls[0].Outcome != CallError {
		t.Errorf("calls %+v, want one %q", rec.calls, CallError)
	}
}

package feedserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	s := New(t)
	s.Set("/f", Doc{Body: "<rss/>"})
	s.Inject("/f",
		Fault{Status: 503, Header: http.Header{"Retry-After": {"60"}}},
		Fault{Reset: true}, Fault{Reset: true},
		Fault{Endless: true},
		Fault{Hang: time.Minute},
		Fault{Hang: 50 * time.Millisecond},
	)
	get := func(timeout time.Duration) (*http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/f", nil)
		return s.Client().Do(req)
	}

	if resp, err := get(time.Second); err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "60" {
		t.Errorf("status fault: %v %v", resp, err)
	}
	if _, err := get(time.Second); err == nil {
		t.Error("reset: no error") // one reset is retried by net/http on a reused connection
	}
	resp, err := get(5 * time.Second)
	if err != nil {
		t.Fatalf("endless: %v", err)
	}
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if n != 4<<20 || err != nil {
		t.Errorf("endless: read %d bytes (%v), want 4 MiB and more", n, err)
	}
	if _, err := get(200 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: %v, want the client's deadline", err)
	}
	if resp, err := get(time.Second); err != nil || resp.StatusCode != 200 {
		t.Errorf("short hang: %v %v, want the document", resp, err)
	}
	if n := s.PendingFaults(); n != 0 {
		t.Errorf("%d faults left", n)
	}
	if s.EndlessBytes() < 4<<20 {
		t.Errorf("EndlessBytes %d, want at least what was read", s.EndlessBytes())
	}
}

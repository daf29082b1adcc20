package sources

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
)

func TestFetchTLSError(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<rss/>"))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
	srv.StartTLS()
	defer srv.Close()
	f := NewFetcher(FetchOptions{Timeout: 2 * time.Second})
	_, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/feed", AllowPrivate: true})
	if err == nil {
		t.Fatal("fetch from a server with an unknown certificate succeeded")
	}
	if !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error %q should name the URL and the certificate problem", err)
	}
	if errors.Is(err, digest.ErrTransient) {
		t.Errorf("certificate error %v is marked transient; it needs a fix, not a retry", err)
	}
}

func TestFetchDNSFailure(t *testing.T) {
	f := NewFetcher(FetchOptions{Timeout: 3 * time.Second})
	// .invalid never resolves (RFC 6761).
	_, err := f.Fetch(context.Background(), Request{URL: "http://no-such-host.invalid/feed"})
	if err == nil {
		t.Fatal("fetch from an unresolvable host succeeded")
	}
	if !strings.Contains(err.Error(), "no-such-host.invalid") {
		t.Errorf("error %q should name the host", err)
	}
}

package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHealthcheck: `briefbot healthcheck` succeeds on a 200 from
// /healthz and fails, with the reason on one line, on anything else.
func TestHealthcheck(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)

	c := newCLI(t, nil)
	if out, _, err := c.run("healthcheck", "--addr", addr); err != nil || out != "ok\n" {
		t.Errorf("healthcheck --addr on a 200: %v %q", err, out)
	}
	c.env[httpAddrEnv] = ":" + port // a listen address: checked on loopback
	if _, _, err := c.run("healthcheck"); err != nil {
		t.Errorf("healthcheck with %s=:%s: %v", httpAddrEnv, port, err)
	}
	status.Store(http.StatusServiceUnavailable)
	_, stderr, err := c.run("healthcheck")
	if err == nil || stderr != "briefbot: healthcheck http://127.0.0.1:"+port+"/healthz: 503 Service Unavailable\n" {
		t.Errorf("healthcheck on a 503: %v %q", err, stderr)
	}
	srv.Close()
	_, stderr, err = c.run("healthcheck", "--addr", addr)
	if err == nil || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "connection refused") {
		t.Errorf("healthcheck on a closed port: %v %q", err, stderr)
	}
	delete(c.env, httpAddrEnv)
	if _, stderr, err := c.run("healthcheck"); err == nil || !strings.Contains(stderr, httpAddrEnv) {
		t.Errorf("healthcheck without an address: %v %q", err, stderr)
	}
	if _, _, err := c.run("healthcheck", "--addr", "nonsense"); err == nil {
		t.Error("healthcheck --addr nonsense: no error")
	}
}

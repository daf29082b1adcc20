package feedserver

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// Fault is one scripted failure of one request for a path. Faults are
// consumed in order, one per request; see Inject.
type Fault struct {
	// Hang holds the request back this long, or until the client gives
	// up, before anything is sent. With nothing else set the document is
	// then served normally (to a client still listening).
	Hang time.Duration
	// Reset closes the connection with a TCP reset (SO_LINGER 0) instead
	// of answering. net/http retries a GET on its own once when a reused
	// keep-alive connection is closed before any answer, so inject two to
	// fail one fetch for certain.
	Reset bool
	// Endless answers 200 with a feed that never ends: an open channel
	// followed by items, without end, until the client hangs up.
	Endless bool
	// Status, when not zero, is answered instead of the document, with
	// Header added (e.g. Retry-After).
	Status int
	Header http.Header
}

// Inject scripts faults for the requests to path, consumed one per
// request in order, before the path's document is looked at.
func (s *Server) Inject(path string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults == nil {
		s.faults = map[string][]Fault{}
	}
	s.faults[path] = append(s.faults[path], faults...)
}

// PendingFaults returns how many injected faults no request has met yet.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, fs := range s.faults {
		n += len(fs)
	}
	return n
}

// EndlessBytes returns how many bytes of endless bodies have been
// written, all paths together.
func (s *Server) EndlessBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endless
}

// takeFault pops the next fault of path; s.mu is held.
func (s *Server) takeFault(path string) (Fault, bool) {
	fs := s.faults[path]
	if len(fs) == 0 {
		return Fault{}, false
	}
	s.faults[path] = fs[1:]
	return fs[0], true
}

// serveFault carries out a fault. It reports false when the request is
// to be served normally after all (a Hang alone).
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Hang > 0 {
		t := time.NewTimer(f.Hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		}
	}
	switch {
	case f.Reset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		conn.Close()
		return true
	case f.Endless:
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		chunk := []byte(`<item><title>Endless</title><description>` + strings.Repeat("more ", 200) + `</description></item>`)
		if _, err := w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>endless</title>`)); err != nil {
			return true
		}
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			s.mu.Lock()
			s.endless += int64(n)
			s.mu.Unlock()
			if err != nil {
				return true
			}
		}
		return true
	case f.Status != 0:
		for k, vs := range f.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(f.Status)
		return true
	}
	return false
}

// Package feedserver is a local HTTP server of feeds and article pages for
// tests: it speaks real HTTP (ETag, Last-Modified, 304, gzip via net/http
// clients) and counts requests, so the real fetcher can be driven against it.
package feedserver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Doc is one document the server serves.
type Doc struct {
	Body        string
	ContentType string // default application/rss+xml; charset=utf-8
	// Status, when set, is answered instead of the body (e.g. 503).
	Status int
	// Header is added to the response (e.g. Retry-After).
	Header http.Header
	// NoValidators disables ETag and Last-Modified for this document.
	NoValidators bool
}

// Server serves Docs by path. It is safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	docs     map[string]docState
	hits     map[string]int
	notMod   map[string]int
	modified time.Time
	faults   map[string][]Fault // see Inject
	endless  int64              // bytes of endless bodies written
}

type docState struct {
	Doc
	etag     string
	modified time.Time
}

// New starts a server; the test's cleanup closes it.
func New(tb interface {
	Helper()
	Cleanup(func())
}) *Server {
	tb.Helper()
	s := &Server{docs: map[string]docState{}, hits: map[string]int{}, notMod: map[string]int{}, modified: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Set serves d at path from now on; a changed body gets a new ETag and a
// later Last-Modified.
func (s *Server) Set(path string, d Doc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha256.Sum256([]byte(d.Body))
	s.modified = s.modified.Add(time.Minute)
	s.docs[path] = docState{Doc: d, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, modified: s.modified}
}

// Hits returns how many requests path received, and how many of them were
// answered 304 Not Modified.
func (s *Server) Hits(path string) (total, notModified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path], s.notMod[path]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, ok := s.docs[r.URL.Path]
	s.hits[r.URL.Path]++
	f, hasFault := s.takeFault(r.URL.Path)
	s.mu.Unlock()
	if hasFault && s.serveFault(w, r, f) {
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	for k, vs := range d.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if d.Status != 0 {
		w.WriteHeader(d.Status)
		_, _ = w.Write([]byte(d.Body))
		return
	}
	if !d.NoValidators {
		w.Header().Set("ETag", d.etag)
		w.Header().Set("Last-Modified", d.modified.Format(http.TimeFormat))
		if inm := r.Header.Get("If-None-Match"); inm == d.etag {
			s.mu.Lock()
			s.notMod[r.URL.Path]++
			s.mu.Unlock()
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	ct := d.ContentType
	if ct == "" {
		ct = "application/rss+xml; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write([]byte(d.Body))
}

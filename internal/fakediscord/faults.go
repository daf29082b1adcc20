package fakediscord

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Fault is one scripted failure of one request. Faults are consumed in
// order, one per matching request; see Inject.
type Fault struct {
	// Status, when not zero, is answered instead of handling the request.
	// A 429 gets Discord's rate limit body and headers (see RetryAfter
	// and Global); other statuses get {"message": "<status> <text>",
	// "code": 0} unless Code, Message or Body say otherwise.
	Status int
	// RetryAfter, in seconds, sets the Retry-After header (whole seconds,
	// rounded up, as Discord sends it) and, for a 429, the body's
	// retry_after and X-RateLimit-Reset-After.
	RetryAfter float64
	// Global marks a 429 as the global rate limit: X-RateLimit-Global:
	// true, X-RateLimit-Scope: global, "global": true, and no bucket
	// headers.
	Global bool
	// Delay holds the request back for this long or until the client
	// gives up. With Status zero and Drop false it is then handled
	// normally even if the client gave up, as Discord may carry out a
	// request whose response never arrived (a timed-out POST may still
	// create its message).
	Delay time.Duration
	// HoldAnswer handles the request at once, then holds its answer back
	// this long or until the client gives up: a message is created, and
	// the client has not heard of it yet (or never does, when it gives up
	// or dies meanwhile), as when Discord's answer is slow or lost.
	HoldAnswer time.Duration
	// Drop closes the connection without answering. net/http retries a
	// GET on its own when a reused keep-alive connection is closed this
	// way, so a dropped GET is recorded twice and succeeds; other methods
	// fail with a *url.Error.
	Drop bool
	// Code and Message override the JSON error body of a non-429 status,
	// such as {Status: 403, Code: 50013, Message: "Missing Permissions"}.
	Code    int
	Message string
	// Body, when set, is sent verbatim (as text/html unless it starts
	// with '{'), such as a Cloudflare 502 page.
	Body string
}

// faultQueue holds the faults injected for one route pattern.
type faultQueue struct {
	pattern pattern
	faults  []Fault
}

// pattern is a parsed route pattern.
type pattern struct {
	method string   // "" matches any method
	segs   []string // nil matches any path
}

var versionPrefix = regexp.MustCompile(`^/api(/v\d+)?`)

// parsePattern parses "METHOD /path/*/with/globs", "/path" (any method)
// or "*" (any request). In the path, * matches one segment and a final **
// any number; an /api/vN prefix is ignored.
func parsePattern(route string) pattern {
	route = strings.TrimSpace(route)
	if route == "" || route == "*" {
		return pattern{}
	}
	var p pattern
	method, path, found := strings.Cut(route, " ")
	if !found {
		method, path = "", method
	}
	if method != "*" {
		p.method = strings.ToUpper(method)
	}
	path = strings.TrimSpace(path)
	if path == "*" || path == "/**" || path == "**" {
		return p
	}
	path = versionPrefix.ReplaceAllString(path, "")
	path, _, _ = strings.Cut(path, "?")
	p.segs = strings.Split(strings.Trim(path, "/"), "/")
	return p
}

// match reports whether a request's method and API path match.
func (p pattern) match(method, path string) bool {
	if p.method != "" && p.method != method {
		return false
	}
	if p.segs == nil {
		return true
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, ps := range p.segs {
		if ps == "**" && i == len(p.segs)-1 {
			return true
		}
		if i >= len(segs) || (ps != "*" && ps != segs[i]) {
			return false
		}
	}
	return len(segs) == len(p.segs)
}

// Inject scripts faults for the requests matching route, consumed one per
// request in order. A route is "METHOD /path" with * for one path segment
// and a final ** for the rest, such as "POST /channels/*/messages" or
// "PATCH /webhooks/*/*/messages/@original"; "/path" matches any method and
// "*" every request. Paths are below the API prefix. When several
// injections match a request, the earliest one with faults left is used.
func (s *Server) Inject(route string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultQueue{pattern: parsePattern(route), faults: append([]Fault(nil), faults...)})
}

// PendingFaults returns the number of injected faults not yet consumed.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.faults {
		n += len(q.faults)
	}
	return n
}

// takeFault pops the next fault for a request; s.mu is held.
func (s *Server) takeFault(method, path string) (Fault, bool) {
	for _, q := range s.faults {
		if len(q.faults) > 0 && q.pattern.match(method, path) {
			f := q.faults[0]
			q.faults = q.faults[1:]
			return f, true
		}
	}
	return Fault{}, false
}

// faultReply builds the answer of a fault with a status; s.mu is held.
func (s *Server) faultReply(f Fault, rt *route, hdr http.Header) reply {
	if f.RetryAfter > 0 || f.Status == http.StatusTooManyRequests {
		hdr.Set("Retry-After", retryAfterHeader(f.RetryAfter))
	}
	if f.Body != "" {
		ct := "text/html"
		if strings.HasPrefix(f.Body, "{") {
			ct = "application/json"
		}
		return reply{f.Status, rawBody{ct, f.Body}}
	}
	if f.Status == http.StatusTooManyRequests {
		if f.Global {
			hdr.Set("X-RateLimit-Global", "true")
			hdr.Set("X-RateLimit-Scope", "global")
		} else {
			if rt != nil {
				resetAfter := time.Duration(f.RetryAfter * float64(time.Second))
				setBucketHeaders(hdr, s.opts.RateLimit, 0, time.Now(), resetAfter, rt.bucket)
			}
			hdr.Set("X-RateLimit-Scope", "user")
		}
		return reply{f.Status, rateLimitBody(f.RetryAfter, f.Global)}
	}
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("%d: %s", f.Status, http.StatusText(f.Status))
	}
	return apiError(f.Status, f.Code, msg)
}

package fakeopenai

import (
	"net/http"
	"strconv"
)

// Otherwise makes the server answer r when no scripted response is left,
// instead of failing the test: for tests that script faults and do not
// count the well-behaved calls around them.
func (s *Server) Otherwise(r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.otherwise = &r
}

// send writes a reply body; truncate sends its first half only, under
// the whole body's Content-Length, then breaks the connection.
func send(w http.ResponseWriter, status int, body []byte, truncate bool) {
	if !truncate {
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler) // closes the connection mid-body
}

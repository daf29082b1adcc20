package discord

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// statusInError finds the HTTP status the fetcher writes at the end of a
// failed GET ("503 Service Unavailable", "HTTP status 599"), with the
// wait a 429 or 503 asked for.
var statusInError = regexp.MustCompile(`(?:^|: )(?:HTTP status )?([1-5][0-9][0-9])((?: [A-Za-z'-]+)*)(?: \(retry after ([0-9a-z.]+)\))?$`)

// sourceProblem is a short reason a source's last poll failed, for
// /sources list in Discord: the HTTP status, "not a feed" or another
// fixed phrase, made from the poller's error text. It never repeats the
// text itself, which holds the URL (credentials are removed, but the
// query may carry a key) and the addresses dialed (internal ones too).
func sourceProblem(lastError string) string {
	e := lastError
	if _, after, ok := strings.Cut(e, "; last error: "); ok {
		e = after // "disabled after N consecutive failures; last error: …"
	}
	lower := strings.ToLower(e)
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(lower, x) {
				return true
			}
		}
		return false
	}
	switch {
	case e == "":
		return ""
	case has("not a feed"):
		switch {
		case has("html page"):
			return "not a feed (an HTML page: use the site's feed URL)"
		case has("no items"):
			return "not a feed (no items)"
		case has("empty document"):
			return "not a feed (empty)"
		}
		return "not a feed"
	}
	if m := statusInError.FindStringSubmatch(e); m != nil {
		code, _ := strconv.Atoi(m[1])
		out := "HTTP " + m[1]
		if text := http.StatusText(code); text != "" && strings.TrimSpace(m[2]) == text {
			out += " " + text
		}
		if d, err := time.ParseDuration(m[3]); err == nil && d > 0 {
			out += ", retry after " + d.String()
		}
		return out
	}
	switch {
	case has("refusing to connect", "forbidden address"):
		return "refused: not a public address"
	case has("no such host"):
		return "host not found"
	case has("timed out", "timeout", "deadline exceeded"):
		return "timed out"
	case has("connection refused"):
		return "connection refused"
	case has("connection reset", "broken pipe", "unexpected eof", ": eof"):
		return "connection cut"
	case has("x509", "tls:", "certificate"):
		return "TLS certificate problem"
	case has("exceeds", "too large"):
		return "feed too large"
	case has("empty body"):
		return "empty response"
	case has("redirect"):
		return "too many redirects"
	case has("unsupported scheme"):
		return "redirected to a non-web URL"
	}
	return "fetch failed"
}

package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
)

// The poller's error texts, as sources writes them.
func TestSourceProblem(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, in, want string }{
		{"none", "", ""},
		{"503", "sources: GET https://news.example/feed?key=s3cret: 503 Service Unavailable", "HTTP 503 Service Unavailable"},
		{"429 with a wait", "sources: GET https://news.example/feed: 429 Too Many Requests (retry after 2m0s)", "HTTP 429 Too Many Requests, retry after 2m0s"},
		{"unknown status", "sources: GET https://news.example/feed: HTTP status 599", "HTTP 599"},
		{"403 disabled", "disabled after 5 consecutive failures; last error: sources: GET https://news.example/feed: 403 Forbidden", "HTTP 403 Forbidden"},
		{"HTML page", "parse https://news.example/: not a feed: got an HTML page (is this the site's home page rather than its feed URL?)",
			"not a feed (an HTML page: use the site's feed URL)"},
		{"no feed", "parse https://news.example/x: not a feed: no RSS, Atom or JSON Feed found in the document", "not a feed"},
		{"XML error with a status-like tail", "parse https://news.example/x: not a feed: XML syntax error on line 3: 404 Not Found", "not a feed"},
		{"no items", "parse https://news.example/x: not a feed: the feed has no items", "not a feed (no items)"},
		{"private address", "sources: GET https://intranet.example/feed: refusing to connect to intranet.example (10.0.0.5): private address (allowed only for operator sources with allow_private: true)",
			"refused: not a public address"},
		{"DNS", "sources: GET https://nope.example/feed: dial tcp: lookup nope.example on 10.0.0.2:53: no such host", "host not found"},
		{"refused", "sources: GET https://news.example/feed: dial tcp 192.168.1.9:443: connect: connection refused", "connection refused"},
		{"timeout", "sources: GET https://news.example/feed: timed out after 30s", "timed out"},
		{"reset", "sources: GET https://news.example/feed: read tcp 10.1.1.1:5555->1.2.3.4:443: read: connection reset by peer", "connection cut"},
		{"TLS", "sources: GET https://news.example/feed: tls: failed to verify certificate: x509: certificate signed by unknown authority", "TLS certificate problem"},
		{"too large", "sources: GET https://news.example/feed: body exceeds 10 MB limit", "feed too large"},
		{"empty", "sources: GET https://news.example/feed: empty body", "empty response"},
		{"redirects", "sources: GET https://news.example/feed: stopped after 10 redirects", "too many redirects"},
		{"anything else", "sources: GET http://user:pass@10.0.0.1/feed: something new", "fetch failed"},
	} {
		if got := sourceProblem(tt.in); got != tt.want {
			t.Errorf("%s: sourceProblem(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestSourcesListSaysWhy: /sources list gives the server's own failing
// and disabled sources a short reason, without the URL's credentials or
// the addresses dialed, and the operator's sources none.
func TestSourcesListSaysWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	e.start()
	ctx := context.Background()
	add := func(name, url, guild string, st digest.FetchState) {
		t.Helper()
		src, err := e.store.AddSource(ctx, digest.Source{Name: name, URL: url, Interval: 15 * time.Minute, Origin: digest.OriginChat, GuildID: guild})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.SaveFetchState(ctx, src.ID, st); err != nil {
			t.Fatal(err)
		}
	}
	add("ours", "https://user:hunter2@news.example/feed", testGuild, digest.FetchState{Failures: 2,
		LastError: "sources: GET https://news.example/feed: dial tcp 10.9.8.7:443: connect: connection refused"})
	add("home", "https://blog.example/", testGuild, digest.FetchState{Failures: 5, Disabled: true,
		LastError: "disabled after 5 consecutive failures; last error: parse https://blog.example/: not a feed: got an HTML page (is this the site's home page rather than its feed URL?)"})
	add("fine", "https://ok.example/feed", testGuild, digest.FetchState{})
	add("wire", "https://wire.example/feed", "", digest.FetchState{Failures: 1, LastError: "sources: GET https://wire.example/feed: 502 Bad Gateway"})

	_, content, _ := e.reply(e.send(fakediscord.Interaction{Name: "sources", Options: []fakediscord.Option{fakediscord.SubCommand("list")}}))
	for _, want := range []string{
		"**ours** <https://news.example/feed> · failing (2): connection refused\n",
		"**home** <https://blog.example/> · disabled: not a feed (an HTML page: use the site's feed URL)\n",
		"**fine** <https://ok.example/feed> · ok\n",
		"**wire** <https://wire.example/feed> · failing (1)\n",
	} {
		if !strings.Contains(content, want) {
			t.Errorf("/sources list:\n%s\nwant a line %q", content, want)
		}
	}
	for _, leak := range []string{"hunter2", "10.9.8.7", "tcp", "Bad Gateway"} {
		if strings.Contains(content, leak) {
			t.Errorf("/sources list shows %q:\n%s", leak, content)
		}
	}
}

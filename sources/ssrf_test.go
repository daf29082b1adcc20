package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/feedserver"
	"github.com/briefbot/briefbot/sqlstore"
)

// fakeDNS stands in for DNS: names map to fixed addresses, anything else
// is not found. It records every name looked up.
type fakeDNS struct {
	mu      sync.Mutex
	names   map[string][]netip.Addr
	lookups []string
}

func newFakeDNS(names map[string][]string) *fakeDNS {
	d := &fakeDNS{names: map[string][]netip.Addr{}}
	for name, addrs := range names {
		for _, a := range addrs {
			d.names[name] = append(d.names[name], netip.MustParseAddr(a))
		}
	}
	return d
}

func (d *fakeDNS) LookupIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lookups = append(d.lookups, host)
	var out []netip.Addr
	for _, a := range d.names[strings.TrimSuffix(strings.ToLower(host), ".")] {
		if network == "ip" || (network == "ip4") == a.Is4() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// ssrfEnv is a "private" server the guard must keep every request from, a
// "public" server the guard is told to treat as public (it listens on
// loopback too, as everything in a test does), and a fetcher whose address
// check refuses everything but the public server, as the real one would,
// and records what it refused.
type ssrfEnv struct {
	private     *httptest.Server
	public      *httptest.Server
	docs        *feedserver.Server // the public server's documents
	privateHits atomic.Int32
	privatePort string
	publicAddr  netip.AddrPort
	dns         *fakeDNS
	f           *Fetcher

	mu      sync.Mutex
	refused []netip.AddrPort
}

func newSSRFEnv(t *testing.T) *ssrfEnv {
	t.Helper()
	e := &ssrfEnv{docs: feedserver.New(t)}
	e.private = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.privateHits.Add(1)
		fmt.Fprint(w, "<rss version=\"2.0\"><channel><title>secret</title></channel></rss>")
	}))
	t.Cleanup(e.private.Close)
	// The public server redirects /to?u=URL to URL, and serves docs.
	e.public = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to" {
			http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
			return
		}
		e.docs.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(e.public.Close)
	e.privatePort = e.private.URL[strings.LastIndex(e.private.URL, ":")+1:]
	e.publicAddr = netip.MustParseAddrPort(strings.TrimPrefix(e.public.URL, "http://"))
	pub := e.publicAddr.Addr().String()
	e.dns = newFakeDNS(map[string][]string{
		"news.test":         {pub},
		"evil.test":         {"127.0.0.1"},
		"localhost":         {"127.0.0.1", "::1"},
		"internal.test":     {"10.0.0.5"},
		"router.test":       {"192.168.1.1"},
		"docker.test":       {"172.17.0.1"},
		"metadata.test":     {"169.254.169.254"},
		"cgnat.test":        {"100.64.0.1"},
		"zero.test":         {"0.0.0.0"},
		"loopback6.test":    {"::1"},
		"ula.test":          {"fd00::1"},
		"linklocal6.test":   {"fe80::1"},
		"mapped.test":       {"::ffff:127.0.0.1"},
		"mapped10.test":     {"::ffff:10.0.0.1"},
		"multicast.test":    {"224.0.0.251"},
		"mixed.test":        {pub, "10.0.0.1"},
		"mixed-last.test":   {pub, pub, "::1"},
		"mixed-first.test":  {"127.0.0.2", pub},
		"rebind-dual.test":  {"2606:4700:4700::1111", "169.254.169.254"},
		"public-only6.test": {"2606:4700:4700::1111"},
	})
	e.f = fetchNewWithGuard(FetchOptions{Timeout: 2 * time.Second, LookupIP: e.dns.LookupIP}, func(ap netip.AddrPort) error {
		if ap == e.publicAddr {
			return nil
		}
		err := CheckAddr(ap.Addr())
		if err != nil {
			e.mu.Lock()
			e.refused = append(e.refused, ap)
			e.mu.Unlock()
		}
		return err
	})
	return e
}

func (e *ssrfEnv) lastRefused() (netip.AddrPort, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.refused) == 0 {
		return netip.AddrPort{}, 0
	}
	return e.refused[len(e.refused)-1], len(e.refused)
}

// TestFetchGuardSSRF fetches, as a source added from Discord or the CLI
// would be fetched, every kind of address that must stay out of reach:
// each is refused by the address check at dial time (after the name is
// resolved, for names), never reaches the private server, is not worth
// retrying, and says what it refused and how an operator may allow it.
func TestFetchGuardSSRF(t *testing.T) {
	e := newSSRFEnv(t)
	p := e.privatePort
	pubPort := fmt.Sprint(e.publicAddr.Port())
	e.docs.Set("/feed", feedserver.Doc{Body: "<rss/>"})
	redirect := func(target string) string { return "http://news.test:" + pubPort + "/to?u=" + target }

	tests := []struct {
		name string
		url  string
		// refused is the address the check refused; its port is the
		// URL's.
		refused string
		// reason is part of the message.
		reason string
	}{
		// Literal addresses.
		{"loopback", "http://127.0.0.1:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"loopback other", "http://127.45.6.7:" + p + "/feed", "127.45.6.7", "loopback address"},
		{"IPv6 loopback", "http://[::1]:" + p + "/feed", "::1", "loopback address"},
		{"10/8", "http://10.0.0.1:" + p + "/", "10.0.0.1", "private address"},
		{"10/8 top", "http://10.255.255.255:" + p + "/", "10.255.255.255", "private address"},
		{"172.16/12", "http://172.16.0.1:" + p + "/", "172.16.0.1", "private address"},
		{"172.16/12 top", "http://172.31.255.254:" + p + "/", "172.31.255.254", "private address"},
		{"192.168/16", "http://192.168.0.1:" + p + "/", "192.168.0.1", "private address"},
		{"cloud metadata", "http://169.254.169.254:" + p + "/latest/meta-data/", "169.254.169.254", "link-local address"},
		{"unspecified", "http://0.0.0.0:" + p + "/feed", "0.0.0.0", "unspecified address"},
		{"IPv6 unspecified", "http://[::]:" + p + "/feed", "::", "unspecified address"},
		{"CGNAT", "http://100.64.0.1:" + p + "/", "100.64.0.1", "shared (carrier-grade NAT) address"},
		{"CGNAT top", "http://100.127.255.254:" + p + "/", "100.127.255.254", "shared (carrier-grade NAT) address"},
		{"fc00::/7", "http://[fc00::1]:" + p + "/", "fc00::1", "private address"},
		{"fd00::/8", "http://[fd12:3456::1]:" + p + "/", "fd12:3456::1", "private address"},
		{"fe80::/10", "http://[fe80::1]:" + p + "/", "fe80::1", "link-local address"},
		{"fe80::/10 with zone", "http://[fe80::1%25lo]:" + p + "/", "fe80::1%lo", "link-local address"},
		{"IPv4 multicast", "http://224.0.0.1:" + p + "/", "224.0.0.1", "multicast address"},
		{"IPv6 multicast", "http://[ff02::1]:" + p + "/", "ff02::1", "multicast address"},
		{"broadcast", "http://255.255.255.255:" + p + "/", "255.255.255.255", "broadcast address"},

		// IPv4-mapped and other IPv6 spellings of IPv4.
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:" + p + "/feed", "::ffff:127.0.0.1", "loopback address (IPv4-mapped)"},
		{"IPv4-mapped loopback hex", "http://[::ffff:7f00:1]:" + p + "/feed", "::ffff:127.0.0.1", "loopback address (IPv4-mapped)"},
		{"IPv4-mapped 10/8", "http://[::ffff:10.0.0.1]:" + p + "/", "::ffff:10.0.0.1", "private address (IPv4-mapped)"},
		{"IPv4-mapped metadata", "http://[::ffff:169.254.169.254]:" + p + "/", "::ffff:169.254.169.254", "link-local address (IPv4-mapped)"},
		{"IPv4-mapped long form", "http://[0:0:0:0:0:ffff:127.0.0.1]:" + p + "/feed", "::ffff:127.0.0.1", "loopback address (IPv4-mapped)"},
		{"NAT64 loopback", "http://[64:ff9b::7f00:1]:" + p + "/", "64:ff9b::7f00:1", "loopback address embedded in a NAT64 address"},

		// IPv4 numbers as inet_aton (getaddrinfo, curl, browsers) reads them.
		{"decimal", "http://2130706433:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"octal", "http://0177.0.0.1:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"octal whole", "http://017700000001:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"hex", "http://0x7f.0.0.1:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"hex whole", "http://0x7F000001:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"short", "http://127.1:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"short three parts", "http://127.0.1:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"trailing dot", "http://127.0.0.1.:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"zero", "http://0:" + p + "/feed", "0.0.0.0", "unspecified address"},
		{"decimal metadata", "http://2852039166:" + p + "/", "169.254.169.254", "link-local address"},
		{"mixed bases 10/8", "http://012.0x0.0.01:" + p + "/", "10.0.0.1", "private address"},
		{"decimal 192.168", "http://3232235777:" + p + "/", "192.168.1.1", "private address"},

		// Names that resolve to such addresses.
		{"name to loopback", "http://evil.test:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"localhost", "http://localhost:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"localhost upper case", "http://LOCALHOST:" + p + "/feed", "127.0.0.1", "loopback address"},
		{"name to 10/8", "http://internal.test:" + p + "/", "10.0.0.5", "private address"},
		{"name to 192.168/16", "http://router.test:" + p + "/", "192.168.1.1", "private address"},
		{"name to 172.16/12", "http://docker.test:" + p + "/", "172.17.0.1", "private address"},
		{"name to metadata", "http://metadata.test:" + p + "/", "169.254.169.254", "link-local address"},
		{"name to CGNAT", "http://cgnat.test:" + p + "/", "100.64.0.1", "shared (carrier-grade NAT) address"},
		{"name to 0.0.0.0", "http://zero.test:" + p + "/", "0.0.0.0", "unspecified address"},
		{"name to ::1", "http://loopback6.test:" + p + "/", "::1", "loopback address"},
		{"name to fd00::/8", "http://ula.test:" + p + "/", "fd00::1", "private address"},
		{"name to fe80::/10", "http://linklocal6.test:" + p + "/", "fe80::1", "link-local address"},
		{"name to IPv4-mapped loopback", "http://mapped.test:" + p + "/", "::ffff:127.0.0.1", "loopback address (IPv4-mapped)"},
		{"name to IPv4-mapped 10/8", "http://mapped10.test:" + p + "/", "::ffff:10.0.0.1", "private address (IPv4-mapped)"},
		{"name to multicast", "http://multicast.test:" + p + "/", "224.0.0.251", "multicast address"},

		// Names with public and private addresses: refused whole,
		// whatever the order, before any address is dialed.
		{"public then private", "http://mixed.test:" + pubPort + "/feed", "10.0.0.1", "private address"},
		{"public, public, then ::1", "http://mixed-last.test:" + pubPort + "/feed", "::1", "loopback address"},
		{"private then public", "http://mixed-first.test:" + pubPort + "/feed", "127.0.0.2", "loopback address"},
		{"public IPv6 and metadata", "http://rebind-dual.test:" + p + "/", "169.254.169.254", "link-local address"},

		// A public URL redirecting to a private one.
		{"redirect to loopback", redirect("http://127.0.0.1:" + p + "/feed"), "127.0.0.1", "loopback address"},
		{"redirect to metadata", redirect("http://169.254.169.254/latest/meta-data/"), "169.254.169.254", "link-local address"},
		{"redirect to IPv4-mapped", redirect("http://[::ffff:127.0.0.1]:" + p + "/feed"), "::ffff:127.0.0.1", "loopback address (IPv4-mapped)"},
		{"redirect to decimal", redirect("http://2130706433:" + p + "/feed"), "127.0.0.1", "loopback address"},
		{"redirect to hex", redirect("http://0x7f.0.0.1:" + p + "/feed"), "127.0.0.1", "loopback address"},
		{"redirect to name", redirect("http://evil.test:" + p + "/feed"), "127.0.0.1", "loopback address"},
		{"redirect to localhost", redirect("http://localhost:" + p + "/feed"), "127.0.0.1", "loopback address"},
		{"redirect to mixed name", redirect("http://mixed.test:" + pubPort + "/feed"), "10.0.0.1", "private address"},
		{"redirect with userinfo", redirect("http://u:pw@10.1.2.3:" + p + "/"), "10.1.2.3", "private address"},
	}
	publicHits := func() int { n, _ := e.docs.Hits("/feed"); return n }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, before := e.lastRefused()
			feedHits := publicHits()
			_, err := e.f.Fetch(t.Context(), Request{URL: tt.url})
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("Fetch(%s) = %v, want ErrForbiddenAddress", tt.url, err)
			}
			if errors.Is(err, digest.ErrTransient) {
				t.Errorf("a forbidden address is transient: %v", err)
			}
			got, after := e.lastRefused()
			if after == before {
				t.Fatalf("refused (%v) without the dial-time address check", err)
			}
			u := tt.url
			if strings.Contains(u, "/to?u=") {
				u = u[strings.Index(u, "/to?u=")+len("/to?u="):]
			}
			if want := tt.refused; got.Addr().String() != want || fmt.Sprint(got.Port()) != portOf(t, u) {
				t.Errorf("dial-time check refused %v, want %s on the URL's port", got, want)
			}
			msg := err.Error()
			for _, want := range []string{"refusing to connect to ", tt.reason, "allow_private: true"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not contain %q", msg, want)
				}
			}
			if _, hop, ok := strings.Cut(msg, "redirected to "); ok && strings.Contains(hop, "pw") {
				t.Errorf("message %q shows the redirect's userinfo", msg)
			}
			if n := publicHits() - feedHits; n != 0 {
				t.Errorf("the public server's /feed was reached %d times", n)
			}
		})
	}
	if n := e.privateHits.Load(); n != 0 {
		t.Errorf("the private server was reached %d times", n)
	}

	// The same fetcher reaches the public server, by number and by name,
	// so the refusals above are the guard's, not a broken dialer's.
	for _, u := range []string{e.public.URL + "/feed", "http://news.test:" + pubPort + "/feed", "http://NEWS.test.:" + pubPort + "/feed"} {
		if _, err := e.f.Fetch(t.Context(), Request{URL: u}); err != nil {
			t.Errorf("Fetch(%s) = %v, want the public feed", u, err)
		}
	}
	// A name with no address at all is a DNS failure, not a refusal.
	if _, err := e.f.Fetch(t.Context(), Request{URL: "http://nowhere.test/feed"}); err == nil || errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("Fetch of an unknown name = %v, want a DNS error", err)
	}
}

// portOf returns the port of a URL, or its scheme's default.
func portOf(t *testing.T, raw string) string {
	t.Helper()
	i := strings.Index(raw, "://")
	hostport := raw[i+3:]
	if j := strings.IndexAny(hostport, "/?#"); j >= 0 {
		hostport = hostport[:j]
	}
	if at := strings.LastIndex(hostport, "@"); at >= 0 {
		hostport = hostport[at+1:]
	}
	if _, port, err := net.SplitHostPort(hostport); err == nil {
		return port
	}
	return "80"
}

// Operator sources with allow_private reach private addresses, through
// names and redirects too.
func TestFetchAllowPrivateReachesPrivate(t *testing.T) {
	e := newSSRFEnv(t)
	for _, u := range []string{
		e.private.URL + "/feed",
		"http://evil.test:" + e.privatePort + "/feed",
		"http://2130706433:" + e.privatePort + "/feed",
	} {
		if _, err := e.f.Fetch(t.Context(), Request{URL: u, AllowPrivate: true}); err != nil {
			t.Errorf("Fetch(%s) with AllowPrivate = %v", u, err)
		}
	}
	if n := e.privateHits.Load(); n != 3 {
		t.Errorf("private server reached %d times, want 3", n)
	}
	if _, n := e.lastRefused(); n != 0 {
		t.Errorf("the address check ran %d times for AllowPrivate requests", n)
	}
}

// A chat-added source on a public host whose items link to private pages:
// the feed is polled, the pages are not fetched.
func TestPollChatSourceLinkingToPrivatePages(t *testing.T) {
	e := newSSRFEnv(t)
	pubPort := fmt.Sprint(e.publicAddr.Port())
	e.docs.Set("/feed", feedserver.Doc{Body: rss("News",
		[3]string{"Talks one", "http://evil.test:" + e.privatePort + "/one", "Short excerpt one."},
		[3]string{"Talks two", "http://127.0.0.1:" + e.privatePort + "/two", "Short excerpt two."},
		[3]string{"Talks three", "http://0x7f000001:" + e.privatePort + "/three", "Short excerpt three."},
	)})
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	p := NewPoller(store, e.f, e.f, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now }, PollOptions{})
	src, err := store.AddSource(t.Context(), digest.Source{
		Name: "chat", URL: "http://news.test:" + pubPort + "/feed", Interval: time.Hour,
		AllowPrivate: true, // ignored: only config sources may
		Origin:       digest.OriginChat, GuildID: "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Poll(t.Context(), src, false); r.Status != StatusNew || r.New != 3 {
		t.Fatalf("poll = %+v, want 3 new articles from the public feed", r)
	}
	if n := e.privateHits.Load(); n != 0 {
		t.Errorf("the private server was reached %d times", n)
	}
	if _, n := e.lastRefused(); n < 3 {
		t.Errorf("the address check refused %d page fetches, want 3", n)
	}
}

func TestGuardParseIPv4(t *testing.T) {
	tests := []struct {
		host string
		want string // "" when not an IPv4 number
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f.0.0.1", "127.0.0.1"},
		{"0X7F.0.0.1", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"017700000001", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"10.1", "10.0.0.1"},
		{"0", "0.0.0.0"},
		{"0x", "0.0.0.0"},
		{"00", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"192.168.257", "192.168.1.1"},
		{"012.0x0.0.01", "10.0.0.1"},
		{"134744072", "8.8.8.8"},

		{"4294967296", ""},
		{"256.0.0.1", ""},
		{"1.2.3.4.5", ""},
		{"1.2.3.256", ""},
		{"1.2.65536", ""},
		{"08.0.0.1", ""},
		{"0xg.0.0.1", ""},
		{"1..2", ""},
		{".1.2.3", ""},
		{"", ""},
		{".", ""},
		{"+1.2.3.4", ""},
		{"-1", ""},
		{"example.com", ""},
		{"1.2.3.com", ""},
		{"0x7f.example", ""},
		{"::1", ""},
	}
	for _, tt := range tests {
		got, ok := guardParseIPv4(tt.host)
		switch {
		case tt.want == "" && ok:
			t.Errorf("guardParseIPv4(%q) = %v, want not an address", tt.host, got)
		case tt.want != "" && (!ok || got.String() != tt.want):
			t.Errorf("guardParseIPv4(%q) = %v, %v; want %s", tt.host, got, ok, tt.want)
		}
	}
}

// The guarded dial goes on to the other address family when the first
// fails, as net.Dialer does, and reports the first family's error when
// both fail.
func TestGuardDialFallback(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	closed := fetchTestClosedPort(t)
	dns := newFakeDNS(map[string][]string{"dual.test": {"::1", "127.0.0.1"}, "down.test": {"::1", "127.0.0.1"}})
	dial := guardDialContext(&net.Dialer{Timeout: time.Second}, dns.LookupIP, nil)

	// Nothing listens on [::1]:port (the listener is IPv4 only), or IPv6
	// is off: either way the IPv4 address is tried next.
	c, err := dial(t.Context(), "tcp", fmt.Sprintf("dual.test:%d", port))
	if err != nil {
		t.Fatalf("dial dual.test = %v, want the IPv4 connection", err)
	}
	if got := c.RemoteAddr().String(); got != ln.Addr().String() {
		t.Errorf("connected to %s, want %s", got, ln.Addr())
	}
	c.Close()

	_, closedPort, _ := net.SplitHostPort(closed)
	if _, err := dial(t.Context(), "tcp", "down.test:"+closedPort); err == nil {
		t.Error("dial with every address refusing succeeded")
	} else if !strings.Contains(err.Error(), "[::1]") {
		t.Errorf("dial error %q, want the first (IPv6) address's", err)
	}
	if _, err := dial(t.Context(), "tcp", "nowhere.test:80"); !errors.As(err, new(*net.DNSError)) {
		t.Errorf("dial of an unknown name = %v, want a *net.DNSError", err)
	}
}

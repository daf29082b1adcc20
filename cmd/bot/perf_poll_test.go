package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The performance checks of issue "Performance" that need a whole process
// (poll at scale, interactions under load, memory at rest) are tests named
// TestPerf…, run by `make perf`. They take minutes, so they run only when
// BRIEFBOT_PERF=1.
func skipUnlessPerf(t *testing.T) {
	t.Helper()
	if os.Getenv("BRIEFBOT_PERF") != "1" {
		t.Skip("performance check; run with BRIEFBOT_PERF=1 (make perf)")
	}
}

// Poll at scale: 10,000 feeds on 500 hosts. After a first poll of all of
// them, one full cycle in which 94% answer 304, 5% have two new items (one
// of them an excerpt, so its page is fetched) and 1% fail (503, reset) or
// are slow (answer after 10 s, or never): it must finish within 60 s with
// the process's peak RSS at most 150 MB.
const (
	perfFeeds        = 10000
	perfHosts        = 500
	perfCycleTarget  = 60 * time.Second
	perfPollRSSLimit = 150 << 20
	perfItems        = 5 // items per feed before the cycle
)

// perfFeed is how feed n behaves in the measured cycle.
type perfFeed int

const (
	feedSame    perfFeed = iota // 304
	feedChanged                 // two new items
	feedError                   // 503
	feedReset                   // connection closed without an answer
	feedSlow                    // answers after 10 s
	feedHang                    // never answers
)

// perfFeedKind spreads the kinds over the feeds, and so over the hosts,
// as a hash would: 5% changed, 1% failing or slow.
func perfFeedKind(n int) perfFeed {
	h := uint32(n) * 2654435761 // Knuth's multiplicative hash
	switch r := (h >> 8) % 400; {
	case r < 20:
		return feedChanged
	case r < 24:
		return []perfFeed{feedError, feedReset, feedSlow, feedHang}[r-20]
	}
	return feedSame
}

// perfFeedServer serves the 10,000 feeds and their article pages on
// loopback addresses 127.0.1.1 onwards, one listener each, so that the
// fetcher's per-host limit applies as it would across real sites.
type perfFeedServer struct {
	hosts    []string // host:port
	cycle    atomic.Int32
	requests atomic.Int64
	notMod   atomic.Int64
	pages    atomic.Int64
	srv      *http.Server
	hang     chan struct{}
}

func startPerfFeeds(t *testing.T) *perfFeedServer {
	t.Helper()
	s := &perfFeedServer{hang: make(chan struct{})}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	for h := range perfHosts {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.%d.%d:0", 1+h/250, 1+h%250))
		if err != nil {
			t.Skipf("cannot listen on loopback address %d: %v", h, err)
		}
		s.hosts = append(s.hosts, l.Addr().String())
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.srv.Serve(l) }()
	}
	t.Cleanup(func() {
		close(s.hang)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
		s.srv.Close()
		wg.Wait()
	})
	return s
}

func (s *perfFeedServer) feedURL(n int) string {
	return fmt.Sprintf("http://%s/feed/%d.xml", s.hosts[n%perfHosts], n)
}

// ServeHTTP answers /feed/N.xml and /page/N/K.html.
func (s *perfFeedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if rest, ok := strings.CutPrefix(r.URL.Path, "/page/"); ok {
		s.pages.Add(1)
		ns, ks, _ := strings.Cut(strings.TrimSuffix(rest, ".html"), "/")
		n, _ := strconv.Atoi(ns)
		k, _ := strconv.Atoi(ks)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<html><head><title>Item %d of feed %d</title></head><body><nav>Home | World | Sport</nav><article><h1>Item %d of feed %d</h1>%s</article><footer>Leave a Reply. Required fields are marked *</footer></body></html>",
			k, n, k, n, perfParagraphs(n*100+k, 6))
		return
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/feed/"), ".xml"))
	if err != nil || n < 0 || n >= perfFeeds {
		http.NotFound(w, r)
		return
	}
	version := 0
	if s.cycle.Load() > 0 {
		switch perfFeedKind(n) {
		case feedChanged:
			version = 1
		case feedError:
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
			return
		case feedReset:
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
				}
			}
			return
		case feedSlow:
			select {
			case <-time.After(10 * time.Second):
			case <-s.hang:
			}
		case feedHang:
			select {
			case <-r.Context().Done():
			case <-s.hang:
			}
			return
		}
	}
	etag := fmt.Sprintf(`"f%d-v%d"`, n, version)
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		s.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	_, _ = w.Write(perfFeedBody(s.hosts[n%perfHosts], n, version))
}

// perfFeedBody is feed n at version v: five items with their full text,
// and in version 1 two more, the second an excerpt whose page is fetched.
func perfFeedBody(host string, n, v int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Outlet %d</title><link>http://%s/</link><description>News from outlet %d</description>`, n, host, n)
	at := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	items := perfItems + 2*v
	for k := items - 1; k >= 0; k-- {
		link := fmt.Sprintf("http://%s/page/%d/%d.html", host, n, k)
		fmt.Fprintf(&b, `<item><title>Item %d of feed %d: council votes on harbour plan %d</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate>`,
			k, n, n*100+k, link, link, at.Add(time.Duration(k)*time.Minute).Format(time.RFC1123Z))
		if k == 6 {
			fmt.Fprintf(&b, `<description>The council met again on Monday to discuss plan %d.</description></item>`, n*100+k)
			continue
		}
		fmt.Fprintf(&b, `<description>The council met on Monday.</description><content:encoded><![CDATA[%s]]></content:encoded></item>`, perfParagraphs(n*100+k, 4))
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}

// perfWords is the vocabulary of the made-up article text.
var perfWords = strings.Fields(`council harbour plan vote budget mayor residents ferry bridge
	school hospital road rail port tax housing water energy grid wind solar farm fishing
	quota court judge ruling appeal police fire station park library museum festival
	market price wage union strike talks minister ministry agency report review audit`)

// perfParagraphs is n-specific text: paras paragraphs of 40 words.
func perfParagraphs(n, paras int) string {
	var b strings.Builder
	x := uint64(n)*2654435761 + 1
	for p := range paras {
		b.WriteString("<p>")
		for w := range 40 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(perfWords[x%uint64(len(perfWords))])
			if w%10 == 9 {
				b.WriteString(".")
			}
		}
		fmt.Fprintf(&b, " Item %d paragraph %d.</p>", n, p)
	}
	return b.String()
}

// perfRun is one finished briefbot process.
type perfRun struct {
	wall   time.Duration
	maxRSS int64 // bytes
	stdout []byte
	stderr string
}

// runPerf runs the briefbot binary to completion and measures it.
func runPerf(t *testing.T, bin string, env []string, args ...string) perfRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := perfRun{wall: time.Since(start), stdout: stdout.Bytes(), stderr: stderr.String()}
	if err != nil {
		t.Fatalf("briefbot %s: %v\n%s", strings.Join(args, " "), err, tail(r.stderr, 4000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = ru.Maxrss << 10 // KiB on Linux
	}
	return r
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func TestPerfPollAtScale(t *testing.T) {
	skipUnlessPerf(t)
	bin := buildBinary(t)
	feeds := startPerfFeeds(t)
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "database: %s\ntopics:\n  - name: harbour\n    query: harbour OR ferry\nsources:\n", filepath.Join(dir, "b.db"))
	for n := range perfFeeds {
		fmt.Fprintf(&cfg, "  - name: feed-%05d\n    url: %s\n    allow_private: true\n", n, feeds.feedURL(n))
	}
	env := append(os.Environ(), "BRIEFBOT_CONFIG="+writeFile(t, dir, "briefbot.yaml", cfg.String()))

	first := runPerf(t, bin, env, "--log-level", "error", "fetch", "--format", "json")
	firstTotal := fetchTotals(t, first.stdout)
	t.Logf("first poll of %d feeds: %v, peak RSS %.0f MB; %d new articles, %d failed, %d page fetches",
		perfFeeds, first.wall.Round(100*time.Millisecond), float64(first.maxRSS)/(1<<20), firstTotal.Articles, firstTotal.Failed, feeds.pages.Load())
	if firstTotal.Failed != 0 {
		t.Fatalf("first poll: %d sources failed: %s\n%s", firstTotal.Failed, failedSources(first.stdout, 5), tail(first.stderr, 4000))
	}

	feeds.cycle.Store(1)
	reqs, notMod, pages := feeds.requests.Load(), feeds.notMod.Load(), feeds.pages.Load()
	cycle := runPerf(t, bin, env, "--log-level", "error", "fetch", "--format", "json")
	tot := fetchTotals(t, cycle.stdout)
	kinds := make(map[perfFeed]int)
	for n := range perfFeeds {
		kinds[perfFeedKind(n)]++
	}
	t.Logf("cycle: %d feeds: %d not modified (%d 304s), %d changed (%d new articles, %d pages fetched), %d failing or slow; %d failed; %d requests",
		tot.Sources, tot.Unchanged, feeds.notMod.Load()-notMod, tot.New+tot.Updated, tot.Articles, feeds.pages.Load()-pages,
		kinds[feedError]+kinds[feedReset]+kinds[feedSlow]+kinds[feedHang], tot.Failed, feeds.requests.Load()-reqs)
	t.Logf("poll cycle of %d feeds: %v (target ≤ %v); peak RSS %.0f MB (target ≤ %d MB)",
		perfFeeds, cycle.wall.Round(100*time.Millisecond), perfCycleTarget, float64(cycle.maxRSS)/(1<<20), perfPollRSSLimit>>20)

	if want := kinds[feedSame] + kinds[feedSlow]; tot.Unchanged != want {
		t.Errorf("%d sources unchanged, want %d", tot.Unchanged, want)
	}
	if want := kinds[feedChanged]; tot.New != want || tot.Articles != 2*want {
		t.Errorf("%d sources with %d new articles, want %d with %d", tot.New, tot.Articles, want, 2*want)
	}
	if want := kinds[feedError] + kinds[feedReset] + kinds[feedHang]; tot.Failed != want {
		t.Errorf("%d sources failed, want %d: %s", tot.Failed, want, failedSources(cycle.stdout, 5))
	}
	if cycle.wall > perfCycleTarget {
		t.Errorf("poll cycle took %v, target %v", cycle.wall, perfCycleTarget)
	}
	if cycle.maxRSS > perfPollRSSLimit {
		t.Errorf("peak RSS %d MB, target %d MB", cycle.maxRSS>>20, perfPollRSSLimit>>20)
	}
}

// failedSources lists up to n failed sources of `briefbot fetch --format
// json` with their errors.
func failedSources(out []byte, n int) string {
	var v struct {
		Sources []struct{ Source, Status, Error string } `json:"sources"`
	}
	_ = json.Unmarshal(out, &v)
	var failed []string
	for _, s := range v.Sources {
		if s.Status == "failed" && len(failed) < n {
			failed = append(failed, s.Source+": "+s.Error)
		}
	}
	return strings.Join(failed, "; ")
}

// fetchTotals decodes the total of `briefbot fetch --format json`.
func fetchTotals(t *testing.T, out []byte) fetchTotal {
	t.Helper()
	var v struct {
		Total fetchTotal `json:"total"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("fetch output: %v\n%s", err, tail(string(out), 2000))
	}
	return v.Total
}

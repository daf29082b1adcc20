package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// fetchTestServer starts a local server and closes it when the test ends.
func fetchTestServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// fetchTestGet fetches url with AllowPrivate, as the test servers listen on
// loopback.
func fetchTestGet(t *testing.T, f *Fetcher, url string) (*Response, error) {
	t.Helper()
	return f.Fetch(t.Context(), Request{URL: url, AllowPrivate: true})
}

// fetchTestClosedPort returns a loopback address nothing listens on.
func fetchTestClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestFetchOK(t *testing.T) {
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprint(w, "<rss/>")
	})
	resp, err := fetchTestGet(t, NewFetcher(FetchOptions{}), srv.URL+"/feed")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(resp.Body), "<rss/>"; got != want {
		t.Errorf("Body = %q, want %q", got, want)
	}
	if got, want := resp.ContentType, "application/rss+xml; charset=utf-8"; got != want {
		t.Errorf("ContentType = %q, want %q", got, want)
	}
	if got, want := resp.URL, srv.URL+"/feed"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("StatusCode = %d, want 200", resp.StatusCode)
	}
}

func TestFetchETagNotModified(t *testing.T) {
	const etag = `"v1"`
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, "body")
	})
	f := NewFetcher(FetchOptions{})

	resp, err := fetchTestGet(t, f, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ETag != etag {
		t.Fatalf("ETag = %q, want %q", resp.ETag, etag)
	}

	resp, err = f.Fetch(t.Context(), Request{URL: srv.URL, ETag: resp.ETag, AllowPrivate: true})
	if !errors.Is(err, digest.ErrNotModified) {
		t.Fatalf("second fetch: err = %v, want ErrNotModified", err)
	}
	if errors.Is(err, digest.ErrTransient) {
		t.Errorf("304 is transient: %v", err)
	}
	if resp != nil {
		t.Errorf("304 returned a response: %+v", resp)
	}
	var fe *FetchError
	if !errors.As(err, &fe) || fe.StatusCode != http.StatusNotModified {
		t.Errorf("err = %#v, want *FetchError with status 304", err)
	}
}

func TestFetchLastModifiedNotModified(t *testing.T) {
	lastMod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(http.TimeFormat)
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			t.Errorf("unexpected If-None-Match %q", r.Header.Get("If-None-Match"))
		}
		if r.Header.Get("If-Modified-Since") == lastMod {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", lastMod)
		fmt.Fprint(w, "body")
	})
	f := NewFetcher(FetchOptions{})

	resp, err := fetchTestGet(t, f, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.LastModified != lastMod {
		t.Fatalf("LastModified = %q, want %q", resp.LastModified, lastMod)
	}
	_, err = f.Fetch(t.Context(), Request{URL: srv.URL, LastModified: resp.LastModified, AllowPrivate: true})
	if !errors.Is(err, digest.ErrNotModified) {
		t.Fatalf("second fetch: err = %v, want ErrNotModified", err)
	}
}

func TestFetchStatus(t *testing.T) {
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
		fmt.Fprint(w, "whatever")
	})
	f := NewFetcher(FetchOptions{})
	tests := []struct {
		code      int
		transient bool
		text      string
	}{
		{400, false, "400 Bad Request"},
		{401, false, "401 Unauthorized"},
		{403, false, "403 Forbidden"},
		{404, false, "404 Not Found"},
		{410, false, "410 Gone"},
		{408, true, "408 Request Timeout"},
		{425, true, "425 Too Early"},
		{429, true, "429 Too Many Requests"},
		{500, true, "500 Internal Server Error"},
		{502, true, "502 Bad Gateway"},
		{503, true, "503 Service Unavailable"},
		{504, true, "504 Gateway Timeout"},
		{599, true, "HTTP status 599"},
		{300, false, "300 Multiple Choices"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			url := srv.URL + "/" + strconv.Itoa(tt.code)
			resp, err := fetchTestGet(t, f, url)
			if err == nil {
				t.Fatalf("got response %+v, want error", resp)
			}
			if got := errors.Is(err, digest.ErrTransient); got != tt.transient {
				t.Errorf("transient = %v, want %v (err: %v)", got, tt.transient, err)
			}
			var fe *FetchError
			if !errors.As(err, &fe) || fe.StatusCode != tt.code {
				t.Errorf("err = %#v, want *FetchError with status %d", err, tt.code)
			}
			if got, want := err.Error(), "sources: GET "+url+": "+tt.text; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
			var ra *RetryAfterError
			if errors.As(err, &ra) {
				t.Errorf("RetryAfterError without Retry-After: %v", err)
			}
		})
	}
}

func TestFetchRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name   string
		code   int
		header string
		want   time.Duration // 0: no RetryAfterError
	}{
		{"429 seconds", 429, "120", 120 * time.Second},
		{"503 seconds", 503, "7", 7 * time.Second},
		{"429 HTTP-date", 429, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"503 HTTP-date", 503, now.Add(2 * time.Hour).Format(http.TimeFormat), 2 * time.Hour},
		{"capped", 503, "99999999", MaxRetryAfter},
		{"far date capped", 429, now.AddDate(1, 0, 0).Format(http.TimeFormat), MaxRetryAfter},
		{"past date", 429, now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"negative", 429, "-5", 0},
		{"garbage", 503, "soon", 0},
		{"zero", 429, "0", 0},
		{"other status", 500, "120", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tt.header)
				w.WriteHeader(tt.code)
			})
			f := NewFetcher(FetchOptions{Now: func() time.Time { return now }})
			_, err := fetchTestGet(t, f, srv.URL)
			if !errors.Is(err, digest.ErrTransient) {
				t.Fatalf("err = %v, want transient", err)
			}
			var fe *FetchError
			if !errors.As(err, &fe) || fe.StatusCode != tt.code {
				t.Errorf("err = %#v, want *FetchError with status %d", err, tt.code)
			}
			var ra *RetryAfterError
			switch {
			case !errors.As(err, &ra):
				if tt.want != 0 {
					t.Errorf("no RetryAfterError in %v, want After = %v", err, tt.want)
				}
			case ra.After != tt.want:
				t.Errorf("After = %v, want %v", ra.After, tt.want)
			case !strings.Contains(err.Error(), "retry after "+tt.want.String()):
				t.Errorf("message %q does not mention the wait", err)
			}
		})
	}
}

func TestFetchRedirects(t *testing.T) {
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/loop" {
			http.Redirect(w, r, "/loop", http.StatusFound)
			return
		}
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hops/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if n > 0 {
			http.Redirect(w, r, "/hops/"+strconv.Itoa(n-1), http.StatusMovedPermanently)
			return
		}
		fmt.Fprint(w, "arrived")
	})
	f := NewFetcher(FetchOptions{MaxRedirects: 5})

	t.Run("within limit", func(t *testing.T) {
		resp, err := fetchTestGet(t, f, srv.URL+"/hops/5")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := resp.URL, srv.URL+"/hops/0"; got != want {
			t.Errorf("URL = %q, want final URL %q", got, want)
		}
	})
	t.Run("over limit", func(t *testing.T) {
		_, err := fetchTestGet(t, f, srv.URL+"/hops/6")
		if !errors.Is(err, ErrTooManyRedirects) {
			t.Fatalf("err = %v, want ErrTooManyRedirects", err)
		}
		if errors.Is(err, digest.ErrTransient) {
			t.Errorf("redirect limit is transient: %v", err)
		}
	})
	t.Run("loop", func(t *testing.T) {
		_, err := fetchTestGet(t, f, srv.URL+"/loop")
		if !errors.Is(err, ErrTooManyRedirects) {
			t.Fatalf("err = %v, want ErrTooManyRedirects", err)
		}
		if !strings.Contains(err.Error(), "stopped after 5 redirects") {
			t.Errorf("message %q does not say why", err)
		}
	})
	t.Run("none allowed", func(t *testing.T) {
		_, err := fetchTestGet(t, NewFetcher(FetchOptions{MaxRedirects: -1}), srv.URL+"/hops/1")
		if !errors.Is(err, ErrTooManyRedirects) {
			t.Fatalf("err = %v, want ErrTooManyRedirects", err)
		}
	})
	t.Run("to ftp", func(t *testing.T) {
		ftp := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "ftp://example.com/feed", http.StatusFound)
		})
		_, err := fetchTestGet(t, f, ftp.URL)
		if !errors.Is(err, ErrUnsupportedScheme) {
			t.Fatalf("err = %v, want ErrUnsupportedScheme", err)
		}
		if !strings.Contains(err.Error(), "redirected to ftp://example.com/feed") {
			t.Errorf("message %q does not name the redirect", err)
		}
	})
}

func TestFetchGuardRedirectToPrivate(t *testing.T) {
	private := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secret")
	})
	public := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/direct" {
			fmt.Fprint(w, "public")
			return
		}
		http.Redirect(w, r, private.URL+"/admin", http.StatusFound)
	})
	// Pretend the public server's address is public; everything else gets
	// the real check.
	publicAddr := netip.MustParseAddrPort(public.Listener.Addr().String())
	f := fetchNewWithGuard(FetchOptions{}, func(ap netip.AddrPort) error {
		if ap == publicAddr {
			return nil
		}
		return CheckAddr(ap.Addr())
	})

	if _, err := f.Fetch(t.Context(), Request{URL: public.URL + "/direct"}); err != nil {
		t.Fatalf("fetch from allowed server: %v", err)
	}
	_, err := f.Fetch(t.Context(), Request{URL: public.URL + "/redirect"})
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("err = %v, want ErrForbiddenAddress", err)
	}
	if errors.Is(err, digest.ErrTransient) {
		t.Errorf("forbidden address is transient: %v", err)
	}
	for _, want := range []string{"redirected to " + private.URL + "/admin", "refusing to connect to 127.0.0.1: loopback address"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not contain %q", err, want)
		}
	}
	if resp, err := f.Fetch(t.Context(), Request{URL: public.URL + "/redirect", AllowPrivate: true}); err != nil || string(resp.Body) != "secret" {
		t.Errorf("with AllowPrivate: resp %+v, err %v; want the private body", resp, err)
	}
}

func TestFetchGuardRefusesPrivate(t *testing.T) {
	var hits atomic.Int32
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "secret")
	})
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	f := NewFetcher(FetchOptions{Timeout: 2 * time.Second})
	for _, url := range []string{
		srv.URL,
		fmt.Sprintf("http://localhost:%d/", port),
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port),
		"http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1/",
		"http://0.0.0.0/",
	} {
		t.Run(url, func(t *testing.T) {
			_, err := f.Fetch(t.Context(), Request{URL: url})
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("err = %v, want ErrForbiddenAddress", err)
			}
			if errors.Is(err, digest.ErrTransient) {
				t.Errorf("forbidden address is transient: %v", err)
			}
			if !strings.Contains(err.Error(), "allow_private") {
				t.Errorf("message %q does not say how to allow it", err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server was reached %d times", n)
	}
}

func TestFetchBodyLimit(t *testing.T) {
	const size = 50 << 20
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sized" {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	f := NewFetcher(FetchOptions{})
	for _, path := range []string{"/streamed", "/sized"} {
		t.Run(path, func(t *testing.T) {
			_, err := fetchTestGet(t, f, srv.URL+path)
			if !errors.Is(err, ErrBodyTooLarge) {
				t.Fatalf("err = %v, want ErrBodyTooLarge", err)
			}
			if errors.Is(err, digest.ErrTransient) {
				t.Errorf("body limit is transient: %v", err)
			}
			if got, want := err.Error(), "sources: GET "+srv.URL+path+": body exceeds 10 MiB limit"; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
		})
	}
	t.Run("exactly at limit", func(t *testing.T) {
		_, err := fetchTestGet(t, NewFetcher(FetchOptions{MaxBodyBytes: 32 << 10}), srv.URL+"/streamed")
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("err = %v, want ErrBodyTooLarge", err)
		}
		small := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write(chunk) })
		resp, err := fetchTestGet(t, NewFetcher(FetchOptions{MaxBodyBytes: 32 << 10}), small.URL)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Body) != len(chunk) {
			t.Errorf("len(Body) = %d, want %d", len(resp.Body), len(chunk))
		}
	})
}

// fetchTestGzip returns data gzip-compressed.
func fetchTestGzip(t *testing.T, write func(*gzip.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	write(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchGzip(t *testing.T) {
	// 100 MiB of zeros in about 100 KiB: 100 concatenated gzip members of
	// 1 MiB each, which gzip readers decode as one stream. Compressing one
	// member and repeating it keeps the test fast under -race.
	member := fetchTestGzip(t, func(zw *gzip.Writer) { zw.Write(make([]byte, 1<<20)) })
	bomb := bytes.Repeat(member, 100)
	feed := fetchTestGzip(t, func(zw *gzip.Writer) { zw.Write([]byte("<rss>hello</rss>")) })
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", r.URL.Query().Get("enc"))
		if r.URL.Path == "/bomb" {
			w.Write(bomb)
		} else {
			w.Write(feed)
		}
	})
	f := NewFetcher(FetchOptions{})

	// "gzip" is decoded by the transport, which asked for it; "x-gzip" is
	// left to the Fetcher.
	for _, enc := range []string{"gzip", "x-gzip"} {
		t.Run(enc+" feed", func(t *testing.T) {
			resp, err := fetchTestGet(t, f, srv.URL+"/feed?enc="+enc)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(resp.Body), "<rss>hello</rss>"; got != want {
				t.Errorf("Body = %q, want %q", got, want)
			}
		})
		t.Run(enc+" bomb", func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := fetchTestGet(t, f, srv.URL+"/bomb?enc="+enc)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrBodyTooLarge) {
				t.Fatalf("err = %v, want ErrBodyTooLarge", err)
			}
			if !strings.Contains(err.Error(), "body exceeds 10 MiB limit") {
				t.Errorf("message %q does not name the limit", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB reading a bomb capped at 10 MiB", alloc>>20)
			}
			if elapsed > 20*time.Second { // generous: -race on a loaded 2-core machine took 5.1 s
				t.Errorf("took %v to reject the bomb", elapsed)
			}
		})
	}
	t.Run("invalid gzip", func(t *testing.T) {
		bad := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "x-gzip")
			fmt.Fprint(w, "not gzip at all")
		})
		_, err := fetchTestGet(t, f, bad.URL)
		if err == nil || errors.Is(err, digest.ErrTransient) {
			t.Fatalf("err = %v, want a permanent error", err)
		}
		if !strings.Contains(err.Error(), "invalid gzip body") {
			t.Errorf("message %q does not say what is wrong", err)
		}
	})
}

func TestFetchEmptyBody(t *testing.T) {
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {})
	_, err := fetchTestGet(t, NewFetcher(FetchOptions{}), srv.URL)
	if !errors.Is(err, ErrEmptyBody) {
		t.Fatalf("err = %v, want ErrEmptyBody", err)
	}
	if got, want := err.Error(), "sources: GET "+srv.URL+": empty body"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestFetchTimeout(t *testing.T) {
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			fmt.Fprint(w, "<rss>")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	f := NewFetcher(FetchOptions{Timeout: 200 * time.Millisecond})
	for _, path := range []string{"/slow-headers", "/slow-body"} {
		t.Run(path, func(t *testing.T) {
			start := time.Now()
			_, err := fetchTestGet(t, f, srv.URL+path)
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("took %v with a 200ms timeout", elapsed)
			}
			if !errors.Is(err, digest.ErrTransient) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want transient deadline exceeded", err)
			}
			if !strings.Contains(err.Error(), "timed out after 200ms") {
				t.Errorf("message %q does not say it timed out", err)
			}
		})
	}
}

func TestFetchCanceled(t *testing.T) {
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := NewFetcher(FetchOptions{}).Fetch(ctx, Request{URL: srv.URL, AllowPrivate: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if errors.Is(err, digest.ErrTransient) {
		t.Errorf("the caller's cancellation is transient: %v", err)
	}
}

func TestFetchUnreachable(t *testing.T) {
	_, err := fetchTestGet(t, NewFetcher(FetchOptions{}), "http://"+fetchTestClosedPort(t)+"/feed")
	if !errors.Is(err, digest.ErrTransient) {
		t.Fatalf("err = %v, want transient", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want ECONNREFUSED", err)
	}
	var fe *FetchError
	if !errors.As(err, &fe) || fe.StatusCode != 0 {
		t.Errorf("err = %#v, want *FetchError without status", err)
	}
}

func TestFetchInvalidURL(t *testing.T) {
	f := NewFetcher(FetchOptions{})
	for _, url := range []string{
		"ftp://example.com/feed.xml",
		"file:///etc/passwd",
		"gopher://example.com/",
		"javascript:alert(1)",
		"example.com/feed",
		"",
	} {
		t.Run(url, func(t *testing.T) {
			_, err := f.Fetch(t.Context(), Request{URL: url, AllowPrivate: true})
			if !errors.Is(err, ErrUnsupportedScheme) {
				t.Fatalf("err = %v, want ErrUnsupportedScheme", err)
			}
			if errors.Is(err, digest.ErrTransient) {
				t.Errorf("invalid scheme is transient: %v", err)
			}
		})
	}
	for _, url := range []string{"http://", "http://[::1", "https://example.com:port/", "http://exa mple.com/"} {
		t.Run(url, func(t *testing.T) {
			_, err := f.Fetch(t.Context(), Request{URL: url, AllowPrivate: true})
			var fe *FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FetchError", err)
			}
			if errors.Is(err, digest.ErrTransient) {
				t.Errorf("invalid URL is transient: %v", err)
			}
		})
	}
}

func TestFetchRedactsUserinfo(t *testing.T) {
	var gotUser, gotPass string
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			gotUser, gotPass, _ = r.BasicAuth()
			fmt.Fprint(w, "ok")
		}
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	f := NewFetcher(FetchOptions{})

	resp, err := fetchTestGet(t, f, "http://alice:s3cret@"+host+"/ok")
	if err != nil {
		t.Fatal(err)
	}
	if gotUser != "alice" || gotPass != "s3cret" {
		t.Errorf("basic auth = %q:%q, want alice:s3cret", gotUser, gotPass)
	}
	if strings.Contains(resp.URL, "s3cret") || strings.Contains(resp.URL, "alice") {
		t.Errorf("Response.URL %q keeps userinfo", resp.URL)
	}

	tests := []struct {
		name, url    string
		allowPrivate bool
	}{
		{"status", "http://alice:s3cret@" + host + "/fail", true},
		{"redirect loop", "http://alice:s3cret@" + host + "/loop", true},
		{"refused connection", "http://alice:s3cret@" + fetchTestClosedPort(t) + "/", true},
		{"guard", "http://alice:s3cret@" + host + "/", false},
		{"scheme", "ftp://alice:s3cret@example.com/", true},
		{"invalid URL", "http://alice:s3cret@example.com:port/", true},
		{"user only", "http://s3cret@" + host + "/fail", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Fetch(t.Context(), Request{URL: tt.url, AllowPrivate: tt.allowPrivate})
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "alice") {
				t.Errorf("message %q leaks userinfo", msg)
			}
			var fe *FetchError
			if errors.As(err, &fe) && strings.Contains(fe.URL, "s3cret") {
				t.Errorf("FetchError.URL %q leaks userinfo", fe.URL)
			}
		})
	}
}

func TestFetchPerHostLimit(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		fmt.Fprint(w, "ok")
	})
	f := NewFetcher(FetchOptions{PerHost: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, err := fetchTestGet(t, f, srv.URL)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := maxInFlight.Load(); got != 2 {
		t.Errorf("max in flight = %d, want 2", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hostSems) != 0 {
		t.Errorf("%d idle host semaphores kept", len(f.hostSems))
	}
}

func TestFetchPerHostWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		fmt.Fprint(w, "ok")
	})
	f := NewFetcher(FetchOptions{PerHost: 1})
	first := make(chan error, 1)
	go func() {
		_, err := fetchTestGet(t, f, srv.URL)
		first <- err
	}()
	// Wait until the first request holds the only slot.
	for {
		f.mu.Lock()
		s := f.hostSems["127.0.0.1"]
		held := s != nil && len(s.slots) == 1
		f.mu.Unlock()
		if held {
			break
		}
		time.Sleep(time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := f.Fetch(ctx, Request{URL: srv.URL, AllowPrivate: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the caller's deadline", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first fetch: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hostSems) != 0 {
		t.Errorf("%d idle host semaphores kept", len(f.hostSems))
	}
}

func TestFetchHeaders(t *testing.T) {
	var got http.Header
	srv := fetchTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		fmt.Fprint(w, "ok")
	})
	tests := []struct {
		name   string
		opts   FetchOptions
		accept string
		wantUA string
	}{
		{"default", FetchOptions{}, "", "briefbot/dev (+https://github.com/briefbot/briefbot)"},
		{"version", FetchOptions{Version: "1.2.3"}, "application/rss+xml", "briefbot/1.2.3 (+https://github.com/briefbot/briefbot)"},
		{"custom", FetchOptions{UserAgent: "custom/1"}, "", "custom/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewFetcher(tt.opts).Fetch(t.Context(), Request{URL: srv.URL, Accept: tt.accept, AllowPrivate: true})
			if err != nil {
				t.Fatal(err)
			}
			if ua := got.Get("User-Agent"); ua != tt.wantUA {
				t.Errorf("User-Agent = %q, want %q", ua, tt.wantUA)
			}
			if a := got.Get("Accept"); a != tt.accept {
				t.Errorf("Accept = %q, want %q", a, tt.accept)
			}
			for _, h := range []string{"If-None-Match", "If-Modified-Since"} {
				if v := got.Get(h); v != "" {
					t.Errorf("%s = %q sent without a validator", h, v)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"1", time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"86400", MaxRetryAfter, true},
		{"86401", MaxRetryAfter, true},
		{"18446744073709551616", MaxRetryAfter, true},
		{"-1", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"soon", 0, false},
		{now.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{now.Add(time.Minute).Format(time.RFC850), time.Minute, true},
		{now.Add(time.Minute).Format(time.ANSIC), time.Minute, true},
		{now.Format(http.TimeFormat), 0, false},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, false},
		{now.AddDate(0, 0, 2).Format(http.TimeFormat), MaxRetryAfter, true},
	}
	for _, tt := range tests {
		got, ok := fetchParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("fetchParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestFetchFormatBytes(t *testing.T) {
	for in, want := range map[int64]string{10 << 20: "10 MiB", 512 << 10: "512 KiB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := fetchFormatBytes(in); got != want {
			t.Errorf("fetchFormatBytes(%d) = %q, want %q", in, got, want)
		}
	}
}

package sources

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// MaxRetryAfter caps the wait a server may ask for with Retry-After.
const MaxRetryAfter = 24 * time.Hour

// Errors a Fetch may wrap besides digest.ErrNotModified, digest.ErrTransient
// and ErrForbiddenAddress. Callers branch on them with errors.Is.
var (
	// ErrBodyTooLarge reports a body, after decompression, larger than
	// FetchOptions.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("body too large")
	// ErrEmptyBody reports a successful response without a body.
	ErrEmptyBody = errors.New("empty body")
	// ErrTooManyRedirects reports a redirect chain longer than
	// FetchOptions.MaxRedirects, such as a redirect loop.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrUnsupportedScheme reports a URL, or a redirect target, whose scheme
	// is not http or https.
	ErrUnsupportedScheme = errors.New("unsupported scheme")
)

// FetchOptions configures a Fetcher. Zero fields take their defaults.
type FetchOptions struct {
	// Timeout bounds one Fetch from the first byte sent to the last body
	// byte read, redirects included, but not the wait for a per-host slot.
	// Default 30s.
	Timeout time.Duration
	// MaxBodyBytes bounds the body after decompression. Default 10 MiB.
	MaxBodyBytes int64
	// PerHost is how many requests to one host name may be in flight at
	// once across all Fetch calls on the Fetcher. Default 2.
	PerHost int
	// UserAgent is sent with every request. Default
	// "briefbot/<Version> (+https://github.com/briefbot/briefbot)".
	UserAgent string
	// Version goes into the default UserAgent. Default "dev".
	Version string
	// MaxRedirects is how many redirects one Fetch follows. Default 5; a
	// negative value follows none.
	MaxRedirects int
	// Now is the clock used to turn a Retry-After date into a duration.
	// Default time.Now.
	Now func() time.Time
	// LookupIP resolves host names to addresses, as
	// (*net.Resolver).LookupNetIP does. Every address of a name must pass
	// the address guard before any is dialed. Default: the system
	// resolver. Tests set it to stand in for DNS.
	LookupIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

func (o FetchOptions) withDefaults() FetchOptions {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.PerHost <= 0 {
		o.PerHost = 2
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.UserAgent == "" {
		o.UserAgent = "briefbot/" + o.Version + " (+https://github.com/briefbot/briefbot)"
	}
	switch {
	case o.MaxRedirects == 0:
		o.MaxRedirects = 5
	case o.MaxRedirects < 0:
		o.MaxRedirects = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Fetcher makes polite, bounded, SSRF-guarded HTTP GET requests. It is safe
// for concurrent use; share one per kind of document so that its per-host
// limit applies across all callers.
type Fetcher struct {
	opts     FetchOptions
	guarded  *http.Transport // dial-time address check, no proxy
	open     *http.Transport // for Request.AllowPrivate only
	mu       sync.Mutex
	hostSems map[string]*fetchHostSem
}

// fetchHostSem limits concurrent requests to one host. users counts the
// Fetch calls holding or waiting for a slot, so that idle hosts are dropped
// from the map.
type fetchHostSem struct {
	slots chan struct{}
	users int
}

// NewFetcher returns a Fetcher configured by opts.
func NewFetcher(opts FetchOptions) *Fetcher {
	return fetchNewWithGuard(opts, guardCheckAddrPort)
}

// fetchNewWithGuard returns a Fetcher whose guarded transport refuses to
// dial any address check rejects. Tests use it to let one loopback server
// through while still guarding the rest.
func fetchNewWithGuard(opts FetchOptions, check func(netip.AddrPort) error) *Fetcher {
	opts = opts.withDefaults()
	guarded := guardDialContext(guardDialer(opts.Timeout, check), opts.LookupIP, check)
	open := guardDialer(opts.Timeout, nil).DialContext
	if opts.LookupIP != nil {
		open = guardDialContext(guardDialer(opts.Timeout, nil), opts.LookupIP, nil)
	}
	return &Fetcher{
		opts:     opts,
		guarded:  fetchTransport(guarded, nil),
		open:     fetchTransport(open, http.ProxyFromEnvironment),
		hostSems: make(map[string]*fetchHostSem),
	}
}

func fetchTransport(dial func(ctx context.Context, network, address string) (net.Conn, error), proxy func(*http.Request) (*url.URL, error)) *http.Transport {
	return &http.Transport{
		// A proxy would dial on our behalf and bypass the address check, so
		// the guarded transport gets proxy == nil.
		Proxy:                  proxy,
		DialContext:            dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  1 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		// DisableCompression stays false: the transport asks for gzip and
		// decompresses transparently, so MaxBodyBytes bounds the
		// decompressed size.
	}
}

// Request is one document to fetch.
type Request struct {
	// URL is an absolute http or https URL. Userinfo, if any, is sent as
	// basic auth and never appears in errors.
	URL string
	// ETag and LastModified are the validators of the previous response;
	// when set they are sent as If-None-Match and If-Modified-Since.
	ETag, LastModified string
	// AllowPrivate skips the address guard (and honours the proxy
	// environment variables). Only operator-configured sources may set it.
	AllowPrivate bool
	// Accept, when set, is sent as the Accept header.
	Accept string
}

// Response is a successfully fetched document.
type Response struct {
	// URL is the final URL after redirects, without userinfo.
	URL string
	// Body is the decompressed body, never empty and at most MaxBodyBytes.
	Body        []byte
	ContentType string
	// ETag and LastModified are the response's validators, to send back
	// in the next Request.
	ETag, LastModified string
	StatusCode         int
}

// FetchError reports a failed Fetch. Its text names the request, without
// userinfo, and the cause, as in
// "sources: GET https://example.com/feed: 503 Service Unavailable".
//
// Classify it with errors.Is rather than by its fields: it wraps
// digest.ErrNotModified for 304, digest.ErrTransient for failures worth
// retrying (408, 425, 429, 5xx, timeouts, refused or reset connections,
// temporary DNS failures), and ErrForbiddenAddress, ErrBodyTooLarge,
// ErrEmptyBody, ErrTooManyRedirects or ErrUnsupportedScheme where they apply.
type FetchError struct {
	// URL is the requested URL without userinfo.
	URL string
	// StatusCode is the HTTP status of the final response, or 0 when no
	// response arrived.
	StatusCode int
	// Err is the cause.
	Err error

	transient bool
}

// Error returns "sources: GET <url>: <cause>".
func (e *FetchError) Error() string {
	return "sources: GET " + e.URL + ": " + e.Err.Error()
}

// Unwrap returns the cause, and digest.ErrTransient when the failure is
// worth retrying.
func (e *FetchError) Unwrap() []error {
	if e.transient {
		return []error{e.Err, digest.ErrTransient}
	}
	return []error{e.Err}
}

// RetryAfterError wraps the FetchError of a 429 or 503 response that carried
// a usable Retry-After header. Callers get the wait with errors.As.
type RetryAfterError struct {
	// Err is the underlying *FetchError.
	Err error
	// After is how long the server asked to wait, in (0, MaxRetryAfter].
	After time.Duration
}

// Error returns the underlying error's text followed by the wait.
func (e *RetryAfterError) Error() string {
	return e.Err.Error() + " (retry after " + e.After.String() + ")"
}

// Unwrap returns the underlying error.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// fetchCause is an error with its own text that still wraps a sentinel, so
// that messages read well ("body exceeds 10 MiB limit") while callers can
// branch on the sentinel (ErrBodyTooLarge).
type fetchCause struct {
	msg string
	err error
}

func (e *fetchCause) Error() string { return e.msg }
func (e *fetchCause) Unwrap() error { return e.err }

// Fetch GETs req.URL and returns the body, or an error (always a
// *FetchError, possibly wrapped in a *RetryAfterError) and a nil Response.
//
// A 304 Not Modified yields an error wrapping digest.ErrNotModified and no
// Response: the validators the caller sent are still current. Non-2xx
// statuses, bodies over MaxBodyBytes and empty bodies are errors. Unless
// req.AllowPrivate is set, connections to non-public addresses are refused
// (see CheckAddr) when dialing, so redirects, host names (a name with any
// non-public address is refused whole) and IPv4 numbers in decimal, octal
// or hex are refused too.
//
// Fetch first waits, as long as ctx allows, for one of the PerHost slots of
// the URL's host name; the slot is held, and the Timeout applies, until the
// body has been read.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, &FetchError{URL: strconv.Quote(fetchRedactRaw(req.URL)), Err: fmt.Errorf("invalid URL: %v", err)}
	}
	shown := fetchRedactURL(u)
	if err := fetchCheckScheme(u); err != nil {
		return nil, &FetchError{URL: shown, Err: err}
	}

	host := strings.ToLower(u.Hostname())
	sem, err := f.acquire(ctx, host)
	if err != nil {
		return nil, &FetchError{URL: shown, Err: err}
	}
	defer f.release(host, sem)

	tctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(tctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &FetchError{URL: shown, Err: err}
	}
	hreq.Header.Set("User-Agent", f.opts.UserAgent)
	if req.Accept != "" {
		hreq.Header.Set("Accept", req.Accept)
	}
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}

	transport := f.guarded
	if req.AllowPrivate {
		transport = f.open
	}
	var target *url.URL // the redirect being followed, for error messages
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			target = next.URL
			if len(via) > f.opts.MaxRedirects {
				return &fetchCause{msg: fmt.Sprintf("stopped after %d redirects", f.opts.MaxRedirects), err: ErrTooManyRedirects}
			}
			return fetchCheckScheme(next.URL)
		},
	}
	fail := func(status int, err error) (*Response, error) {
		cause, transient := f.classify(ctx, tctx, err)
		if target != nil {
			cause = &fetchCause{msg: "redirected to " + fetchRedactURL(target) + ": " + cause.Error(), err: cause}
		}
		return nil, &FetchError{URL: shown, StatusCode: status, Err: cause, transient: transient}
	}

	resp, err := client.Do(hreq)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fail(0, err)
	}
	defer resp.Body.Close()
	target = nil // the response arrived: later errors are about it, not the hop

	switch code := resp.StatusCode; {
	case code == http.StatusNotModified:
		return nil, &FetchError{URL: shown, StatusCode: code, Err: digest.ErrNotModified}
	case code < 200 || code > 299:
		ferr := &FetchError{URL: shown, StatusCode: code, Err: errors.New(fetchStatusText(code)), transient: fetchTransientStatus(code)}
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			if d, ok := fetchParseRetryAfter(resp.Header.Get("Retry-After"), f.opts.Now()); ok {
				return nil, &RetryAfterError{Err: ferr, After: d}
			}
		}
		return nil, ferr
	}

	body, err := f.readBody(resp)
	if err != nil {
		return fail(resp.StatusCode, err)
	}
	return &Response{
		URL:          fetchRedactURL(resp.Request.URL),
		Body:         body,
		ContentType:  resp.Header.Get("Content-Type"),
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		StatusCode:   resp.StatusCode,
	}, nil
}

// classify returns the cause to report for a transport or body error and
// whether it is worth retrying. It tells the caller's cancellation (not
// transient) from the Fetcher's own timeout (transient).
func (f *Fetcher) classify(ctx, tctx context.Context, err error) (error, bool) {
	if ctx.Err() != nil {
		return ctx.Err(), false
	}
	if errors.Is(tctx.Err(), context.DeadlineExceeded) {
		return &fetchCause{msg: "timed out after " + f.opts.Timeout.String(), err: context.DeadlineExceeded}, true
	}
	var gerr *guardAddrError
	if errors.As(err, &gerr) {
		// Drop the "dial tcp ...:" wrapping: the guard's text says it all.
		return &fetchCause{msg: gerr.detail(), err: gerr}, false
	}
	return err, fetchTransientErr(err)
}

// readBody reads the whole body, decompressing gzip the transport left
// alone, and enforces MaxBodyBytes on the decompressed size.
func (f *Fetcher) readBody(resp *http.Response) ([]byte, error) {
	limit := f.opts.MaxBodyBytes
	tooLarge := &fetchCause{msg: "body exceeds " + fetchFormatBytes(limit) + " limit", err: ErrBodyTooLarge}
	var r io.Reader = resp.Body
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); {
	case resp.Uncompressed:
		// The transport asked for gzip and is decoding it.
	case enc == "gzip" || enc == "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("invalid gzip body: %v", err)
		}
		defer zr.Close()
		r = zr
	case enc == "" || enc == "identity":
		if resp.ContentLength > limit {
			return nil, tooLarge
		}
	}
	capacity := int64(512)
	if resp.ContentLength > 0 && resp.ContentLength <= limit && resp.Header.Get("Content-Encoding") == "" {
		capacity = resp.ContentLength + 1 // +1 so that ReadAll sees EOF without growing
	}
	buf := make([]byte, 0, capacity)
	body, err := fetchReadAll(buf, io.LimitReader(r, limit+1))
	if err != nil {
		if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) {
			return nil, fmt.Errorf("invalid gzip body: %v", err)
		}
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	if len(body) == 0 {
		return nil, &fetchCause{msg: "empty body", err: ErrEmptyBody}
	}
	return body, nil
}

// fetchReadAll is io.ReadAll appending to buf.
func fetchReadAll(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// acquire waits for a request slot for host, or for ctx to end.
func (f *Fetcher) acquire(ctx context.Context, host string) (*fetchHostSem, error) {
	f.mu.Lock()
	s := f.hostSems[host]
	if s == nil {
		s = &fetchHostSem{slots: make(chan struct{}, f.opts.PerHost)}
		f.hostSems[host] = s
	}
	s.users++
	f.mu.Unlock()
	select {
	case s.slots <- struct{}{}:
		return s, nil
	case <-ctx.Done():
		f.drop(host, s)
		return nil, ctx.Err()
	}
}

// release gives back the slot acquire took.
func (f *Fetcher) release(host string, s *fetchHostSem) {
	<-s.slots
	f.drop(host, s)
}

// drop forgets one user of s, and s itself once nobody uses it.
func (f *Fetcher) drop(host string, s *fetchHostSem) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.users--
	if s.users == 0 {
		delete(f.hostSems, host)
	}
}

// fetchCheckScheme refuses URLs that are not absolute http or https URLs.
func fetchCheckScheme(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return &fetchCause{msg: "not an absolute http or https URL", err: ErrUnsupportedScheme}
		}
		return &fetchCause{msg: fmt.Sprintf("unsupported scheme %q (want http or https)", u.Scheme), err: ErrUnsupportedScheme}
	}
	if u.Hostname() == "" {
		return errors.New("invalid URL: missing host")
	}
	return nil
}

// fetchRedactURL returns u as a string without userinfo.
func fetchRedactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = nil
	return c.String()
}

// fetchRedactRaw removes what looks like userinfo from a URL that did not
// parse.
func fetchRedactRaw(raw string) string {
	i := strings.Index(raw, "//")
	if i < 0 {
		return raw
	}
	rest := raw[i+2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return raw[:i+2] + rest[at+1:]
	}
	return raw
}

// fetchStatusText returns "503 Service Unavailable". It uses the standard
// reason phrase, not the server's, which may say anything.
func fetchStatusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return "HTTP status " + strconv.Itoa(code)
}

// fetchTransientStatus reports whether a status is worth retrying later.
func fetchTransientStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return code >= 500 && code <= 599
}

// fetchTransientErr reports whether a transport or body-read error is worth
// retrying: timeouts, refused, reset or cut connections, unreachable
// networks and temporary DNS failures.
func fetchTransientErr(err error) bool {
	if errors.Is(err, ErrForbiddenAddress) || errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrUnsupportedScheme) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTimeout || dnsErr.IsTemporary
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	for _, target := range []error{
		context.DeadlineExceeded, io.ErrUnexpectedEOF, io.EOF,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// fetchParseRetryAfter parses a Retry-After value, delay-seconds or an
// HTTP-date, into a wait in (0, MaxRetryAfter]. It reports false for an
// empty, malformed, zero or past value.
func fetchParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseUint(v, 10, 64)
		switch {
		case err != nil: // all digits, so it overflowed: a very long wait
			return MaxRetryAfter, true
		case secs == 0:
			return 0, false
		case secs >= uint64(MaxRetryAfter/time.Second):
			return MaxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0, false
	}
	return min(d, MaxRetryAfter), true
}

// fetchFormatBytes returns n as "10 MiB", "512 KiB" or "1000 bytes".
func fetchFormatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

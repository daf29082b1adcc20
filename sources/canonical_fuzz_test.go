package sources

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzCanonicalURL checks that a canonical URL is idempotent and clean: an
// absolute http(s) URL with a lower-case host, no userinfo, fragment,
// default port, tracking parameter or trailing slash, and query
// parameters sorted.
func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://Example.org:443/a/../b/?utm_source=x&b=2#f", "http://[::1]:80/", "https://a.b/%2F?x",
		"HTTP://user:pass@EXAMPLE.org./a/./b//c/?Fbclid=1&z=%20&a=1&a=0#", "https://xn--n3h.example/☃?q=☃",
		"https://example.org:8443/?", "http://[fe80::1%25eth0]:8080/a", " https://example.org/a b ",
		"https://example.org/a;b=c/d?x=1;y=2", "https://example.org/%zz", "http://:80/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := CanonicalURL(in)
		if err != nil {
			return
		}
		again, err := CanonicalURL(got)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", got, in, err)
		}
		if again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("canonical %q of %q: %v", got, in, err)
		}
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			t.Fatalf("canonical %q of %q: scheme %q", got, in, u.Scheme)
		case u.Hostname() == "" || u.Hostname() != strings.ToLower(u.Hostname()):
			t.Fatalf("canonical %q of %q: host %q", got, in, u.Hostname())
		case u.User != nil:
			t.Fatalf("canonical %q of %q: userinfo %q", got, in, u.User)
		case strings.Contains(got, "#"):
			t.Fatalf("canonical %q of %q: fragment", got, in)
		case (u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443"):
			t.Fatalf("canonical %q of %q: default port", got, in)
		case strings.HasSuffix(u.EscapedPath(), "/"):
			t.Fatalf("canonical %q of %q: trailing slash", got, in)
		}
		if _, err := url.ParseQuery(u.RawQuery); err != nil || u.RawQuery == "" {
			return // a query that does not parse is kept as it was
		}
		prev := ""
		for _, kv := range strings.Split(u.RawQuery, "&") {
			k, _, _ := strings.Cut(kv, "=")
			k, _ = url.QueryUnescape(k)
			if lk := strings.ToLower(k); strings.HasPrefix(lk, "utm_") || trackingParams[lk] {
				t.Fatalf("canonical %q of %q: tracking parameter %q", got, in, k)
			}
			if k < prev {
				t.Fatalf("canonical %q of %q: parameter %q after %q", got, in, k, prev)
			}
			prev = k
		}
	})
}

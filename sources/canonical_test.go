package sources

import "testing"

func TestCanonicalURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"already canonical", "https://example.org/a/b", "https://example.org/a/b"},
		{"scheme and host case", "HTTPS://Example.ORG/Path/Case", "https://example.org/Path/Case"},
		{"default https port", "https://example.org:443/a", "https://example.org/a"},
		{"default http port", "http://example.org:80/a", "http://example.org/a"},
		{"other port kept", "https://example.org:8443/a", "https://example.org:8443/a"},
		{"utm params", "https://example.org/a?utm_source=rss&utm_medium=feed&UTM_Campaign=x", "https://example.org/a"},
		{"click ids", "https://example.org/a?fbclid=1&gclid=2&msclkid=3&id=7", "https://example.org/a?id=7"},
		{"params sorted", "https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"},
		{"fragment", "https://example.org/a#comments", "https://example.org/a"},
		{"trailing slash", "https://example.org/a/b/", "https://example.org/a/b"},
		{"root", "https://example.org/", "https://example.org"},
		{"dot segments", "https://example.org/a/./b/../c", "https://example.org/a/c"},
		{"userinfo dropped", "https://user:pw@example.org/a", "https://example.org/a"},
		{"escaped path kept", "https://example.org/a%2Fb/c%20d", "https://example.org/a%2Fb/c%20d"},
		{"trailing dot host", "https://example.org./a", "https://example.org/a"},
		{"ipv6 host", "http://[::1]:80/x", "http://[::1]/x"},
		{"empty query", "https://example.org/a?", "https://example.org/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalURL(tt.in)
			if err != nil {
				t.Fatalf("CanonicalURL(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := CanonicalURL(got)
			if err != nil || again != got {
				t.Errorf("not idempotent: %q -> %q (%v)", got, again, err)
			}
		})
	}
}

func TestCanonicalURLRejects(t *testing.T) {
	for _, in := range []string{"", "ftp://example.org/a", "javascript:alert(1)", "/relative/path", "https://", "http://%zz"} {
		if got, err := CanonicalURL(in); err == nil {
			t.Errorf("CanonicalURL(%q) = %q, want an error", in, got)
		}
	}
}

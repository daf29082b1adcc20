package sources

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTextFromHTML checks that the text of any fragment is valid UTF-8,
// trimmed, without carriage returns, NULs or the invisible characters
// TextFromHTML promises to remove, and with paragraphs separated by one
// blank line at most.
func FuzzTextFromHTML(f *testing.F) {
	for _, s := range []string{
		"", "plain", "<p>a</p><p>b</p>", "&lt;p&gt;x&lt;/p&gt;", "<pre>a\n\n b</pre>",
		"<table><tr><td>a<td>b</table>", "<figure><img><figcaption>c</figcaption></figure>",
		"<div class=\"share\">x</div>y", "a\n\nb <b>c</b>", "\xff<p>\u200b</p>",
		"&amp;lt;b&amp;gt;double&amp;lt;/b&amp;gt;", "a\r\nb\rc\x00d", "<pre>\r\n\u00ad\ufeff\u202e</pre>",
		"<p>&#0;&#x200b;&nbsp;&shy;</p>", "<!-- c --><script>x</script><p hidden>h</p>t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := TextFromHTML(in)
		if !utf8.ValidString(got) {
			t.Fatalf("TextFromHTML(%q) = %q: invalid UTF-8", in, got)
		}
		if strings.Contains(got, "\n\n\n") {
			t.Fatalf("TextFromHTML(%q) = %q: three newlines in a row", in, got)
		}
		if got != strings.TrimSpace(got) {
			t.Fatalf("TextFromHTML(%q) = %q: not trimmed", in, got)
		}
		for _, r := range got {
			if r == '\r' || (r != '\n' && textInvisible(r)) {
				t.Fatalf("TextFromHTML(%q) = %q: holds %U", in, got, r)
			}
		}
	})
}

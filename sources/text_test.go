package sources

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestTextFromHTML(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: ""},
		{name: "plain text", in: "Talks resumed on Monday.", want: "Talks resumed on Monday."},
		{
			name: "plain text keeps paragraphs and line breaks",
			in:   "First paragraph\nwraps here.\n\n\n  Second   paragraph. \r\n",
			want: "First paragraph\nwraps here.\n\nSecond paragraph.",
		},
		{name: "plain text entities", in: "Tom &amp; Jerry&#8217;s &quot;show&quot; &hellip;", want: "Tom & Jerry’s \"show\" …"},
		{name: "plain text with a less-than sign", in: "Inflation fell to < 2% in May.", want: "Inflation fell to < 2% in May."},
		{
			name: "paragraphs",
			in:   "<p>One  two\nthree.</p><p>Four.</p>",
			want: "One two three.\n\nFour.",
		},
		{
			name: "inline elements keep words together",
			in:   "<p>The <b>minister</b> <a href=\"/x\">said</a> it was <i>un</i>likely.</p>",
			want: "The minister said it was unlikely.",
		},
		{
			name: "br starts a paragraph",
			in:   "First line<br>Second line<br/><br/>Third line",
			want: "First line\n\nSecond line\n\nThird line",
		},
		{
			name: "block elements",
			in:   "<h2>Heading</h2><div>Body <span>text</span></div><ul><li>one</li><li>two</li></ul><blockquote>Quote.</blockquote><section><article>Deep.</article></section>",
			want: "Heading\n\nBody text\n\none\n\ntwo\n\nQuote.\n\nDeep.",
		},
		{
			name: "table rows and cells",
			in:   "<table><tr><th>City</th><th>Votes</th></tr><tr><td>Seoul</td><td>12</td></tr></table>",
			want: "City Votes\n\nSeoul 12",
		},
		{
			name: "pre keeps line breaks",
			in:   "<p>Code:</p><pre>  line one\n    indented\n\nafter blank</pre>",
			want: "Code:\n\nline one\n    indented\n\nafter blank",
		},
		{
			name: "entities and nbsp",
			in:   "<p>Price:&nbsp;€5&nbsp;&amp;&nbsp;up &mdash; &lt;cheap&gt;</p>",
			want: "Price: €5 & up — <cheap>",
		},
		{
			name: "zero-width and soft hyphens removed",
			in:   "<p>zero\u200bwidth soft\u00adhyphen\ufeff bom \u200dkept</p>",
			want: "zerowidth softhyphen bom \u200dkept",
		},
		{
			name: "escaped html",
			in:   "&lt;p&gt;First &amp;amp; second.&lt;/p&gt;&lt;p&gt;Third.&lt;/p&gt;",
			want: "First & second.\n\nThird.",
		},
		{
			name: "double escaped html",
			in:   "&amp;lt;p&amp;gt;Only.&amp;lt;/p&amp;gt;",
			want: "Only.",
		},
		{
			name: "inline-only html keeps blank-line paragraphs",
			in:   "First <b>para</b>.\n\nSecond <a href=\"#\">para</a>.",
			want: "First para.\n\nSecond para.",
		},
		{
			name: "skipped elements",
			in: `<p>Story.</p><script>var x = "no";</script><style>p{}</style><noscript>Enable JS</noscript>` +
				`<template>tmpl</template><iframe>frame</iframe><svg><text>chart</text></svg><form>Name <input value="v"></form>` +
				`<button>Click</button><nav>Home</nav><footer>Footer</footer><aside>Aside</aside><select><option>Opt</option></select>` +
				`<p>End.</p>`,
			want: "Story.\n\nEnd.",
		},
		{
			name: "figure with image drops its caption",
			in:   `<p>Before.</p><figure><img src="a.jpg" alt="A man walks"><figcaption>A man walks. Photo: X</figcaption></figure><figure><picture><img src="b.jpg"></picture><div>Credit text</div></figure><p>After.</p>`,
			want: "Before.\n\nAfter.",
		},
		{
			name: "figure with prose is kept without figcaption",
			in:   `<figure><blockquote><p>A quoted post.</p></blockquote><figcaption>Source: X</figcaption></figure>`,
			want: "A quoted post.",
		},
		{
			name: "boilerplate classes and ids",
			in: `<p>Keep one.</p><div class="image-caption">Caption</div><span class="photo_credit">Credit</span>` +
				`<div class="share-tools">Share</div><div id="comments"><p>A reader says hi.</p></div>` +
				`<div class="newsletter-signup">Sign up</div><div class="cookie-banner">Cookies</div>` +
				`<div class="related-links">Other story</div><div class="ad-slot">Buy</div><div class="Promo">Promo</div>` +
				`<div class="subscribe box">Subscribe</div><div class="advert">Ad</div><ul class="social">x</ul>` +
				`<span class="screen-reader-text">(opens in new window)</span><p>Keep two.</p>`,
			want: "Keep one.\n\nKeep two.",
		},
		{
			name: "classes that only contain boilerplate words as substrings are kept",
			in:   `<div class="shared-content"><p>Shared.</p></div><div class="subscriber-only"><p>Paid.</p></div><div class="adjacent-copy"><p>Adjacent.</p></div>`,
			want: "Shared.\n\nPaid.\n\nAdjacent.",
		},
		{
			name: "taxonomy classes and article containers are kept",
			in:   `<article class="post tag-social-media category-related comments"><div class="entry-content has-captions"><p>Body.</p></div></article>`,
			want: "Body.",
		},
		{
			name: "misnamed container with prose is kept",
			in: `<div id="social-share-btns_containerParent">` +
				`<p>` + strings.Repeat("First paragraph of the story. ", 4) + `</p>` +
				`<div class="share">Share</div>` +
				`<p>` + strings.Repeat("Second paragraph of the story. ", 4) + `</p>` +
				`<p>` + strings.Repeat("Third paragraph of the story. ", 4) + `</p></div>`,
			want: strings.TrimSpace(strings.Repeat("First paragraph of the story. ", 4)) + "\n\n" +
				strings.TrimSpace(strings.Repeat("Second paragraph of the story. ", 4)) + "\n\n" +
				strings.TrimSpace(strings.Repeat("Third paragraph of the story. ", 4)),
		},
		{
			name: "marked comments with short paragraphs are skipped",
			in:   `<p>Story.</p><div class="comments"><p>Nice.</p><p>Agreed.</p><p>No.</p><p>Yes.</p></div>`,
			want: "Story.",
		},
		{
			name: "hidden elements",
			in:   `<p>Seen.</p><p hidden>Unseen.</p><div style="display: none">None.</div><div style="visibility:hidden">Hidden.</div><div role="navigation">Menu</div>`,
			want: "Seen.",
		},
		{
			name: "comments and doctype",
			in:   `<!DOCTYPE html><!-- a comment --><p>Text.</p>`,
			want: "Text.",
		},
		{
			name: "full document",
			in:   `<html><head><title>Page title</title><meta charset="utf-8"></head><body><p>Body text.</p></body></html>`,
			want: "Body text.",
		},
		{
			name: "invalid utf-8 becomes replacement characters",
			in:   "<p>caf\xe9</p>",
			want: "caf\uFFFD",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TextFromHTML(tt.in)
			if got != tt.want {
				t.Errorf("TextFromHTML(%q)\n got: %q\nwant: %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTextFromNode(t *testing.T) {
	doc, err := html.Parse(strings.NewReader(
		`<html><body><div id="main" class="related"><h1>Title</h1><p>First.</p>` +
			`<div class="share">Share</div><p>Second.</p></div></body></html>`))
	if err != nil {
		t.Fatal(err)
	}
	var main *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "div" {
			main = n
			break
		}
	}
	tests := []struct {
		name string
		in   *html.Node
		want string
	}{
		{name: "nil", in: nil, want: ""},
		{name: "document", in: doc, want: ""}, // the container is marked "related"
		{name: "marked root is not skipped", in: main, want: "Title\n\nFirst.\n\nSecond."},
		{name: "text node", in: &html.Node{Type: html.TextNode, Data: "  a \n b  "}, want: "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TextFromNode(tt.in); got != tt.want {
				t.Errorf("TextFromNode() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTextMarkedName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"caption", true},
		{"wp-caption-text", true},
		{"article__credit", true},
		{"share-bar", true},
		{"sharedaddy", true},
		{"js:social", true},
		{"ad", true},
		{"sr-only", true},
		{"shared-content", false},
		{"subscriber", false},
		{"adjacent", false},
		{"header", false},
		{"tag-social-media", false},
		{"has-comments", false},
		{"entry-content", false},
		{"comment", false}, // opinion sections are often called "comment"
	}
	for _, tt := range tests {
		if got := textMarkedName(tt.name); got != tt.want {
			t.Errorf("textMarkedName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

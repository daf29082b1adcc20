package discord

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The late note never pushes a part's tag out of a full message.
func TestWithNoteKeepsTag(t *testing.T) {
	note := "-# Late: this briefing was due <t:1772442000:f>."
	tagOnly := Message{}
	markPart(&tagOnly, "abcd1234", 0)
	full := Message{Content: strings.Repeat("é", 2500)}
	markPart(&full, "abcd1234", 1)
	short := Message{Content: "One line."}
	markPart(&short, "abcd1234", 2)
	for _, m := range []Message{tagOnly, full, short} {
		tag := m.Content[strings.LastIndexByte(m.Content, '\n')+1:]
		got := withNote(m.Content, note)
		if n := utf8.RuneCountInString(got); n > 2000 {
			t.Errorf("%d runes, over Discord's 2000", n)
		}
		if !strings.HasPrefix(got, note+"\n") || !strings.HasSuffix(got, "\n"+tag) {
			t.Errorf("note or tag %q lost: %q…%q", tag, got[:min(60, len(got))], got[max(0, len(got)-40):])
		}
	}
	if got := withNote(short.Content, note); got != note+"\nOne line.\n-# ref abcd1234-3" {
		t.Errorf("short part: %q", got)
	}
}

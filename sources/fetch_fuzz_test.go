package sources

import (
	"testing"
	"time"
)

// FuzzParseRetryAfter checks that any Retry-After value gives a wait in
// [0, MaxRetryAfter], positive exactly when it is usable.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, s := range []string{"", "0", "120", "-1", "99999999999999999999", "Wed, 04 Mar 2026 05:07:07 GMT", "Wednesday, 04-Mar-26 05:07:07 GMT", "garbage"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := fetchParseRetryAfter(s, now)
		if d < 0 || d > MaxRetryAfter {
			t.Errorf("fetchParseRetryAfter(%q) = %v, outside [0, %v]", s, d, MaxRetryAfter)
		}
		if ok != (d > 0) {
			t.Errorf("fetchParseRetryAfter(%q) = %v, %v: ok must mean a positive wait", s, d, ok)
		}
		if d2, ok2 := fetchParseRetryAfter(s, now); d2 != d || ok2 != ok {
			t.Errorf("fetchParseRetryAfter(%q) = %v, %v, then %v, %v", s, d, ok, d2, ok2)
		}
	})
}

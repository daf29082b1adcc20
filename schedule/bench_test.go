package schedule_test

import (
	"testing"
	"time"
)

// BenchmarkNext measures Next for common and sparse schedules.
func BenchmarkNext(b *testing.B) {
	for _, c := range []struct{ spec, zone string }{
		{"daily 08:00", "Asia/Seoul"},
		{"weekdays 07:30", "America/New_York"},
		{"every 30m", "Europe/Berlin"},
		{"* * * * *", "America/New_York"},
		{"0 0 29 2 *", "UTC"},
	} {
		b.Run(c.spec, func(b *testing.B) {
			s := mustParse(b, c.spec, c.zone)
			t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			for b.Loop() {
				t = s.Next(t)
			}
		})
	}
}

package schedule_test

import (
	"testing"
	"time"

	"github.com/briefbot/briefbot/schedule"
)

// FuzzParse checks that no spec or zone makes Parse panic, and that a
// parsed schedule's slots strictly increase with distinct delivery keys
// and its canonical spec means the same.
func FuzzParse(f *testing.F) {
	for _, spec := range []string{
		"daily 08:00", "daily 8am", "weekdays 07:30", "weekends 10:00", "mon,thu 18:00", "fri-mon 6:30pm",
		"every 6h", "every 2h30m", "every 1m", "@every 45m", "0 8 * * 1-5", "*/5 * * * *", "0 0 29 2 *",
		"@daily", "@hourly", "@weekly", "CRON_TZ=Bad/Zone * * * * *", "TZ=", "CRON_TZ=", "daily 25:00", "",
		"0 TZ=x * * *", "every day at noon", "mon-,thu 08:00", "59 23 31 12 *",
	} {
		for _, zone := range []string{"Asia/Seoul", "America/New_York", "Australia/Lord_Howe", "Local", "", "Bad/Zone"} {
			f.Add(spec, zone)
		}
	}
	f.Fuzz(func(t *testing.T, spec, zone string) {
		s, err := schedule.ParseWith(spec, zone, schedule.ParseOptions{MinInterval: time.Minute})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		again, err := schedule.ParseWith(s.String(), zone, schedule.ParseOptions{MinInterval: time.Minute})
		if err != nil {
			t.Fatalf("canonical form %q of %q: %v", s.String(), spec, err)
		}
		_ = schedule.Describe(s)
		keys := map[string]bool{}
		prev := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
		for i := range 20 {
			next := s.Next(prev)
			if !next.After(prev) {
				t.Fatalf("%q in %s: slot %d %v not after %v", spec, zone, i, next, prev)
			}
			if other := again.Next(prev); !other.Equal(next) {
				t.Fatalf("%q in %s: slot %d %v, canonical %q has %v", spec, zone, i, next, s.String(), other)
			}
			key := s.DeliveryKey(1, next)
			if keys[key] {
				t.Fatalf("%q in %s: key %s twice", spec, zone, key)
			}
			keys[key] = true
			prev = next
		}
	})
}

package schedule_test

import (
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/schedule"
)

// FuzzParse checks that no spec or zone makes Parse panic, and that a
// parsed schedule, from any starting instant: has a canonical spec that
// parses to the same slots and is its own canonical spec; has slots that
// strictly increase, come out the same when asked again and have distinct
// delivery keys; and that Due never posts a slot after now or a slot
// before the stored one, and always moves Next past now.
func FuzzParse(f *testing.F) {
	start := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC).Unix()
	for _, spec := range []string{
		"daily 08:00", "daily 8am", "weekdays 07:30", "weekends 10:00", "mon,thu 18:00", "fri-mon 6:30pm",
		"every 6h", "every 2h30m", "every 1m", "@every 45m", "0 8 * * 1-5", "*/5 * * * *", "0 0 29 2 *",
		"@daily", "@hourly", "@weekly", "CRON_TZ=Bad/Zone * * * * *", "TZ=", "CRON_TZ=", "daily 25:00", "",
		"0 TZ=x * * *", "every day at noon", "mon-,thu 08:00", "59 23 31 12 *",
		"30 2 * * *", "0 0 31 * *", "DAILY  12:00AM", "sun 12:00pm", "every 25h", "0 0 30 2 *",
	} {
		for _, zone := range []string{"Asia/Seoul", "America/New_York", "Australia/Lord_Howe", "Local", "", "Bad/Zone"} {
			f.Add(spec, zone, start)
		}
	}
	// Around DST changes in New York and Lord Howe (half-hour shift).
	f.Add("30 2 * * *", "America/New_York", time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC).Unix())
	f.Add("every 30m", "Australia/Lord_Howe", time.Date(2026, 4, 4, 14, 0, 0, 0, time.UTC).Unix())
	f.Fuzz(func(t *testing.T, spec, zone string, startUnix int64) {
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
		if again.String() != s.String() {
			t.Fatalf("canonical form %q of %q has canonical form %q", s.String(), spec, again.String())
		}
		_ = schedule.Describe(s)
		// Years 1970 to about 2300: time zones and cron are defined there.
		prev := time.Unix(startUnix%(330*365*86400), 0).UTC()
		if prev.Before(time.Unix(0, 0)) {
			prev = prev.AddDate(330, 0, 0)
		}
		keys := map[string]bool{}
		for i := range 20 {
			next := s.Next(prev)
			if !next.After(prev) {
				t.Fatalf("%q in %s: slot %d %v not after %v", spec, zone, i, next, prev)
			}
			if same := s.Next(prev); !same.Equal(next) {
				t.Fatalf("%q in %s: slot %d after %v is %v, then %v", spec, zone, i, prev, next, same)
			}
			if other := again.Next(prev); !other.Equal(next) {
				t.Fatalf("%q in %s: slot %d %v, canonical %q has %v", spec, zone, i, next, s.String(), other)
			}
			key := s.DeliveryKey(1, next)
			if keys[key] {
				t.Fatalf("%q in %s: key %s twice", spec, zone, key)
			}
			keys[key] = true
			// A tick at a time between slots, with the stored slot
			// one or two slots behind.
			now := next.Add(next.Sub(prev) / 2)
			for _, policy := range []string{digest.CatchUpLate, digest.CatchUpSkip} {
				d := schedule.Due(s, prev, now, policy, 0)
				switch {
				case !d.Next.After(now):
					t.Fatalf("%q in %s: Due(%v, %v) Next %v not after now", spec, zone, prev, now, d.Next)
				case d.Post && (d.Slot.After(now) || d.Slot.Before(prev)):
					t.Fatalf("%q in %s: Due(%v, %v) posts slot %v", spec, zone, prev, now, d.Slot)
				case !d.Post && (!d.Slot.IsZero() || d.Late):
					t.Fatalf("%q in %s: Due(%v, %v) posts nothing but has slot %v, late %v", spec, zone, prev, now, d.Slot, d.Late)
				case policy == digest.CatchUpSkip && d.Late:
					t.Fatalf("%q in %s: Due(%v, %v) posts late under skip", spec, zone, prev, now)
				}
			}
			prev = next
		}
	})
}

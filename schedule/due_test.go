package schedule_test

import (
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/schedule"
)

func TestDue(t *testing.T) {
	seoul := mustLoad(t, "Asia/Seoul")
	at := func(month time.Month, day, hour, min int) time.Time {
		return time.Date(2026, month, day, hour, min, 0, 0, seoul)
	}
	may1at8 := at(5, 1, 8, 0)
	tests := []struct {
		name     string
		spec     string // default "daily 08:00"
		nextSlot time.Time
		now      time.Time
		catchUp  string
		window   time.Duration
		want     schedule.Decision
	}{
		{name: "not yet", nextSlot: may1at8, now: at(5, 1, 7, 59), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Next: may1at8}},
		{name: "on time", nextSlot: may1at8, now: at(5, 1, 8, 0), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Post: true, Slot: may1at8, Next: at(5, 2, 8, 0)}},
		{name: "a few minutes behind is on time", nextSlot: may1at8, now: at(5, 1, 8, 5), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Post: true, Slot: may1at8, Next: at(5, 2, 8, 0)}},
		{name: "on time under skip", nextSlot: may1at8, now: at(5, 1, 8, 1), catchUp: digest.CatchUpSkip,
			want: schedule.Decision{Post: true, Slot: may1at8, Next: at(5, 2, 8, 0)}},
		{name: "late within window posts once, marked late", nextSlot: may1at8, now: at(5, 1, 10, 0), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Post: true, Slot: may1at8, Late: true, Next: at(5, 2, 8, 0)}},
		{name: "late policy is the default", nextSlot: may1at8, now: at(5, 1, 10, 0), catchUp: "",
			want: schedule.Decision{Post: true, Slot: may1at8, Late: true, Next: at(5, 2, 8, 0)}},
		{name: "late beyond window skips", nextSlot: may1at8, now: at(5, 1, 14, 0), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Next: at(5, 2, 8, 0)}},
		{name: "late just inside window", nextSlot: may1at8, now: at(5, 1, 13, 59), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Post: true, Slot: may1at8, Late: true, Next: at(5, 2, 8, 0)}},
		{name: "wider window", nextSlot: may1at8, now: at(5, 1, 19, 0), catchUp: digest.CatchUpLate, window: 12 * time.Hour,
			want: schedule.Decision{Post: true, Slot: may1at8, Late: true, Next: at(5, 2, 8, 0)}},
		{name: "skip policy skips a late slot", nextSlot: may1at8, now: at(5, 1, 8, 30), catchUp: digest.CatchUpSkip,
			want: schedule.Decision{Next: at(5, 2, 8, 0)}},
		{name: "several missed slots post the latest once", spec: "every 1h", nextSlot: at(5, 1, 1, 0), now: at(5, 1, 5, 20),
			catchUp: digest.CatchUpLate,
			want:    schedule.Decision{Post: true, Slot: at(5, 1, 5, 0), Late: true, Next: at(5, 1, 6, 0)}},
		{name: "several missed slots, the latest on time", spec: "every 1h", nextSlot: at(5, 1, 1, 0), now: at(5, 1, 5, 2),
			catchUp: digest.CatchUpSkip,
			want:    schedule.Decision{Post: true, Slot: at(5, 1, 5, 0), Next: at(5, 1, 6, 0)}},
		{name: "several missed slots under skip", spec: "every 1h", nextSlot: at(5, 1, 1, 0), now: at(5, 1, 5, 20),
			catchUp: digest.CatchUpSkip,
			want:    schedule.Decision{Next: at(5, 1, 6, 0)}},
		{name: "down for days, latest slot within window", nextSlot: at(4, 20, 8, 0), now: at(5, 1, 9, 0), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Post: true, Slot: may1at8, Late: true, Next: at(5, 2, 8, 0)}},
		{name: "down for days, latest slot too old", nextSlot: at(4, 20, 8, 0), now: at(5, 3, 20, 0), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Next: at(5, 4, 8, 0)}},
		{name: "never scheduled", now: at(5, 1, 9, 0), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Next: at(5, 2, 8, 0)}},
		{name: "stored slot is not a slot of the schedule", nextSlot: at(5, 1, 8, 30), now: at(5, 1, 9, 0), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Next: at(5, 2, 8, 0)}},
		{name: "stored slot read back in UTC", nextSlot: may1at8.UTC(), now: at(5, 1, 8, 0), catchUp: digest.CatchUpLate,
			want: schedule.Decision{Post: true, Slot: may1at8, Next: at(5, 2, 8, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			if spec == "" {
				spec = "daily 08:00"
			}
			s := mustParse(t, spec, "Asia/Seoul")
			got := schedule.Due(s, tt.nextSlot, tt.now, tt.catchUp, tt.window)
			if got.Post != tt.want.Post || got.Late != tt.want.Late || !got.Slot.Equal(tt.want.Slot) || !got.Next.Equal(tt.want.Next) {
				t.Errorf("Due(next slot %v, now %v)\n got %+v\nwant %+v", tt.nextSlot, tt.now, got, tt.want)
			}
			if got.Post && got.Slot.Location() != s.Zone() {
				t.Errorf("Slot in %v, want %v", got.Slot.Location(), s.Zone())
			}
			if got.Next.Location() != s.Zone() {
				t.Errorf("Next in %v, want %v", got.Next.Location(), s.Zone())
			}
		})
	}
}

// TestDueTicks runs a minute tick over a day with an outage and checks
// that each slot is posted at most once and at most one catch-up follows
// the outage.
func TestDueTicks(t *testing.T) {
	s := mustParse(t, "every 2h", "Europe/Berlin")
	start := time.Date(2026, 10, 24, 0, 0, 0, 0, s.Zone())
	downFrom, downTo := start.Add(5*time.Hour), start.Add(11*time.Hour+30*time.Minute)
	next := s.Next(start)
	posted := map[string]int{}
	var late int
	for now := start; now.Before(start.Add(48 * time.Hour)); now = now.Add(time.Minute) {
		if !now.Before(downFrom) && now.Before(downTo) {
			continue
		}
		d := schedule.Due(s, next, now, digest.CatchUpLate, 0)
		if d.Post {
			posted[s.DeliveryKey(1, d.Slot)]++
			if d.Late {
				late++
			}
		}
		next = d.Next
	}
	for key, n := range posted {
		if n != 1 {
			t.Errorf("%s posted %d times", key, n)
		}
	}
	if late != 1 {
		t.Errorf("%d late posts, want 1", late)
	}
	// The 48 hours (to 23:00 on the 25th, after the fall-back night) hold
	// 23 slots after the start, every other wall-clock hour; 06:00 and
	// 08:00 are missed in the outage and 10:00 is caught up.
	if got, want := len(posted), 23-2; got != want {
		t.Errorf("%d slots posted, want %d: %v", got, want, posted)
	}
}

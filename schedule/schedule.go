// Package schedule turns a subscription's schedule ("daily 08:00",
// "weekdays 07:30", "mon,thu 18:00", "every 6h" or a cron expression) and
// its IANA time zone into delivery slots, and decides what the scheduler
// tick does with a slot that is due or was missed.
//
// Everything here is pure: no I/O beyond loading time zone data (embedded
// with time/tzdata, so zones work on machines without zoneinfo), no clock
// (callers pass now), no package-level mutable state.
//
// # Slots and daylight saving time
//
// A schedule names local wall-clock times ("08:00 in Asia/Seoul"). Slots
// are computed on the wall clock, then turned into instants:
//
//   - A wall time that does not exist (spring forward: 02:30 on the day
//     clocks jump from 02:00 to 03:00) is delivered at the first valid
//     instant after the gap (03:00 local), once; if the schedule also names
//     a time that lands on that same instant, it is one slot.
//   - A wall time that occurs twice (fall back: 01:30 on the day clocks go
//     from 02:00 back to 01:00) is delivered once, at its first occurrence.
//
// So a DST change neither skips nor doubles a slot, and the local wall
// time of each slot (see [SlotKeyTime]) is unique, which is what
// digest.DeliveryKey keys on.
//
// Cron expressions are parsed and validated with robfig/cron, but slots
// are stepped here on the wall clock, because robfig/cron's own Next steps
// in absolute time and its DST handling does not follow the rules above.
package schedule

import (
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // zones work on machines without zoneinfo

	"github.com/briefbot/briefbot/digest"
)

// DefaultMinInterval is the least time between two slots of a schedule
// when ParseOptions.MinInterval is zero.
const DefaultMinInterval = time.Hour

// maxInterval is the longest interval of an "every" schedule.
const maxInterval = 7 * 24 * time.Hour

// ParseOptions adjusts ParseWith.
type ParseOptions struct {
	// MinInterval is the least wall-clock time allowed between two
	// consecutive slots; schedules whose slots can come closer are
	// rejected. Zero means DefaultMinInterval; slots are whole minutes, so
	// time.Minute allows any schedule. The check is on the local wall
	// clock: on the day clocks spring forward two slots may come closer in
	// real time by the size of the jump (every 1h30m: 01:30, then 03:00
	// which is 30 minutes later).
	MinInterval time.Duration
}

// Schedule is a parsed schedule in a time zone. It is immutable and safe
// for concurrent use.
type Schedule struct {
	spec  string // as given, trimmed
	canon string // canonical form, see String
	loc   *time.Location

	// Exactly one of cal and every is set.
	cal   *calendar
	every time.Duration // whole minutes, aligned as documented on ParseWith
}

// Parse parses spec in the IANA time zone zone with default options; see
// ParseWith.
func Parse(spec, zone string) (*Schedule, error) {
	return ParseWith(spec, zone, ParseOptions{})
}

// ParseWith parses spec, a schedule in one of these forms (case does not
// matter):
//
//   - "daily 08:00", "weekdays 07:30", "weekends 10:00": a day set and one
//     or more times of day ("daily 08:00,18:00"). Times are HH:MM on the
//     24-hour clock (the hour may have one digit) or 12-hour with am/pm
//     ("8am", "6:30pm"). "at" may precede the times; "everyday",
//     "every day", "every weekday" and "every weekend" are accepted too.
//   - "mon,thu 18:00", "mon-fri 07:30", "every monday 09:00": day names
//     (mon tue wed thu fri sat sun, or in full), lists and ranges; a range
//     may wrap ("fri-mon").
//   - "every 6h", "every 30m", "every 2h30m", "every 2 hours",
//     "@every 6h": an interval of whole minutes, from 1 minute to 7 days.
//     Slots are the local wall-clock times that are a whole number of
//     intervals after 1970-01-01 00:00 local time. An interval that
//     divides 24 hours therefore starts at every local midnight
//     ("every 6h": 00:00, 06:00, 12:00, 18:00 each day) and its slots are
//     the same every day; other intervals keep their cadence across
//     midnight ("every 5h" runs 20:00, then 01:00 the next day).
//   - A five-field cron expression, "minute hour day-of-month month
//     day-of-week" ("0 8 * * 1-5"), or a descriptor: @hourly, @daily
//     (@midnight), @weekly, @monthly, @yearly (@annually). As in cron, if
//     both day fields are restricted a day matching either one fires.
//
// zone is an IANA name such as "Asia/Seoul"; it is required, and "Local"
// is refused because a subscription must not depend on the host's zone. A
// CRON_TZ= or TZ= prefix in spec is refused: the zone comes from zone
// alone.
//
// Schedules whose slots can come closer than opts.MinInterval, and cron
// expressions that never fire ("0 0 30 2 *"), are refused. Every error
// describes what is wrong with spec or zone and how to write it instead,
// in words fit to show the user; a spec error starts with
// `schedule "<spec>":`.
func ParseWith(spec, zone string, opts ParseOptions) (*Schedule, error) {
	loc, err := loadZone(zone)
	if err != nil {
		return nil, err
	}
	s, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	s.loc = loc
	least := opts.MinInterval
	if least <= 0 {
		least = DefaultMinInterval
	}
	if gap := s.minGap(); gap < least {
		return nil, fmt.Errorf("schedule %q: briefings would come %s apart; the minimum is %s",
			s.spec, formatDuration(gap), formatDuration(least))
	}
	return s, nil
}

// loadZone loads an IANA time zone for a schedule.
func loadZone(zone string) (*time.Location, error) {
	switch zone {
	case "":
		return nil, errors.New("time zone is required, e.g. Asia/Seoul")
	case "Local":
		return nil, errors.New(`time zone "Local" is not allowed: use an IANA name such as Asia/Seoul`)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Asia/Seoul", zone)
	}
	return loc, nil
}

// Zone returns the schedule's time zone.
func (s *Schedule) Zone() *time.Location { return s.loc }

// Spec returns the schedule as it was given to Parse, without surrounding
// space.
func (s *Schedule) Spec() string { return s.spec }

// String returns the schedule's canonical spec: lower case, single spaces,
// times as HH:MM, day sets by name ("weekdays 07:30", "mon,thu 18:00",
// "every 2h30m", "0 8 * * 1-5"). Parsing it in the same zone yields the
// same slots.
func (s *Schedule) String() string { return s.canon }

// Next returns the schedule's first slot strictly after the instant after,
// in the schedule's zone. It returns the zero time only if the schedule
// cannot fire again, which Parse rules out.
func (s *Schedule) Next(after time.Time) time.Time {
	afterWall := wallClock(after, s.loc)
	w := afterWall
	// Walls at or before afterWall resolve at or before after; later walls
	// resolve after it unless they fall in a repeated or skipped stretch
	// of the clock, so a few steps settle it (at most one per slot in a
	// day, for a day that a zone skips entirely).
	for range 4 * 24 * 60 {
		var ok bool
		if w, ok = s.nextWall(w); !ok {
			return time.Time{}
		}
		if t := resolve(w, s.loc); t.After(after) {
			return t
		}
	}
	return time.Time{}
}

// nextWall returns the schedule's first wall-clock slot strictly after the
// wall-clock time w (both as UTC times holding local wall readings).
func (s *Schedule) nextWall(w time.Time) (time.Time, bool) {
	if s.cal != nil {
		return s.cal.next(w)
	}
	return nextInterval(w, s.every), true
}

// minGap returns the least wall-clock time between two consecutive slots.
func (s *Schedule) minGap() time.Duration {
	if s.cal != nil {
		return s.cal.minGap()
	}
	return s.every
}

// nextInterval returns the first wall-clock time strictly after w that is a
// whole number of intervals after the Unix epoch.
func nextInterval(w time.Time, every time.Duration) time.Time {
	step := int64(every / time.Second)
	sec := w.Unix()
	k := sec / step
	if sec%step < 0 {
		k-- // floor for walls before 1970
	}
	return time.Unix((k+1)*step, 0).UTC()
}

// SlotKeyTime returns slot as the local wall-clock time in loc, which is
// what digest.DeliveryKey formats. Call DeliveryKey as
// digest.DeliveryKey(sub.ID, SlotKeyTime(slot, loc)), or use
// (*Schedule).DeliveryKey. Slots returned by Next and Due are already in
// the schedule's zone; converting again is harmless and protects against
// slots read back from storage in UTC.
func SlotKeyTime(slot time.Time, loc *time.Location) time.Time {
	return slot.In(loc)
}

// DeliveryKey returns the idempotency key of a subscription's slot of this
// schedule: digest.DeliveryKey with the slot's local wall-clock time.
func (s *Schedule) DeliveryKey(subscriptionID int64, slot time.Time) string {
	return digest.DeliveryKey(subscriptionID, SlotKeyTime(slot, s.loc))
}

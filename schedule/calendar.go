package schedule

import (
	"sort"
	"time"
)

// calendar is a schedule of times of day on a set of days, the shape of
// both the friendly day forms and cron expressions.
type calendar struct {
	// Bit i is set for day of month i (1-31), month i (1-12) and weekday i
	// (0 is Sunday).
	dom, month, dow uint64
	// domAny and dowAny say a day field was "*" or "?" in cron terms: if
	// either is, a day must match both fields, else it may match either.
	domAny, dowAny bool
	// times are minutes after local midnight, ascending and distinct.
	times []int
}

// searchDays bounds the search for a matching day: every day of month
// that exists recurs within 8 years (29 February skips 2100).
const searchDays = 8*366 + 2

// allDays returns a calendar firing on every day at times.
func allDays(times []int) *calendar {
	return &calendar{dom: bitRange(1, 31), month: bitRange(1, 12), dow: bitRange(0, 6),
		domAny: true, dowAny: true, times: times}
}

// onWeekdays returns a calendar firing on the weekdays set in dow.
func onWeekdays(dow uint64, times []int) *calendar {
	c := allDays(times)
	c.dow = dow
	c.dowAny = dow == bitRange(0, 6)
	return c
}

// bitRange returns a mask with bits lo through hi set.
func bitRange(lo, hi uint) uint64 {
	var m uint64
	for i := lo; i <= hi; i++ {
		m |= 1 << i
	}
	return m
}

// matches reports whether the schedule fires on the day of the wall-clock
// time d.
func (c *calendar) matches(d time.Time) bool {
	if c.month&(1<<uint(d.Month())) == 0 {
		return false
	}
	domOK := c.dom&(1<<uint(d.Day())) != 0
	dowOK := c.dow&(1<<uint(d.Weekday())) != 0
	if c.domAny || c.dowAny {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// next returns the first wall-clock slot strictly after w, or false if
// the calendar never fires.
func (c *calendar) next(w time.Time) (time.Time, bool) {
	day := time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, time.UTC)
	// On w's own day, only times after w count.
	i := sort.Search(len(c.times), func(i int) bool {
		return day.Add(time.Duration(c.times[i]) * time.Minute).After(w)
	})
	for range searchDays {
		if i < len(c.times) && c.matches(day) {
			return day.Add(time.Duration(c.times[i]) * time.Minute), true
		}
		day = day.AddDate(0, 0, 1)
		i = 0
	}
	return time.Time{}, false
}

// calendarReference returns the day the checks of fires and minGap start
// from; any day would do, as they look 8 years ahead.
func calendarReference() time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
}

// fires reports whether the calendar has a day that matches at all.
func (c *calendar) fires() bool {
	_, ok := c.next(calendarReference())
	return ok
}

// minGap returns the least wall-clock time between consecutive slots: the
// least gap between times in a day, and, if two consecutive days can both
// fire, from the last time of one to the first of the next.
func (c *calendar) minGap() time.Duration {
	gap := searchDays * 24 * time.Hour
	for i := 1; i < len(c.times); i++ {
		gap = min(gap, time.Duration(c.times[i]-c.times[i-1])*time.Minute)
	}
	overnight := time.Duration(24*60-c.times[len(c.times)-1]+c.times[0]) * time.Minute
	if overnight >= gap {
		return gap
	}
	day := calendarReference()
	prev := c.matches(day)
	for range searchDays {
		day = day.AddDate(0, 0, 1)
		cur := c.matches(day)
		if prev && cur {
			return overnight
		}
		prev = cur
	}
	return gap
}

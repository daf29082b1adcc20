package schedule

import (
	"fmt"
	"strings"
	"time"
)

// Describe returns a schedule in words, with its zone: "every day at 08:00
// Asia/Seoul", "every weekday at 07:30 America/New_York", "every Monday and
// Thursday at 18:00 Europe/Berlin", "every 6 hours (00:00, 06:00, 12:00
// and 18:00) Asia/Seoul". A cron expression too irregular for words is
// quoted: `on cron schedule "*/20 9-17 1,15 * *" Asia/Seoul`.
func Describe(s *Schedule) string {
	var what string
	if s.cal != nil {
		what = describeCalendar(s.cal, s.canon)
	} else {
		what = describeInterval(s.every)
	}
	return what + " " + s.loc.String()
}

// describeInterval describes an "every" schedule.
func describeInterval(every time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case every == time.Hour:
		return "every hour on the hour"
	case every == day:
		return "every day at 00:00"
	case day%every != 0:
		return "every " + durationWords(every)
	}
	perDay := int(day / every)
	if perDay > 4 {
		return "every " + durationWords(every) + " from 00:00"
	}
	times := make([]string, perDay)
	for i := range times {
		times[i] = formatClock(i * int(every/time.Minute))
	}
	return "every " + durationWords(every) + " (" + andList(times) + ")"
}

// durationWords spells whole minutes: "6 hours", "1 hour 30 minutes".
func durationWords(d time.Duration) string {
	h, m := int(d/time.Hour), int((d%time.Hour)/time.Minute)
	var parts []string
	if h > 0 {
		parts = append(parts, plural(h, "hour"))
	}
	if m > 0 {
		parts = append(parts, plural(m, "minute"))
	}
	return strings.Join(parts, " ")
}

// plural returns "1 hour", "2 hours".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// andList joins "a", "a and b", "a, b and c".
func andList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// describeCalendar describes a day-and-time schedule, or quotes canon if
// it has no short description.
func describeCalendar(c *calendar, canon string) string {
	days, ok := c.dayWords()
	if !ok {
		return fmt.Sprintf("on cron schedule %q", canon)
	}
	if len(c.times) <= 6 {
		times := make([]string, len(c.times))
		for i, m := range c.times {
			times[i] = formatClock(m)
		}
		return days + " at " + andList(times)
	}
	var times string
	if m, ok := hourly(c.times); ok {
		times = "every hour on the hour"
		if m != 0 {
			times = fmt.Sprintf("every hour at :%02d", m)
		}
		if days == "every day" {
			return times
		}
	} else {
		times = fmt.Sprintf("%d times a day from %s to %s",
			len(c.times), formatClock(c.times[0]), formatClock(c.times[len(c.times)-1]))
	}
	return days + ", " + times
}

// hourly reports whether times are minute m of every hour.
func hourly(times []int) (m int, ok bool) {
	if len(times) != 24 {
		return 0, false
	}
	for h, t := range times {
		if t != h*60+times[0] {
			return 0, false
		}
	}
	return times[0], true
}

// dayWords describes the days a calendar fires on, if that is short:
// "every day", "every weekday", "every Monday and Thursday", "on day 1 of
// every month", "every year on 1 January".
func (c *calendar) dayWords() (string, bool) {
	allMonths, allDom, allDow := bitRange(1, 12), bitRange(1, 31), bitRange(0, 6)
	switch {
	case c.month == allMonths && c.domAny && c.dom == allDom:
		switch c.dow {
		case allDow:
			return "every day", true
		case monToFri:
			return "every weekday", true
		}
		var names []string
		for _, d := range []int{1, 2, 3, 4, 5, 6, 0} {
			if c.dow&(1<<d) != 0 {
				names = append(names, time.Weekday(d).String())
			}
		}
		return "every " + andList(names), true
	case c.dowAny && c.dow == allDow:
		var days []string
		for d := 1; d <= 31; d++ {
			if c.dom&(1<<d) != 0 {
				days = append(days, fmt.Sprint(d))
			}
		}
		if len(days) > 4 {
			return "", false
		}
		if c.month == allMonths {
			if len(days) == 1 {
				return "on day " + days[0] + " of every month", true
			}
			return "on days " + andList(days) + " of every month", true
		}
		if len(days) == 1 && c.month&(c.month-1) == 0 { // one day of one month
			for m := time.January; m <= time.December; m++ {
				if c.month == 1<<m {
					return "every year on " + days[0] + " " + m.String(), true
				}
			}
		}
	}
	return "", false
}

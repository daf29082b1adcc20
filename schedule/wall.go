package schedule

import "time"

// Wall-clock times are held as UTC times whose fields are the local
// reading (2026-03-08 02:30 "wall" is time.Date(2026, 3, 8, 2, 30, 0, 0,
// time.UTC)), so they can be compared and stepped without a zone getting
// in the way.

// wallClock returns the local wall-clock reading of t in loc.
func wallClock(t time.Time, loc *time.Location) time.Time {
	return time.Unix(wallUnix(t.In(loc)), int64(t.Nanosecond())).UTC()
}

// wallUnix returns t's local wall-clock reading in its own location, as
// seconds since 1970-01-01 00:00 on that clock.
func wallUnix(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}

// resolve returns the instant at which the wall-clock slot w (whole
// seconds) is delivered in loc: its only occurrence; its first occurrence
// if the clock goes back over it; or, if the clock jumps over it, the
// first instant after the jump. The result is in loc.
//
// resolve is monotonic: w1 < w2 implies resolve(w1) <= resolve(w2).
func resolve(w time.Time, loc *time.Location) time.Time {
	wall := w.Unix()
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
	// The offsets in force around w; zones change offset at most a couple
	// of times in such a span.
	var first time.Time
	minOff, maxOff := int64(1<<62), int64(-1<<62)
	for _, probe := range [...]time.Time{t.Add(-26 * time.Hour), t, t.Add(26 * time.Hour)} {
		_, o := probe.Zone()
		off := int64(o)
		minOff, maxOff = min(minOff, off), max(maxOff, off)
		c := time.Unix(wall-off, 0).In(loc)
		if wallUnix(c) == wall && (first.IsZero() || c.Before(first)) {
			first = c
		}
	}
	if !first.IsZero() {
		return first
	}
	// w is in a gap: find the first instant whose wall clock is past w,
	// which is the instant the clock jumped.
	lo, hi := wall-maxOff, wall-minOff
	for lo < hi {
		mid := lo + (hi-lo)/2
		if wallUnix(time.Unix(mid, 0).In(loc)) > wall {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if r := time.Unix(lo, 0).In(loc); wallUnix(r) > wall {
		return r
	}
	return t // unreachable for real zone data; time.Date's own choice
}

package schedule

import (
	"time"

	"github.com/briefbot/briefbot/digest"
)

// DefaultCatchUpWindow is how late a missed slot may still be posted under
// digest.CatchUpLate when Due is given no window.
const DefaultCatchUpWindow = 6 * time.Hour

// LateAfter is how far behind its slot a briefing may be posted and still
// count as on time: it covers a slow tick or a busy job queue. A slot
// further behind is late.
const LateAfter = 5 * time.Minute

// Decision is what the scheduler tick does with one subscription; see Due.
type Decision struct {
	// Post says to deliver a briefing for Slot now.
	Post bool
	// Slot is the slot to deliver, in the schedule's zone (zero unless
	// Post). Its delivery key is (*Schedule).DeliveryKey(sub.ID, Slot).
	Slot time.Time
	// Late says Slot is more than LateAfter behind now, so the briefing
	// should say it is late.
	Late bool
	// Next is the subscription's new NextSlot, to store whether or not a
	// briefing is posted: the first slot strictly after now, or nextSlot
	// unchanged while it is still ahead of now.
	Next time.Time
}

// Due decides what the scheduler tick does at now with a subscription on
// schedule s whose stored NextSlot is nextSlot, under its catch-up policy
// catchUp (digest.CatchUpLate or digest.CatchUpSkip; anything else,
// including "", is treated as digest.CatchUpLate, the default) and
// catch-up window (zero or less means DefaultCatchUpWindow).
//
// The slots owed are those of s at or after nextSlot and at or before now.
// If there are none, nothing is posted. Otherwise only the most recent of
// them counts, so a subscription never gets more than one briefing per
// tick however long the bot was down:
//
//   - within LateAfter of now, it is on time and posted under either
//     policy;
//   - later than that, it is posted marked Late under CatchUpLate if it is
//     less than window behind now, and skipped under CatchUpSkip or if it
//     is older.
//
// Next then moves past now, so the skipped and caught-up slots are never
// owed again. A zero nextSlot (a subscription never scheduled) posts
// nothing and yields the first slot after now. The caller records the
// delivery under its key before posting (posting is idempotent per key)
// and stores Next with the subscription.
func Due(s *Schedule, nextSlot, now time.Time, catchUp string, window time.Duration) Decision {
	if nextSlot.IsZero() {
		return Decision{Next: s.Next(now)}
	}
	if nextSlot.After(now) {
		return Decision{Next: nextSlot.In(s.loc)}
	}
	if window <= 0 {
		window = DefaultCatchUpWindow
	}
	// Slots before from can be neither on time nor caught up: start the
	// walk there rather than at a nextSlot that may be months old.
	from := now.Add(-max(window, LateAfter+time.Nanosecond))
	if owedFrom := nextSlot.Add(-time.Nanosecond); owedFrom.After(from) {
		from = owedFrom
	}
	var last time.Time
	next := s.Next(from)
	for !next.IsZero() && !next.After(now) {
		last, next = next, s.Next(next)
	}
	d := Decision{Next: next}
	if last.IsZero() {
		return d
	}
	behind := now.Sub(last)
	d.Late = behind > LateAfter
	d.Post = !d.Late || (catchUp != digest.CatchUpSkip && behind < window)
	if !d.Post {
		d.Late = false
		return d
	}
	d.Slot = last
	return d
}

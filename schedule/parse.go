package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// forms lists the accepted forms, for errors about unrecognised specs.
const forms = `use "daily 08:00", "weekdays 07:30", "weekends 10:00", "mon,thu 18:00", ` +
	`"every 6h" or a cron expression such as "0 8 * * 1-5"`

// Weekday masks (bit i is weekday i, 0 is Sunday).
const (
	everyDay   uint64 = 1<<7 - 1
	monToFri   uint64 = 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5
	satAndSun  uint64 = 1<<0 | 1<<6
	robfigStar uint64 = 1 << 63 // robfig/cron marks a "*" or "?" field with the top bit
)

// parser parses one spec; spec is as given, for errors.
type parser struct {
	spec string
}

// errorf returns an error about the spec, prefixed with it.
func (p parser) errorf(format string, args ...any) error {
	return fmt.Errorf("schedule %q: %s", p.spec, fmt.Sprintf(format, args...))
}

// parseSpec parses a schedule spec, without its zone.
func parseSpec(spec string) (*Schedule, error) {
	trimmed := strings.TrimSpace(spec)
	if trimmed == "" {
		return nil, errors.New("schedule is empty: " + forms)
	}
	p := parser{spec: trimmed}
	norm := strings.ToLower(strings.Join(strings.Fields(trimmed), " "))
	var (
		s   *Schedule
		err error
	)
	switch {
	case strings.HasPrefix(norm, "cron_tz=") || strings.HasPrefix(norm, "tz="):
		prefix, _, _ := strings.Cut(trimmed, "=")
		return nil, p.errorf("remove the %s= prefix: the time zone is set separately", prefix)
	case strings.HasPrefix(norm, "@every"):
		s, err = p.interval(strings.TrimSpace(strings.TrimPrefix(norm, "@every")))
	case strings.HasPrefix(norm, "@"):
		s, err = p.descriptor(norm)
	case strings.ContainsRune("0123456789*?", rune(norm[0])):
		s, err = p.cron(norm)
	default:
		s, err = p.friendly(norm)
	}
	if err != nil {
		return nil, err
	}
	s.spec = trimmed
	if s.cal != nil && !s.cal.fires() {
		return nil, p.errorf("never fires: no date matches its day and month")
	}
	return s, nil
}

// friendly parses the day forms ("daily 08:00", "mon-fri 07:30",
// "every day at 8am") and "every" intervals.
func (p parser) friendly(norm string) (*Schedule, error) {
	// Let lists and ranges be written with spaces: "mon, thu", "mon - fri".
	norm = strings.NewReplacer(", ", ",", " ,", ",", " - ", "-").Replace(norm)
	fields := strings.Fields(norm)
	switch fields[0] {
	case "hourly":
		if len(fields) > 1 {
			return nil, p.errorf(`"hourly" takes no time; use "every 1h" or a cron expression such as "15 * * * *"`)
		}
		return p.interval("1h")
	case "every":
		if len(fields) == 1 {
			return nil, p.errorf("every what? Write an interval such as every 6h, every 30m or every 2h30m")
		}
		switch fields[1] {
		case "day":
			fields = append([]string{"daily"}, fields[2:]...)
		case "weekday":
			fields = append([]string{"weekdays"}, fields[2:]...)
		case "weekend":
			fields = append([]string{"weekends"}, fields[2:]...)
		default:
			if _, err := p.dayList(fields[1]); err != nil {
				return p.interval(strings.Join(fields[1:], " "))
			}
			fields = fields[1:]
		}
	}

	rest := fields[1:]
	if len(rest) > 0 && rest[0] == "at" {
		rest = rest[1:]
	}
	days, dayErr := p.days(fields[0])
	if len(rest) == 0 {
		if dayErr != nil {
			return nil, p.errorf("not a schedule I understand; %s", forms)
		}
		return nil, p.errorf("missing time of day; add one, e.g. %q", fields[0]+" 08:00")
	}
	times, timeErr := p.times(timeList(rest))
	switch {
	case dayErr != nil && timeErr != nil:
		return nil, p.errorf("not a schedule I understand; %s", forms)
	case dayErr != nil:
		return nil, dayErr
	case timeErr != nil:
		return nil, timeErr
	}
	cal := onWeekdays(days, times)
	return &Schedule{
		canon: dayName(days) + " " + formatTimes(times),
		cal:   cal,
	}, nil
}

// timeList joins the time words of a spec into a comma-separated list:
// "8:30 pm" is one time; "08:00 18:00", "08:00 and 18:00" and
// "08:00,18:00" are two.
func timeList(words []string) string {
	var items []string
	for _, w := range words {
		switch {
		case w == "and":
		case (w == "am" || w == "pm") && len(items) > 0:
			items[len(items)-1] += w
		default:
			items = append(items, w)
		}
	}
	return strings.Join(items, ",")
}

// days parses a day set: daily, weekdays, weekends or a day list.
func (p parser) days(tok string) (uint64, error) {
	switch tok {
	case "daily", "everyday":
		return everyDay, nil
	case "weekdays":
		return monToFri, nil
	case "weekends":
		return satAndSun, nil
	}
	return p.dayList(tok)
}

// dayList parses day names, lists and ranges: "mon", "mon,thu",
// "mon-fri", "fri-mon", "monday,wednesday".
func (p parser) dayList(tok string) (uint64, error) {
	var mask uint64
	for item := range strings.SplitSeq(tok, ",") {
		from, to, isRange := strings.Cut(item, "-")
		a, ok := weekday(from)
		if !ok {
			return 0, p.unknownDay(from)
		}
		if !isRange {
			mask |= 1 << a
			continue
		}
		b, ok := weekday(to)
		if !ok {
			return 0, p.unknownDay(to)
		}
		for d := a; ; d = (d + 1) % 7 {
			mask |= 1 << d
			if d == b {
				break
			}
		}
	}
	return mask, nil
}

// unknownDay returns the error for a word that is not a day.
func (p parser) unknownDay(word string) error {
	if word == "" {
		return p.errorf("a day is missing in the day list; write days like mon,thu or mon-fri")
	}
	return p.errorf("unknown day %q; use mon, tue, wed, thu, fri, sat, sun (or full names), "+
		"lists such as mon,thu, ranges such as mon-fri, daily, weekdays or weekends", word)
}

// weekday returns the number (0 is Sunday) of a day's name or
// abbreviation, singular or plural.
func weekday(name string) (uint, bool) {
	switch name {
	case "sun", "sunday", "sundays":
		return 0, true
	case "mon", "monday", "mondays":
		return 1, true
	case "tue", "tues", "tuesday", "tuesdays":
		return 2, true
	case "wed", "weds", "wednesday", "wednesdays":
		return 3, true
	case "thu", "thur", "thurs", "thursday", "thursdays":
		return 4, true
	case "fri", "friday", "fridays":
		return 5, true
	case "sat", "saturday", "saturdays":
		return 6, true
	}
	return 0, false
}

// dayName returns the canonical name of a weekday mask.
func dayName(mask uint64) string {
	switch mask {
	case everyDay:
		return "daily"
	case monToFri:
		return "weekdays"
	case satAndSun:
		return "weekends"
	}
	var names []string
	for _, d := range []uint{1, 2, 3, 4, 5, 6, 0} {
		if mask&(1<<d) != 0 {
			names = append(names, [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[d])
		}
	}
	return strings.Join(names, ",")
}

// times parses a comma-separated list of times of day into minutes after
// midnight, ascending and distinct.
func (p parser) times(tok string) ([]int, error) {
	var out []int
	for item := range strings.SplitSeq(tok, ",") {
		m, err := p.clock(item)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// clock parses a time of day, "08:00", "8:00", "18:30", "8am", "6:30pm",
// "noon" or "midnight", into minutes after midnight.
func (p parser) clock(tok string) (int, error) {
	switch tok {
	case "noon":
		return 12 * 60, nil
	case "midnight":
		return 0, nil
	}
	bad := func() error {
		return p.errorf("%q is not a time of day; write HH:MM on the 24-hour clock, "+
			"e.g. 08:00 or 18:30 (or 8am, 6:30pm)", tok)
	}
	var suffix string
	if s, ok := strings.CutSuffix(tok, "am"); ok {
		tok, suffix = s, "am"
	} else if s, ok := strings.CutSuffix(tok, "pm"); ok {
		tok, suffix = s, "pm"
	}
	hs, ms, hasColon := strings.Cut(tok, ":")
	if !hasColon {
		if suffix == "" {
			return 0, bad()
		}
		ms = "00"
	}
	if len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !digits(hs) || !digits(ms) {
		tok += suffix
		return 0, bad()
	}
	h, _ := strconv.Atoi(hs)
	m, _ := strconv.Atoi(ms)
	if suffix != "" {
		if h < 1 || h > 12 {
			return 0, p.errorf("hour %d is out of range (1-12) with %s", h, suffix)
		}
		h %= 12
		if suffix == "pm" {
			h += 12
		}
	} else if h > 23 {
		return 0, p.errorf("hour %d is out of range (00-23)", h)
	}
	if m > 59 {
		return 0, p.errorf("minute %d is out of range (00-59)", m)
	}
	return h*60 + m, nil
}

// digits reports whether s is all ASCII digits.
func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// formatTimes formats minutes after midnight as HH:MM, comma-separated.
func formatTimes(times []int) string {
	out := make([]string, len(times))
	for i, m := range times {
		out[i] = formatClock(m)
	}
	return strings.Join(out, ",")
}

// formatClock formats minutes after midnight as HH:MM.
func formatClock(m int) string {
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// interval parses the interval of an "every" schedule: "6h", "30m",
// "2h30m", "2 hours", "90 minutes", "hour".
func (p parser) interval(tok string) (*Schedule, error) {
	if tok == "" {
		return nil, p.errorf("missing interval; write it like every 6h, every 30m or every 2h30m")
	}
	compact := strings.ReplaceAll(tok, " ", "")
	if compact == "hour" || compact == "minute" {
		compact = "1" + compact
	}
	compact = strings.NewReplacer(
		"hours", "h", "hour", "h", "hrs", "h", "hr", "h",
		"minutes", "m", "minute", "m", "mins", "m", "min", "m",
	).Replace(compact)
	d, err := time.ParseDuration(compact)
	switch {
	case err != nil:
		return nil, p.errorf("%q is not an interval; write it like 6h, 30m or 2h30m", tok)
	case d <= 0:
		return nil, p.errorf("the interval must be longer than zero, e.g. every 6h")
	case d%time.Minute != 0:
		return nil, p.errorf("the interval %s is not a whole number of minutes", d)
	case d > maxInterval:
		return nil, p.errorf("the interval %s is longer than a week; use days such as mon,thu or a cron expression", formatDuration(d))
	}
	return &Schedule{canon: "every " + formatDuration(d), every: d}, nil
}

// formatDuration formats whole minutes as "6h", "30m", "2h30m"; other
// durations as time.Duration does.
func formatDuration(d time.Duration) string {
	if d <= 0 || d%time.Minute != 0 {
		return d.String()
	}
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	switch {
	case m == 0:
		return fmt.Sprintf("%dh", h)
	case h == 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// descriptor parses @hourly, @daily, @midnight, @weekly, @monthly,
// @yearly and @annually with robfig/cron.
func (p parser) descriptor(norm string) (*Schedule, error) {
	sched, err := robfigParse(cron.NewParser(cron.Descriptor), norm)
	if err != nil {
		return nil, p.errorf("unknown descriptor %q; use @hourly, @daily, @weekly, @monthly, @yearly or @every 6h", norm)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, p.errorf("unknown descriptor %q; use @hourly, @daily, @weekly, @monthly, @yearly or @every 6h", norm)
	}
	return &Schedule{canon: norm, cal: fromSpec(spec)}, nil
}

// cronField is a field of a five-field cron expression.
type cronField struct {
	name string
	opt  cron.ParseOption
}

// cronFields returns the fields of a five-field cron expression, in order.
func cronFields() [5]cronField {
	return [...]cronField{
		{"minute", cron.Minute},
		{"hour", cron.Hour},
		{"day-of-month", cron.Dom},
		{"month", cron.Month},
		{"day-of-week", cron.Dow},
	}
}

// cron parses a five-field cron expression with robfig/cron's standard
// parser, checking each field alone first so errors can name it.
func (p parser) cron(norm string) (*Schedule, error) {
	fields := strings.Fields(norm)
	if len(fields) != 5 {
		return nil, p.errorf("a cron expression has 5 fields (minute hour day-of-month month day-of-week), "+
			"this has %d; or %s", len(fields), forms)
	}
	for i, f := range cronFields() {
		if _, err := robfigParse(cron.NewParser(f.opt), fields[i]); err != nil {
			hint := ""
			if f.opt == cron.Dow {
				hint = " (days of the week are 0-6 with 0 for Sunday, or sun-sat)"
			}
			return nil, p.errorf("%s field %q: %v%s", f.name, fields[i], err, hint)
		}
	}
	canon := strings.Join(fields, " ")
	sched, err := robfigParse(cron.NewParser(cron.Minute|cron.Hour|cron.Dom|cron.Month|cron.Dow), canon)
	if err != nil {
		return nil, p.errorf("%v", err)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, p.errorf("not a cron expression; %s", forms)
	}
	return &Schedule{canon: canon, cal: fromSpec(spec)}, nil
}

// robfigParse calls p.Parse, turning a panic (robfig/cron v3.0.1 panics on
// some malformed input, such as a CRON_TZ= prefix without a space) into an
// error.
func robfigParse(p cron.Parser, spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("cannot parse %q", spec)
		}
	}()
	return p.Parse(spec)
}

// fromSpec converts robfig/cron's bit sets to a calendar.
func fromSpec(s *cron.SpecSchedule) *calendar {
	c := &calendar{
		dom:    s.Dom &^ robfigStar,
		month:  s.Month &^ robfigStar,
		dow:    s.Dow &^ robfigStar,
		domAny: s.Dom&robfigStar != 0,
		dowAny: s.Dow&robfigStar != 0,
	}
	for h := range 24 {
		if s.Hour&(1<<h) == 0 {
			continue
		}
		for m := range 60 {
			if s.Minute&(1<<m) != 0 {
				c.times = append(c.times, h*60+m)
			}
		}
	}
	return c
}

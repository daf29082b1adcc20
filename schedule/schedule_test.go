package schedule_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/schedule"
	"github.com/robfig/cron/v3"
)

// anyGap lets every schedule through the minimum-interval check.
var anyGap = schedule.ParseOptions{MinInterval: time.Minute}

// mustLoad loads a time zone or fails the test.
func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// mustParse parses a schedule with any gap allowed, or fails the test.
func mustParse(t testing.TB, spec, zone string) *schedule.Schedule {
	t.Helper()
	s, err := schedule.ParseWith(spec, zone, anyGap)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// slots returns the n slots after after, formatted as local times with
// their offsets.
func slots(s *schedule.Schedule, after time.Time, n int) []string {
	var out []string
	for t := after; len(out) < n; {
		t = s.Next(t)
		out = append(out, t.Format("2006-01-02 Mon 15:04 -07:00"))
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, spec string
		zone       string // default Asia/Seoul
		opts       schedule.ParseOptions
		want       string // canonical spec
		describe   string
	}{
		{name: "daily", spec: "daily 08:00", want: "daily 08:00", describe: "every day at 08:00 Asia/Seoul"},
		{name: "daily one-digit hour", spec: "daily 8:00", want: "daily 08:00"},
		{name: "daily am", spec: "daily 8am", want: "daily 08:00"},
		{name: "daily pm with minutes", spec: "Daily 6:30 PM", want: "daily 18:30"},
		{name: "daily 12am is midnight", spec: "daily 12am", want: "daily 00:00"},
		{name: "daily 12pm is noon", spec: "daily 12pm", want: "daily 12:00"},
		{name: "daily at", spec: "daily at 07:05", want: "daily 07:05"},
		{name: "daily several times", spec: "daily 18:00, 08:00", want: "daily 08:00,18:00",
			describe: "every day at 08:00 and 18:00 Asia/Seoul"},
		{name: "daily times with spaces", spec: "daily 8 am and 6:30 pm 12:00", want: "daily 08:00,12:00,18:30"},
		{name: "every day", spec: "every day at 08:00", want: "daily 08:00"},
		{name: "everyday", spec: "everyday 08:00", want: "daily 08:00"},
		{name: "weekdays", spec: "weekdays 07:30", want: "weekdays 07:30",
			describe: "every weekday at 07:30 Asia/Seoul"},
		{name: "every weekday", spec: "every weekday 07:30", want: "weekdays 07:30"},
		{name: "weekends", spec: "weekends 10:00", want: "weekends 10:00",
			describe: "every Saturday and Sunday at 10:00 Asia/Seoul"},
		{name: "day list", spec: "mon,thu 18:00", want: "mon,thu 18:00",
			describe: "every Monday and Thursday at 18:00 Asia/Seoul"},
		{name: "day list with spaces and full names", spec: "Thursday, Monday 18:00", want: "mon,thu 18:00"},
		{name: "day range is weekdays", spec: "mon-fri 07:30", want: "weekdays 07:30"},
		{name: "day range wraps", spec: "fri-mon 09:00", want: "mon,fri,sat,sun 09:00",
			describe: "every Monday, Friday, Saturday and Sunday at 09:00 Asia/Seoul"},
		{name: "all days is daily", spec: "mon-sun 09:00", want: "daily 09:00"},
		{name: "every monday", spec: "every monday 09:00", want: "mon 09:00"},
		{name: "every 6h", spec: "every 6h", want: "every 6h",
			describe: "every 6 hours (00:00, 06:00, 12:00 and 18:00) Asia/Seoul"},
		{name: "every 30m", spec: "every 30m", opts: schedule.ParseOptions{MinInterval: 30 * time.Minute},
			want: "every 30m", describe: "every 30 minutes from 00:00 Asia/Seoul"},
		{name: "every 2h30m", spec: "every 2h30m", want: "every 2h30m",
			describe: "every 2 hours 30 minutes Asia/Seoul"},
		{name: "every 2 hours", spec: "every 2 hours", want: "every 2h",
			describe: "every 2 hours from 00:00 Asia/Seoul"},
		{name: "every hour", spec: "every hour", want: "every 1h", describe: "every hour on the hour Asia/Seoul"},
		{name: "every 90 minutes", spec: "every 90 minutes", want: "every 1h30m"},
		{name: "at every", spec: "@every 12h", want: "every 12h"},
		{name: "hourly", spec: "hourly", want: "every 1h"},
		{name: "cron", spec: "0 8 * * 1-5", want: "0 8 * * 1-5", describe: "every weekday at 08:00 Asia/Seoul"},
		{name: "cron spaces and names", spec: "  30  7 * *   MON-FRI ", want: "30 7 * * mon-fri"},
		{name: "cron day of month", spec: "0 9 1,15 * *", want: "0 9 1,15 * *",
			describe: "on days 1 and 15 of every month at 09:00 Asia/Seoul"},
		{name: "cron irregular", spec: "*/20 9-17 1,15 * *", opts: anyGap, want: "*/20 9-17 1,15 * *",
			describe: "on days 1 and 15 of every month, 27 times a day from 09:00 to 17:40 Asia/Seoul"},
		{name: "cron months", spec: "0 9 * 1-6 *", want: "0 9 * 1-6 *",
			describe: `on cron schedule "0 9 * 1-6 *" Asia/Seoul`},
		{name: "cron every minute with no minimum", spec: "* * * * *", opts: anyGap, want: "* * * * *"},
		{name: "cron 29 February", spec: "0 0 29 2 *", want: "0 0 29 2 *"},
		{name: "descriptor daily", spec: "@daily", want: "@daily", describe: "every day at 00:00 Asia/Seoul"},
		{name: "descriptor hourly", spec: "@hourly", want: "@hourly", describe: "every hour on the hour Asia/Seoul"},
		{name: "descriptor weekly", spec: "@WEEKLY", want: "@weekly", describe: "every Sunday at 00:00 Asia/Seoul"},
		{name: "descriptor monthly", spec: "@monthly", want: "@monthly",
			describe: "on day 1 of every month at 00:00 Asia/Seoul"},
		{name: "descriptor yearly", spec: "@yearly", want: "@yearly",
			describe: "every year on 1 January at 00:00 Asia/Seoul"},
		{name: "UTC", spec: "daily 08:00", zone: "UTC", want: "daily 08:00", describe: "every day at 08:00 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zone := tt.zone
			if zone == "" {
				zone = "Asia/Seoul"
			}
			s, err := schedule.ParseWith(tt.spec, zone, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got, want := s.Spec(), strings.TrimSpace(tt.spec); got != want {
				t.Errorf("Spec() = %q, want %q", got, want)
			}
			if got := s.Zone().String(); got != zone {
				t.Errorf("Zone() = %q, want %q", got, zone)
			}
			if got := schedule.Describe(s); tt.describe != "" && got != tt.describe {
				t.Errorf("Describe() = %q, want %q", got, tt.describe)
			}
			// The canonical spec means the same.
			again, err := schedule.ParseWith(s.String(), zone, tt.opts)
			if err != nil {
				t.Fatalf("canonical %q: %v", s.String(), err)
			}
			from := time.Date(2026, 2, 27, 13, 7, 0, 0, time.UTC)
			if got, want := slots(again, from, 10), slots(s, from, 10); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("canonical %q slots %v, want %v", s.String(), got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, spec, zone string
		opts             schedule.ParseOptions
		want             string // the whole error, or a prefix ending in "…"
	}{
		{name: "hour out of range", spec: "daily 25:00",
			want: `schedule "daily 25:00": hour 25 is out of range (00-23)`},
		{name: "minute out of range", spec: "daily 12:60",
			want: `schedule "daily 12:60": minute 60 is out of range (00-59)`},
		{name: "pm hour out of range", spec: "daily 13pm",
			want: `schedule "daily 13pm": hour 13 is out of range (1-12) with pm`},
		{name: "not a time", spec: "daily 8h",
			want: `schedule "daily 8h": "8h" is not a time of day; write HH:MM on the 24-hour clock, e.g. 08:00 or 18:30 (or 8am, 6:30pm)`},
		{name: "one-digit minute", spec: "daily 8:5", want: `schedule "daily 8:5": "8:5" is not a time of day…`},
		{name: "missing time", spec: "weekdays",
			want: `schedule "weekdays": missing time of day; add one, e.g. "weekdays 08:00"`},
		{name: "unknown day", spec: "funday 08:00",
			want: `schedule "funday 08:00": unknown day "funday"; use mon, tue, wed, thu, fri, sat, sun (or full names), lists such as mon,thu, ranges such as mon-fri, daily, weekdays or weekends`},
		{name: "unknown day in list", spec: "mon,thurs,frid 08:00",
			want: `schedule "mon,thurs,frid 08:00": unknown day "frid"…`},
		{name: "unknown day in range", spec: "mon-fry 08:00", want: `schedule "mon-fry 08:00": unknown day "fry"…`},
		{name: "unrecognised", spec: "twice a day",
			want: `schedule "twice a day": not a schedule I understand; use "daily 08:00", "weekdays 07:30", "weekends 10:00", "mon,thu 18:00", "every 6h" or a cron expression such as "0 8 * * 1-5"`},
		{name: "empty", spec: "  ",
			want: `schedule is empty: use "daily 08:00", "weekdays 07:30", "weekends 10:00", "mon,thu 18:00", "every 6h" or a cron expression such as "0 8 * * 1-5"`},
		{name: "every nothing", spec: "every", want: `schedule "every": every what?…`},
		{name: "every zero", spec: "every 0h",
			want: `schedule "every 0h": the interval must be longer than zero, e.g. every 6h`},
		{name: "every negative", spec: "every -1h", want: `schedule "every -1h": the interval must be longer than zero…`},
		{name: "every seconds", spec: "every 90s",
			want: `schedule "every 90s": the interval 1m30s is not a whole number of minutes`},
		{name: "every fortnight", spec: "every 336h",
			want: `schedule "every 336h": the interval 336h is longer than a week; use days such as mon,thu or a cron expression`},
		{name: "every nonsense", spec: "every blue moon",
			want: `schedule "every blue moon": "blue moon" is not an interval; write it like 6h, 30m or 2h30m`},
		{name: "every 10m under 1h minimum", spec: "every 10m",
			want: `schedule "every 10m": briefings would come 10m apart; the minimum is 1h`},
		{name: "two times too close", spec: "daily 08:00,08:30",
			want: `schedule "daily 08:00,08:30": briefings would come 30m apart; the minimum is 1h`},
		{name: "times too close over midnight", spec: "daily 23:45,00:15",
			want: `schedule "daily 23:45,00:15": briefings would come 30m apart; the minimum is 1h`},
		{name: "every minute cron under minimum", spec: "* * * * *",
			want: `schedule "* * * * *": briefings would come 1m apart; the minimum is 1h`},
		{name: "cron minute field under minimum", spec: "0,30 8 * * *",
			want: `schedule "0,30 8 * * *": briefings would come 30m apart; the minimum is 1h`},
		{name: "cron under a raised minimum", spec: "0 */2 * * *", opts: schedule.ParseOptions{MinInterval: 3 * time.Hour},
			want: `schedule "0 */2 * * *": briefings would come 2h apart; the minimum is 3h`},
		{name: "cron field count", spec: "0 8 * *",
			want: `schedule "0 8 * *": a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has 4; or use "daily 08:00"…`},
		{name: "cron seconds field", spec: "0 0 8 * * *", want: `schedule "0 0 8 * * *": a cron expression has 5 fields…`},
		{name: "cron minute out of range", spec: "61 8 * * *",
			want: `schedule "61 8 * * *": minute field "61": end of range (61) above maximum (59): 61`},
		{name: "cron bad day of week", spec: "0 8 * * 7",
			want: `schedule "0 8 * * 7": day-of-week field "7": end of range (7) above maximum (6): 7 (days of the week are 0-6 with 0 for Sunday, or sun-sat)`},
		{name: "cron bad step", spec: "*/0 8 * * *", want: `schedule "*/0 8 * * *": minute field "*/0": step of range should be a positive number: */0`},
		{name: "cron never fires", spec: "0 0 30 2 *",
			want: `schedule "0 0 30 2 *": never fires: no date matches its day and month`},
		{name: "cron tz prefix", spec: "CRON_TZ=Asia/Tokyo 0 8 * * *",
			want: `schedule "CRON_TZ=Asia/Tokyo 0 8 * * *": remove the CRON_TZ= prefix: the time zone is set separately`},
		{name: "bad cron tz prefix must not panic", spec: "CRON_TZ=Bad/Zone * * * * *",
			want: `schedule "CRON_TZ=Bad/Zone * * * * *": remove the CRON_TZ= prefix…`},
		{name: "cron tz without space must not panic", spec: "TZ=Asia/Seoul", want: `schedule "TZ=Asia/Seoul": remove the TZ= prefix…`},
		{name: "cron tz without a spec must not panic", spec: "CRON_TZ=", want: `schedule "CRON_TZ=": remove the CRON_TZ= prefix…`},
		{name: "tz inside a field", spec: "0 TZ=x * * *", want: `schedule "0 TZ=x * * *": hour field "tz=x": …`},
		{name: "unknown descriptor", spec: "@reboot",
			want: `schedule "@reboot": unknown descriptor "@reboot"; use @hourly, @daily, @weekly, @monthly, @yearly or @every 6h`},
		{name: "unknown zone", spec: "daily 08:00", zone: "Asia/Seol",
			want: `unknown time zone "Asia/Seol": use an IANA name such as Asia/Seoul`},
		{name: "empty zone", spec: "daily 08:00", zone: "-", want: `time zone is required, e.g. Asia/Seoul`},
		{name: "local zone", spec: "daily 08:00", zone: "Local",
			want: `time zone "Local" is not allowed: use an IANA name such as Asia/Seoul`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zone := tt.zone
			switch zone {
			case "":
				zone = "Asia/Seoul"
			case "-":
				zone = ""
			}
			s, err := schedule.ParseWith(tt.spec, zone, tt.opts)
			if err == nil {
				t.Fatalf("parsed as %q, want error %q", s, tt.want)
			}
			got := err.Error()
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("error %q, want it to start %q", got, prefix)
				}
			} else if got != tt.want {
				t.Errorf("error\n%q, want\n%q", got, tt.want)
			}
		})
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name, spec, zone string
		after            string // RFC 3339
		want             []string
	}{
		{name: "daily", spec: "daily 08:00", zone: "Asia/Seoul", after: "2026-05-01T07:59:59+09:00",
			want: []string{"2026-05-01 Fri 08:00 +09:00", "2026-05-02 Sat 08:00 +09:00"}},
		{name: "strictly after", spec: "daily 08:00", zone: "Asia/Seoul", after: "2026-05-01T08:00:00+09:00",
			want: []string{"2026-05-02 Sat 08:00 +09:00"}},
		{name: "after given in another zone", spec: "daily 08:00", zone: "Asia/Seoul", after: "2026-04-30T22:30:00Z",
			want: []string{"2026-05-01 Fri 08:00 +09:00"}},
		{name: "weekdays skip the weekend", spec: "weekdays 07:30", zone: "Europe/Berlin", after: "2026-05-01T08:00:00+02:00",
			want: []string{"2026-05-04 Mon 07:30 +02:00", "2026-05-05 Tue 07:30 +02:00"}},
		{name: "weekends", spec: "weekends 10:00", zone: "Europe/Berlin", after: "2026-05-01T08:00:00+02:00",
			want: []string{"2026-05-02 Sat 10:00 +02:00", "2026-05-03 Sun 10:00 +02:00", "2026-05-09 Sat 10:00 +02:00"}},
		{name: "day list", spec: "mon,thu 18:00", zone: "Asia/Seoul", after: "2026-05-01T00:00:00+09:00",
			want: []string{"2026-05-04 Mon 18:00 +09:00", "2026-05-07 Thu 18:00 +09:00", "2026-05-11 Mon 18:00 +09:00"}},
		{name: "several times a day", spec: "daily 08:00,18:00", zone: "Asia/Seoul", after: "2026-05-01T09:00:00+09:00",
			want: []string{"2026-05-01 Fri 18:00 +09:00", "2026-05-02 Sat 08:00 +09:00"}},
		{name: "every 6h from local midnight", spec: "every 6h", zone: "Asia/Kolkata", after: "2026-05-01T05:00:00+05:30",
			want: []string{"2026-05-01 Fri 06:00 +05:30", "2026-05-01 Fri 12:00 +05:30", "2026-05-01 Fri 18:00 +05:30", "2026-05-02 Sat 00:00 +05:30"}},
		{name: "every 2h30m keeps its cadence over midnight", spec: "every 2h30m", zone: "UTC", after: "2026-05-01T20:00:00Z",
			want: []string{"2026-05-01 Fri 21:30 +00:00", "2026-05-02 Sat 00:00 +00:00", "2026-05-02 Sat 02:30 +00:00"}},
		{name: "every 5h is aligned to 1970-01-01 local", spec: "every 5h", zone: "Asia/Seoul", after: "2026-05-01T00:00:00+09:00",
			want: []string{"2026-05-01 Fri 04:00 +09:00", "2026-05-01 Fri 09:00 +09:00"}},
		{name: "cron weekdays", spec: "0 8 * * 1-5", zone: "America/New_York", after: "2026-05-01T09:00:00-04:00",
			want: []string{"2026-05-04 Mon 08:00 -04:00"}},
		{name: "cron day of month or day of week", spec: "0 8 13 * 5", zone: "UTC", after: "2026-03-01T00:00:00Z",
			want: []string{"2026-03-06 Fri 08:00 +00:00", "2026-03-13 Fri 08:00 +00:00", "2026-03-20 Fri 08:00 +00:00"}},
		{name: "cron 29 February", spec: "0 0 29 2 *", zone: "UTC", after: "2026-01-01T00:00:00Z",
			want: []string{"2028-02-29 Tue 00:00 +00:00", "2032-02-29 Sun 00:00 +00:00"}},
		{name: "weekly", spec: "@weekly", zone: "Asia/Seoul", after: "2026-05-01T00:00:00+09:00",
			want: []string{"2026-05-03 Sun 00:00 +09:00"}},
		{name: "monthly", spec: "@monthly", zone: "Asia/Seoul", after: "2026-05-01T00:00:00+09:00",
			want: []string{"2026-06-01 Mon 00:00 +09:00"}},

		// Spring forward: America/New_York jumps 02:00 EST → 03:00 EDT on 2026-03-08.
		{name: "new york spring forward daily 02:30", spec: "daily 02:30", zone: "America/New_York",
			after: "2026-03-07T00:00:00-05:00",
			want:  []string{"2026-03-07 Sat 02:30 -05:00", "2026-03-08 Sun 03:00 -04:00", "2026-03-09 Mon 02:30 -04:00"}},
		{name: "new york spring forward 02:30 and 03:00 are one slot", spec: "daily 02:30,03:00,04:00", zone: "America/New_York",
			after: "2026-03-08T00:00:00-05:00",
			want:  []string{"2026-03-08 Sun 03:00 -04:00", "2026-03-08 Sun 04:00 -04:00", "2026-03-09 Mon 02:30 -04:00"}},
		{name: "new york spring forward cron", spec: "30 2 * * *", zone: "America/New_York",
			after: "2026-03-07T12:00:00-05:00",
			want:  []string{"2026-03-08 Sun 03:00 -04:00", "2026-03-09 Mon 02:30 -04:00"}},
		{name: "new york spring forward every 1h", spec: "every 1h", zone: "America/New_York",
			after: "2026-03-08T00:30:00-05:00",
			want:  []string{"2026-03-08 Sun 01:00 -05:00", "2026-03-08 Sun 03:00 -04:00", "2026-03-08 Sun 04:00 -04:00"}},
		{name: "new york spring forward after is in the new hour", spec: "every 1h", zone: "America/New_York",
			after: "2026-03-08T03:00:00-04:00",
			want:  []string{"2026-03-08 Sun 04:00 -04:00"}},

		// Fall back: America/New_York goes 02:00 EDT → 01:00 EST on 2026-11-01.
		{name: "new york fall back daily 01:30 once, first", spec: "daily 01:30", zone: "America/New_York",
			after: "2026-10-31T12:00:00-04:00",
			want:  []string{"2026-11-01 Sun 01:30 -04:00", "2026-11-02 Mon 01:30 -05:00"}},
		{name: "new york fall back after the first occurrence", spec: "daily 01:30", zone: "America/New_York",
			after: "2026-11-01T01:45:00-04:00",
			want:  []string{"2026-11-02 Mon 01:30 -05:00"}},
		{name: "new york fall back after is in the repeated hour", spec: "every 30m", zone: "America/New_York",
			after: "2026-11-01T01:10:00-05:00",
			want:  []string{"2026-11-01 Sun 02:00 -05:00", "2026-11-01 Sun 02:30 -05:00"}},
		{name: "new york fall back daily 02:30 unaffected", spec: "daily 02:30", zone: "America/New_York",
			after: "2026-10-31T12:00:00-04:00",
			want:  []string{"2026-11-01 Sun 02:30 -05:00"}},
		{name: "new york fall back every 1h", spec: "every 1h", zone: "America/New_York",
			after: "2026-10-31T23:30:00-04:00",
			want:  []string{"2026-11-01 Sun 00:00 -04:00", "2026-11-01 Sun 01:00 -04:00", "2026-11-01 Sun 02:00 -05:00", "2026-11-01 Sun 03:00 -05:00"}},

		// Europe/Berlin: 02:00 CET → 03:00 CEST on 2026-03-29; 03:00 CEST → 02:00 CET on 2026-10-25.
		{name: "berlin spring forward daily 02:30", spec: "daily 02:30", zone: "Europe/Berlin",
			after: "2026-03-28T12:00:00+01:00",
			want:  []string{"2026-03-29 Sun 03:00 +02:00", "2026-03-30 Mon 02:30 +02:00"}},
		{name: "berlin fall back daily 02:30", spec: "daily 02:30", zone: "Europe/Berlin",
			after: "2026-10-24T12:00:00+02:00",
			want:  []string{"2026-10-25 Sun 02:30 +02:00", "2026-10-26 Mon 02:30 +01:00"}},
		{name: "berlin fall back every 1h", spec: "every 1h", zone: "Europe/Berlin",
			after: "2026-10-25T00:30:00+02:00",
			want:  []string{"2026-10-25 Sun 01:00 +02:00", "2026-10-25 Sun 02:00 +02:00", "2026-10-25 Sun 03:00 +01:00"}},

		// Australia/Lord_Howe moves by 30 minutes: 02:00 → 02:30 (+11:00) on
		// 2026-10-04, 02:00 → 01:30 (+10:30) on 2026-04-05.
		{name: "lord howe spring forward daily 02:15", spec: "daily 02:15", zone: "Australia/Lord_Howe",
			after: "2026-10-03T12:00:00+10:30",
			want:  []string{"2026-10-04 Sun 02:30 +11:00", "2026-10-05 Mon 02:15 +11:00"}},
		{name: "lord howe spring forward every 30m", spec: "every 30m", zone: "Australia/Lord_Howe",
			after: "2026-10-04T01:00:00+10:30",
			want:  []string{"2026-10-04 Sun 01:30 +10:30", "2026-10-04 Sun 02:30 +11:00", "2026-10-04 Sun 03:00 +11:00"}},
		{name: "lord howe fall back every 30m", spec: "every 30m", zone: "Australia/Lord_Howe",
			after: "2026-04-05T01:00:00+11:00",
			want:  []string{"2026-04-05 Sun 01:30 +11:00", "2026-04-05 Sun 02:00 +10:30", "2026-04-05 Sun 02:30 +10:30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.spec, tt.zone)
			after, err := time.Parse(time.RFC3339, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			got := slots(s, after, len(tt.want))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("slots after %s:\n got %q\nwant %q", tt.after, got, tt.want)
			}
			if loc := s.Next(after).Location(); loc != s.Zone() {
				t.Errorf("Next in %v, want the schedule's zone %v", loc, s.Zone())
			}
		})
	}
}

// TestNextAcrossDST steps hourly and half-hourly schedules across DST
// changes: slots strictly increase, no local key repeats, and every wall
// time of the schedule that exists on the local clock is delivered at that
// wall time.
func TestNextAcrossDST(t *testing.T) {
	tests := []struct {
		zone string
		day  string // a day with a change
	}{
		{"America/New_York", "2026-03-08"},
		{"America/New_York", "2026-11-01"},
		{"Europe/Berlin", "2026-03-29"},
		{"Europe/Berlin", "2026-10-25"},
		{"Australia/Lord_Howe", "2026-04-05"},
		{"Australia/Lord_Howe", "2026-10-04"},
	}
	for _, tt := range tests {
		for _, spec := range []string{"every 1h", "every 30m", "0 * * * *", "daily 02:30", "*/15 1-3 * * *"} {
			t.Run(tt.zone+" "+tt.day+" "+spec, func(t *testing.T) {
				s := mustParse(t, spec, tt.zone)
				loc := s.Zone()
				day, err := time.ParseInLocation("2006-01-02", tt.day, loc)
				if err != nil {
					t.Fatal(err)
				}
				start, end := day.AddDate(0, 0, -1), day.AddDate(0, 0, 2)
				keys := map[string]bool{}
				prev := start
				for slot := s.Next(start); slot.Before(end); slot = s.Next(slot) {
					if !slot.After(prev) {
						t.Fatalf("slot %v not after %v", slot, prev)
					}
					key := s.DeliveryKey(1, slot)
					if keys[key] {
						t.Errorf("key %s twice (slot %v)", key, slot)
					}
					keys[key] = true
					prev = slot
				}
				// Every minute of the local clock that exists and that a
				// slot names has a key.
				ref := mustParse(t, spec, "UTC") // the same wall times on a clock without DST
				for w := ref.Next(time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)); ; w = ref.Next(w) {
					local := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
					if !local.Before(end) {
						break
					}
					if local.Hour() != w.Hour() || local.Minute() != w.Minute() {
						continue // not on the local clock that day
					}
					if key := digest.DeliveryKey(1, local); !keys[key] {
						t.Errorf("valid wall time %s has no slot", w.Format("2006-01-02 15:04"))
					}
				}
			})
		}
	}
}

// TestRobfigDSTDiffers records why Next steps the wall clock itself:
// robfig/cron v3.0.1 skips a slot in the spring gap and repeats one in the
// fall-back hour. If this starts failing, robfig/cron has changed its DST
// rules; the rules of this package stay as TestNext pins them.
func TestRobfigDSTDiffers(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	spring, err := cron.ParseStandard("CRON_TZ=America/New_York 30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	if got := spring.Next(time.Date(2026, 3, 7, 12, 0, 0, 0, ny)); got.Day() != 9 {
		t.Errorf("robfig/cron spring slot on day %d, want it to skip to 9", got.Day())
	}
	fall, err := cron.ParseStandard("CRON_TZ=America/New_York 30 1 * * *")
	if err != nil {
		t.Fatal(err)
	}
	first := fall.Next(time.Date(2026, 10, 31, 12, 0, 0, 0, ny))
	if second := fall.Next(first); second.Day() != 1 {
		t.Errorf("robfig/cron fall-back slots %v, %v; want 01:30 twice on 1 November", first, second)
	}
}

// TestNextMatchesRobfig checks that, on clocks without DST, the slots of
// cron expressions are robfig/cron's.
func TestNextMatchesRobfig(t *testing.T) {
	specs := []string{
		"0 8 * * 1-5", "30 7 * * mon,thu", "0 */6 * * *", "15 9 1,15 * *", "0 8 13 * 5",
		"0 0 29 2 *", "5 4 * * sun", "0 9-17/2 * jan-mar,oct *", "*/45 * * * *", "0 0 31 * *",
		"@daily", "@weekly", "@monthly", "@yearly", "@hourly",
	}
	for _, zone := range []string{"UTC", "Asia/Seoul", "Asia/Kolkata"} {
		for _, spec := range specs {
			t.Run(zone+" "+spec, func(t *testing.T) {
				s := mustParse(t, spec, zone)
				r, err := cron.ParseStandard("CRON_TZ=" + zone + " " + spec)
				if err != nil {
					t.Fatal(err)
				}
				got, want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				for i := range 200 {
					got, want = s.Next(got), r.Next(want)
					if want.IsZero() {
						break // robfig/cron looks 5 years ahead only (29 February 2104)
					}
					if !got.Equal(want) {
						t.Fatalf("slot %d = %v, robfig/cron has %v", i, got, want)
					}
				}
			})
		}
	}
}

func TestSlotKeyTime(t *testing.T) {
	s := mustParse(t, "daily 08:00", "Asia/Seoul")
	slot := s.Next(time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC)).UTC() // as storage may hand it back
	if got, want := digest.DeliveryKey(7, schedule.SlotKeyTime(slot, s.Zone())), "sub:7:2026-05-01T08:00"; got != want {
		t.Errorf("DeliveryKey(SlotKeyTime) = %q, want %q", got, want)
	}
	if got, want := s.DeliveryKey(7, slot), "sub:7:2026-05-01T08:00"; got != want {
		t.Errorf("(*Schedule).DeliveryKey = %q, want %q", got, want)
	}
}

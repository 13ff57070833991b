package support

import (
	"fmt"
	"strings"
	"time"
)

// Hours are the team's business hours: the weekdays and the time of day
// the desk is staffed, in one time zone. Reminders and check-ins that fall
// due outside them wait for the next opening. The zero value is always open.
type Hours struct {
	days       [7]bool // by time.Weekday
	open, shut int     // minutes after midnight; shut > open
	loc        *time.Location
	set        bool
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseHours reads "Mon-Fri 09:00-18:00 Europe/Berlin": days (a range, or
// ranges and days separated by commas: "Mon-Thu,Sat"), the opening hours
// (24-hour clock, shut after open, same day), and an IANA time zone (UTC
// when left out). "" means always open.
func ParseHours(s string) (Hours, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return Hours{}, nil
	}
	if len(f) < 2 || len(f) > 3 {
		return Hours{}, fmt.Errorf("want days, hours and a time zone, like \"Mon-Fri 09:00-18:00 Europe/Berlin\"; got %q", s)
	}
	h := Hours{loc: time.UTC, set: true}
	for _, part := range strings.Split(strings.ToLower(f[0]), ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, ok1 := weekdays[from]
		b, ok2 := weekdays[to]
		if !isRange {
			b, ok2 = a, ok1
		}
		if !ok1 || !ok2 {
			return Hours{}, fmt.Errorf("days %q: use Mon, Tue, Wed, Thu, Fri, Sat, Sun, ranges (Mon-Fri) and commas", f[0])
		}
		for d := a; ; d = (d + 1) % 7 {
			h.days[d] = true
			if d == b {
				break
			}
		}
	}
	o, c, ok := strings.Cut(f[1], "-")
	var err1, err2 error
	h.open, err1 = clock(o)
	h.shut, err2 = clock(c)
	if !ok || err1 != nil || err2 != nil || h.shut <= h.open {
		return Hours{}, fmt.Errorf("hours %q: use HH:MM-HH:MM, closing after opening on the same day", f[1])
	}
	if len(f) == 3 {
		loc, err := time.LoadLocation(f[2])
		if err != nil {
			return Hours{}, fmt.Errorf("time zone %q: %v", f[2], err)
		}
		h.loc = loc
	}
	return h, nil
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Next is t when the desk is open at t, else the next opening after t.
func (h Hours) Next(t time.Time) time.Time {
	if !h.set {
		return t
	}
	lt := t.In(h.loc)
	for i := 0; i < 8; i++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, h.loc)
		open := day.Add(time.Duration(h.open) * time.Minute)
		shut := day.Add(time.Duration(h.shut) * time.Minute)
		if h.days[day.Weekday()] {
			// On a later day lt is its midnight: a window that opens at
			// midnight opens then, not at t.
			if lt.Before(open) || i > 0 && lt.Before(shut) {
				return open
			}
			if lt.Before(shut) {
				return t
			}
		}
		lt = time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, h.loc)
	}
	return t // no open day at all: ParseHours refuses that; be safe
}

// Always reports whether no business hours are set: always open.
func (h Hours) Always() bool { return !h.set }

// String writes the hours as ParseHours reads them.
func (h Hours) String() string {
	if !h.set {
		return "always"
	}
	var days []string
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if h.days[d] {
			days = append(days, d.String()[:3])
		}
	}
	return fmt.Sprintf("%s %02d:%02d-%02d:%02d %s", strings.Join(days, ","), h.open/60, h.open%60, h.shut/60, h.shut%60, h.loc)
}

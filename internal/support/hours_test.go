package support

import (
	"testing"
	"time"
)

func TestBusinessHours(t *testing.T) {
	h, err := ParseHours("Mon-Fri 09:00-18:00 Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ in, want string }{
		{"2026-12-04 10:00", "2026-12-04 10:00"}, // Friday, open
		{"2026-12-04 18:05", "2026-12-07 09:00"}, // Friday after closing → Monday
		{"2026-12-05 12:00", "2026-12-07 09:00"}, // Saturday
		{"2026-12-07 07:30", "2026-12-07 09:00"}, // Monday before opening
		{"2026-12-07 17:59", "2026-12-07 17:59"},
		{"2026-03-28 20:00", "2026-03-30 09:00"}, // across the switch to summer time
	} {
		if got := h.Next(at(c.in)); !got.Equal(at(c.want)) {
			t.Errorf("Next(%s) = %s, want %s", c.in, got.In(berlin).Format("Mon 2006-01-02 15:04"), c.want)
		}
	}
	// A window that opens at midnight: after it closed, the next opening
	// is the next midnight, not the time asked about (the bug that let a
	// reminder through between 22:00 and 23:00 UTC).
	night, err := ParseHours("Mon-Sun 00:00-00:59 Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want string }{
		{"2026-12-04 22:03", "2026-12-05 00:00"},
		{"2026-12-04 00:30", "2026-12-04 00:30"},
		{"2026-12-04 00:59", "2026-12-05 00:00"},
	} {
		if got := night.Next(at(c.in)); !got.Equal(at(c.want)) {
			t.Errorf("midnight window: Next(%s) = %s, want %s", c.in, got.In(berlin).Format("Mon 2006-01-02 15:04"), c.want)
		}
	}
	weekend, _ := ParseHours("Sat,Sun 00:00-06:00 Europe/Berlin")
	if got, want := weekend.Next(at("2026-12-04 12:00")), at("2026-12-05 00:00"); !got.Equal(want) {
		t.Errorf("Friday noon, weekend nights: Next = %s, want Saturday 00:00", got.In(berlin).Format("Mon 2006-01-02 15:04"))
	}
	if always, _ := ParseHours(""); !always.Next(at("2026-12-05 03:00")).Equal(at("2026-12-05 03:00")) {
		t.Error("no hours: always open")
	}
	for _, bad := range []string{"Mon-Fri", "Mon-Fri 18:00-09:00", "Mon-Fry 09:00-18:00", "Mon-Fri 09:00-18:00 Mars/Olympus", "Mon-Fri 9-5 UTC"} {
		if _, err := ParseHours(bad); err == nil {
			t.Errorf("ParseHours(%q) accepted", bad)
		}
	}
	if h, _ := ParseHours("Sat,Sun 10:00-14:00"); h.String() != "Sat,Sun 10:00-14:00 UTC" {
		t.Errorf("String() = %q", h.String())
	}
}

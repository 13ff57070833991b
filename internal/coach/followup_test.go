package coach

import (
	"strings"
	"testing"
	"time"
)

func TestReminderWordingEscalates(t *testing.T) {
	a, b, c := ReminderText(1, 10*time.Minute), ReminderText(2, 20*time.Minute), ReminderText(3, 3*time.Hour)
	if !strings.Contains(a, "10 min") || !strings.Contains(b, "20 min") || !strings.Contains(c, "3 h") {
		t.Errorf("durations missing: %q / %q / %q", a, b, c)
	}
	if a == b || b == c || !strings.Contains(c, "hand it on") {
		t.Errorf("wording does not escalate: %q / %q / %q", a, b, c)
	}
	if !strings.Contains(FollowupText("<@U1>"), "<@U1> is happy with the outcome") {
		t.Error(FollowupText("<@U1>"))
	}
}

package slackio

import (
	"strings"
	"testing"

	"empathybot/internal/support"
)

// The channel's week says how many customer messages were left unscored
// (a language the coach does not read), and says nothing of it when there
// were none.
func TestStatsTextCountsUnscored(t *testing.T) {
	st := support.ChannelStats{Channel: "C1", Days: 7, Counts: map[string]int{support.StatFrustrated: 2, support.StatUnscored: 3}}
	if got := statsText(st, 5); !strings.Contains(got, "Not scored: *3*") || !strings.Contains(got, "only English is scored") {
		t.Errorf("stats text lacks the unscored count:\n%s", got)
	}
	delete(st.Counts, support.StatUnscored)
	if got := statsText(st, 5); strings.Contains(got, "Not scored") {
		t.Errorf("stats text mentions unscored messages when there were none:\n%s", got)
	}
}

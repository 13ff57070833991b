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

// An agent's own load is compared with the team's median only in a team of
// five or more, and the team's figures for leads likewise.
func TestLoadTextsNeedAFiveAgentTeam(t *testing.T) {
	mine := support.Load{Sum: 2.4, Threads: 5, Hostile: 3}
	team := map[string]support.Load{"U1": mine, "U2": {Sum: 0.2, Threads: 1}, "U3": {Sum: 0.3, Threads: 1}, "U4": {}}
	if got := loadText(mine, team); strings.Contains(got, "median") || !strings.Contains(got, "Tense threads: *5*") {
		t.Errorf("four agents:\n%s", got)
	}
	if got := teamLoadText(team); !strings.Contains(got, "teams of 5 or more") || strings.Contains(got, "*7*") {
		t.Errorf("four agents, the team's figures:\n%s", got)
	}
	team["U5"] = support.Load{Sum: 0.1, Threads: 1}
	if got := loadText(mine, team); !strings.Contains(got, "heavier than the team's median (0.2)") {
		t.Errorf("five agents, a heavy load:\n%s", got)
	}
	if got := loadText(support.Load{}, team); !strings.Contains(got, "No tense threads") || !strings.Contains(got, "about the team's median") {
		t.Errorf("five agents, no load:\n%s", got)
	}
	if got := teamLoadText(team); !strings.Contains(got, "(5 agents): tense threads *8* · messages with swearing *3* · median tense load *0.2*") {
		t.Errorf("five agents, the team's figures:\n%s", got)
	}
}

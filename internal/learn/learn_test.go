package learn

import (
	"strings"
	"testing"

	"empathybot/internal/coach"
)

// Sources reads every comma-separated path of a source, leaves out a
// source with no path, and refuses a source with no weight.
func TestSources(t *testing.T) {
	w, err := ParseWeights("goemotions=1, twcs=20")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Sources(map[string]string{"goemotions": "a.tsv", "twcs": "x.jsonl,y.jsonl", "slack": ""}, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 3 || s[0].Name != "goemotions" || s[0].Support || s[1].Path != "x.jsonl" || s[2].Path != "y.jsonl" || !s[2].Support || s[2].Weight != 20 {
		t.Errorf("sources: %+v", s)
	}
	if _, err := Sources(map[string]string{"slack": "s.jsonl"}, w); err == nil || !strings.Contains(err.Error(), "slack") {
		t.Errorf("a source with no weight: err = %v", err)
	}
	for _, bad := range []string{"twcs", "twcs=x", "twcs=-1"} {
		if _, err := ParseWeights(bad); err == nil {
			t.Errorf("ParseWeights(%q) took it", bad)
		}
	}
}

// The standard sources are the five the model learns from, and the
// default weights name each of them.
func TestStandardSources(t *testing.T) {
	names := map[string]bool{}
	for _, s := range StandardSources() {
		names[s.Name] = true
	}
	for _, n := range []string{"goemotions", "support", "twcs", "slack", "tweeteval"} {
		if !names[n] {
			t.Errorf("no standard source %s", n)
		}
	}
}

// CountAt applies the coach's own rule: a score at the threshold with
// evidence to quote; unscored messages and ones with nothing to quote are
// never flagged.
func TestCountAt(t *testing.T) {
	cue := []coach.Cue{{Kind: coach.Waiting, Evidence: "2 days"}}
	as := []coach.Assessment{
		{Score: 0.9, Language: "en", Cues: cue}, // right
		{Score: 0.8, Language: "en", Cues: cue}, // false alarm
		{Score: 0.9, Language: "en"},            // nothing to quote: not flagged, missed
		{Score: 0.3, Language: "en", Cues: cue}, // missed
		{Language: "de"},                        // unscored, calm
	}
	labels := []bool{true, false, true, true, false}
	c := CountAt(as, labels, 0.65)
	if c.TP != 1 || c.FP != 1 || c.FN != 2 || c.N != 5 || c.Unscored != 1 || c.NoCue != 0 {
		t.Errorf("counts %+v", c)
	}
	if c.Precision() != 0.5 || c.Recall() != 1.0/3 || c.Flagged() != 0.4 {
		t.Errorf("precision %v recall %v flagged %v", c.Precision(), c.Recall(), c.Flagged())
	}
	if z := CountAt(nil, nil, 0.5); z.Precision() != 0 || z.Flagged() != 0 {
		t.Errorf("empty: %+v", z)
	}
}

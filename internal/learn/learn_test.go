package learn

import (
	"strings"
	"testing"
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

package coach

import (
	"strings"
	"testing"
)

// techniques are the ones shared/EMPATHY.md names; every tip must use one.
var techniques = map[string]bool{
	"acknowledge the feeling first": true, "active listening": true, "open questions": true,
	"positive language": true, "take ownership": true, "accuracy over speed": true,
	"concrete next step": true, "acknowledge the impact": true, "let them vent, then steer": true,
	"respect without bias": true, "follow up after the fix": true, "sincerity over scripts": true,
}

func TestCatalogueCoversEveryCueKind(t *testing.T) {
	c := Default()
	for _, k := range CueKinds {
		tips := c.Tips(k)
		if len(tips) < 3 {
			t.Errorf("%s: %d tips, want at least 3", k, len(tips))
		}
		seen := map[string]bool{}
		for _, tip := range tips {
			seen[tip.Technique] = true
		}
		if len(seen) < 2 {
			t.Errorf("%s: tips use only %v; want more than one technique", k, seen)
		}
	}
	if len(c.Tips("")) == 0 {
		t.Error("no general tips")
	}
	for _, tip := range c.AllTips() {
		if !techniques[tip.Technique] {
			t.Errorf("tip %s: technique %q is not one of EMPATHY.md's", tip.ID, tip.Technique)
		}
		if tip.Why == "" || tip.Example == "" || tip.Title == "" {
			t.Errorf("tip %s lacks a title, why or example", tip.ID)
		}
	}
}

func TestSuggestQuotesTheEvidence(t *testing.T) {
	a := Assess("This is the third time I'm asking about my invoice")
	s := Default().Suggest(a, nil)
	if s.Cue.Kind != RepeatedContact {
		t.Fatalf("suggestion answers %q, want repeated_contact", s.Cue.Kind)
	}
	if !strings.Contains(s.Opening, "third time") {
		t.Errorf("opening %q does not use the evidence %q", s.Opening, "third time")
	}
	if strings.Contains(s.Opening, "{evidence}") {
		t.Errorf("opening still has the placeholder: %q", s.Opening)
	}
}

func TestSuggestAvoidsRecentTips(t *testing.T) {
	c := Default()
	a := Assess("I've been waiting two days for an answer")
	first := c.Suggest(a, nil)
	second := c.Suggest(a, []string{first.Tip.ID})
	if second.Tip.ID == first.Tip.ID {
		t.Errorf("recently shown tip %s suggested again", first.Tip.ID)
	}
	// With every fitting tip shown, the one shown longest ago comes back.
	var all []string
	for _, tip := range c.Tips(Waiting) {
		all = append([]string{tip.ID}, all...) // most recent first
	}
	third := c.Suggest(a, all)
	if third.Tip.ID != all[len(all)-1] {
		t.Errorf("all shown: got %s, want the oldest %s", third.Tip.ID, all[len(all)-1])
	}
}

func TestOpeningNeverRepeatsSwearingOrShouting(t *testing.T) {
	for _, text := range []string{"this is fucking broken", "WHERE IS MY MONEY", "f**k this"} {
		a := Assess(text)
		s := Default().Suggest(a, nil)
		low := strings.ToLower(s.Opening)
		for _, w := range []string{"fuck", "f**k", "where is my money"} {
			if strings.Contains(low, w) {
				t.Errorf("opening for %q repeats %q: %s", text, w, s.Opening)
			}
		}
	}
}

func TestFrustratedWithoutCuesGetsAGeneralTip(t *testing.T) {
	s := Default().Suggest(Assessment{Score: 0.9, Frustrated: true}, nil)
	if len(s.Tip.Cues) != 0 || s.Opening == "" {
		t.Errorf("want a general tip with an opening, got %+v", s)
	}
}

// A message can read as frustrated with no cue to name (its words alone tip
// the score); the coaching then starts where empathy starts, with the feeling.
func TestSuggestWithoutACueAcknowledgesFirst(t *testing.T) {
	s := Default().Suggest(Assessment{Score: 0.8, Frustrated: true}, nil)
	if s.Tip.Technique != "acknowledge the feeling first" || s.Cue.Kind != "" {
		t.Errorf("no cue: got %q (%s), cue %q; want the general acknowledgement", s.Tip.Technique, s.Tip.ID, s.Cue.Kind)
	}
	if strings.Contains(s.Opening, "{evidence}") || strings.Contains(s.Opening, `("")`) {
		t.Errorf("opening %q has an empty quote", s.Opening)
	}
}

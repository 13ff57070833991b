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

// Openings an agent could send as is (issue 15): the customer's wait woven
// into the sentence, never their words pasted in parentheses, their
// capitals, swearing or emoji; a price or an interval is never a wait.
func TestOpeningsCanBeSentAsIs(t *testing.T) {
	c := Default()
	for _, tt := range []struct {
		text     string
		want     string // in the opening of the tip first chosen for the primary cue
		notInAny []string
	}{
		{"I've been waiting 3 days and nobody has answered", "waiting 3 days for an answer", nil},
		{"Still no response since Monday. This is getting ridiculous.", "since Monday", nil},
		{"We are on $4,000 a month and still waiting, nobody has answered", "far too long", []string{"a month", "4,000"}},
		{"it logs us out every 10 minutes and nobody has replied, this is ridiculous", "far too long", []string{"10 minutes"}},
		{"This is the THIRD time 😡 ugh, what the f**k", "", []string{"THIRD", "😡", "f**k"}},
		{"per my last message, the export is STILL BROKEN :rage:", "", []string{"STILL", ":rage:", "per my last"}},
	} {
		a := c.Assess(tt.text)
		if !a.Frustrated {
			t.Errorf("Assess(%q) not frustrated (%.3f %v); the test needs a frustrated message", tt.text, a.Score, kinds(a))
			continue
		}
		first := c.Suggest(a, nil)
		if tt.want != "" && !strings.Contains(first.Opening, tt.want) {
			t.Errorf("Assess(%q): opening %q, want %q in it", tt.text, first.Opening, tt.want)
		}
		// Every tip the coach may rotate to for this message.
		var recent []string
		for range 8 {
			s := c.Suggest(a, recent)
			recent = append([]string{s.Tip.ID}, recent...)
			if strings.ContainsAny(s.Opening, "(){}\"") {
				t.Errorf("Assess(%q): opening %q pastes or leaves a placeholder", tt.text, s.Opening)
			}
			for _, bad := range tt.notInAny {
				if strings.Contains(s.Opening, bad) {
					t.Errorf("Assess(%q): opening %q repeats %q", tt.text, s.Opening, bad)
				}
			}
		}
	}
	// A customer who says they are not angry is not told they are frustrated.
	if a := c.Assess("Not angry, just confused — the invoice shows 30 seats and we only have 22."); a.Frustrated {
		t.Errorf("\"not angry, just confused\" read as frustrated: %.3f %v", a.Score, kinds(a))
	}
}

// Every tip's example is a sentence with no placeholder but {wait|…}.
func TestTipExamplesHaveNoPastedEvidence(t *testing.T) {
	for _, tip := range Default().AllTips() {
		ex := tip.Example
		if i := strings.Index(ex, "{wait|"); i >= 0 {
			ex = ex[:i] + ex[i+strings.IndexByte(ex[i:], '}')+1:]
		}
		if strings.ContainsAny(ex, "{}()") {
			t.Errorf("tip %s: example %q has a placeholder or parentheses", tip.ID, tip.Example)
		}
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

// Issue 22: "third outage" is a problem that keeps coming back, not a
// customer who had to ask again; the tip and the reply review say so.
func TestRecurrenceIsNotAChase(t *testing.T) {
	c := Default()
	for _, tt := range []struct {
		text, tip string
	}{
		{"This is the third outage this month and nobody told us", "recur"},
		{"We have had another outage today, this is ridiculous.", "recur"},
		{"This is the third time I'm asking about my refund.", "repeat"},
		{"This is the third time I'm asking about this. You said it would be fixed by Friday and it's still broken.", "repeat"},
	} {
		s := c.Suggest(c.Assess(tt.text), nil)
		if !strings.Contains(s.Tip.ID, tt.tip) {
			t.Errorf("%q: tip %s (%q), want a %s tip", tt.text, s.Tip.ID, s.Opening, tt.tip)
		}
		if tt.tip == "recur" && strings.Contains(s.Opening, "raise it") {
			t.Errorf("%q: opening %q speaks of a chase", tt.text, s.Opening)
		}
	}
}

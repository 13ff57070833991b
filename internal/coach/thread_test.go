package coach

import "testing"

// A customer who escalates across messages scores higher than the same
// line alone, with the trajectory as a cue over the words that show it; a
// message with no cue gains nothing.
func TestTrajectoryRaisesAnEscalatingCustomer(t *testing.T) {
	c := Default()
	line := "still nothing?"
	alone := c.Assess(line)
	after := c.InThread(alone, Earlier{Unanswered: 1, Frustrated: true})
	if again := c.InThread(alone, Earlier{}); again.Score != alone.Score || len(again.Cues) != len(alone.Cues) {
		t.Errorf("no earlier message: %+v, want the message's own assessment %+v", again, alone)
	}
	if after.Score <= alone.Score {
		t.Errorf("%q after an unanswered frustrated message: %.3f, alone %.3f; want higher", line, after.Score, alone.Score)
	}
	if !after.Frustrated || !after.Has(Trajectory) {
		t.Errorf("%q after an unanswered frustrated message: frustrated %v, cues %v; want frustrated with a trajectory cue", line, after.Frustrated, kinds(after))
	}
	for _, cue := range after.Cues {
		if line[cue.Start:cue.End] != cue.Evidence {
			t.Errorf("cue %v: evidence is not the input span", cue)
		}
	}
	if a := c.InThread(c.Assess("thanks!"), Earlier{Unanswered: 2, Frustrated: true}); a.Frustrated || a.Has(Trajectory) {
		t.Errorf("\"thanks!\" after silence: %.3f %v; want calm with no trajectory", a.Score, kinds(a))
	}
	// A second calm problem report is a topic, not an emotion: no trajectory.
	if a := c.InThread(c.Assess("also, the import fails with error 500"), Earlier{Unanswered: 1, Frustrated: true}); a.Frustrated || a.Has(Trajectory) {
		t.Errorf("a calm failure after silence: %.3f %v; want no trajectory and no verdict", a.Score, kinds(a))
	}
	if alone.Has(Trajectory) || len(after.Cues) != len(alone.Cues)+1 {
		t.Errorf("InThread changed the assessment it was given: %v", kinds(alone))
	}
	if s := c.Suggest(after, nil); s.Cue.Kind != Trajectory || s.Opening == "" {
		t.Errorf("suggestion for a trajectory: %+v", s)
	}
}

// A message in a language the coach does not read is unscored, never given
// a random score; English stays English.
func TestOtherLanguagesAreUnscored(t *testing.T) {
	for _, tt := range []struct{ text, lang string }{
		{"Hola, la exportación no funciona desde ayer y nadie nos responde. Es muy frustrante.", "es"},
		{"Das Dashboard funktioniert schon wieder nicht, wir warten seit drei Tagen auf eine Antwort.", "de"},
		{"Bonjour, l'export ne marche toujours pas et personne ne nous répond.", "fr"},
		{"This is the third time I'm asking about my refund. Nobody has answered.", "en"},
		{"IIRC the AMD build uses CIDER", "en"},
		{"ok", "en"},
	} {
		a := Assess(tt.text)
		if a.Language != tt.lang {
			t.Errorf("Assess(%q).Language = %q, want %q", tt.text, a.Language, tt.lang)
		}
		if tt.lang != "en" && (!a.Unscored() || a.Frustrated || a.Score != 0 || len(a.Cues) != 0) {
			t.Errorf("Assess(%q) = %+v; want unscored", tt.text, a)
		}
		if tt.lang == "en" && a.Unscored() {
			t.Errorf("Assess(%q) unscored", tt.text)
		}
	}
}

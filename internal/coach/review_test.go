package coach

import (
	"slices"
	"strings"
	"testing"
)

func findingKinds(fs []Finding) []FindingKind {
	var out []FindingKind
	for _, f := range fs {
		out = append(out, f.Kind)
	}
	return out
}

func TestReview(t *testing.T) {
	angry := Assess("This is the third time I'm asking and nobody has answered. Ridiculous.")
	calm := Assess("How do I export my data?")
	if !angry.Frustrated || calm.Frustrated {
		t.Fatalf("fixtures: angry %.2f calm %.2f", angry.Score, calm.Score)
	}
	tests := []struct {
		name     string
		reply    string
		customer Assessment
		want     []FindingKind // exactly these, in order of importance
	}{
		{"good reply", "I can see you've had to chase this three times — that's not okay. I've escalated it to billing myself and I'll update you by 3pm today.", angry, nil},
		{"good answer to a calm question", "Sure! Go to Settings → Export and pick CSV.", calm, nil},
		{"scripted apology, no ack, no step", "We apologise for any inconvenience caused.", angry, []FindingKind{ScriptedApology, NoAcknowledgment, NoNextStep}},
		{"calm down", "Please calm down, I'll look into it now.", angry, []FindingKind{Dismissive, NoAcknowledgment}},
		{"as I said", "As I said, the refund takes 5 days. I understand it's annoying, I'll check on it today.", angry, []FindingKind{Dismissive}},
		{"blame", "I understand. You should have updated the app first; here is the link.", angry, []FindingKind{Blame}},
		{"policy-speak", "I hear you. As per our policy refunds take 30 days, I'll send the form now.", angry, []FindingKind{PolicySpeak}},
		{"negative phrasing without an alternative", "I understand the frustration. Unfortunately we cannot change the plan today.", angry, []FindingKind{NegativePhrasing}},
		{"negative phrasing with an alternative", "I understand the frustration. We can't change the plan mid-cycle, but what I can do is credit this month today.", angry, nil},
		{"empathy with no next step", "I completely understand how frustrating that must be, that's not ok.", angry, []FindingKind{NoNextStep}},
		// Contractions match with or without the apostrophe ("that's" is "thats").
		{"acknowledgement in a contraction", "That's frustrating. I'll fix it by 3pm today.", angry, nil},
		{"dismissive in a contraction", "It's not a big deal, I'll fix it by 3pm today.", angry, []FindingKind{Dismissive, NoAcknowledgment}},
		// Issue 22: a warm apology in an otherwise excellent reply is no
		// script, and blame that points at the customer's side is blame.
		{"a warm apology in a good reply", "I'm so sorry — the export has been failing since Tuesday because of a bug on our side. I've fixed it and re-run your job; I'll confirm by 3pm.", angry, nil},
		{"blame: not on our side", "I understand. The problem is not on our side, please read the documentation. I'll send the link now.", angry, []FindingKind{Blame}},
		{"over-apology", "Sorry! I'm sorry, so sorry about this, apologies. I'll fix it now, I understand.", angry, []FindingKind{OverApology}},
	}
	// A scripted apology's rewrite acknowledges what this customer went
	// through, not a chase nobody made.
	waited := Assess("We have been waiting for two days for an answer, this is unacceptable")
	for _, f := range Default().Review("We apologise for any inconvenience. I'll fix it by 3pm.", waited) {
		if f.Kind == ScriptedApology && (strings.Contains(f.Suggestion, "chase") || !strings.Contains(f.Suggestion, "waiting")) {
			t.Errorf("rewrite for a customer who waited: %q", f.Suggestion)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Default().Review(tt.reply, tt.customer)
			if !slices.Equal(findingKinds(got), tt.want) {
				t.Errorf("Review(%q) = %v, want %v", tt.reply, findingKinds(got), tt.want)
			}
			for _, f := range got {
				if f.Suggestion == "" || !techniques[f.Technique] {
					t.Errorf("finding %s: suggestion %q technique %q", f.Kind, f.Suggestion, f.Technique)
				}
				if f.Evidence != "" && strings.Join(strings.Fields(tt.reply[f.Start:f.End]), " ") != f.Evidence {
					t.Errorf("finding %s: evidence %q is not reply[%d:%d]", f.Kind, f.Evidence, f.Start, f.End)
				}
			}
		})
	}
}

// Reply review in context (issue 15): a promise kept is not dismissive,
// "once things calm down on our side" tells no one to calm down, an SLA
// quoted is policy-speak, and acknowledgement is suggested only when the
// customer was frustrated.
func TestReviewReadsPhrasesInContext(t *testing.T) {
	c := Default()
	upset := c.Assess("This is the third time I'm asking, this is ridiculous")
	if !upset.Frustrated {
		t.Fatalf("test message not frustrated: %.3f", upset.Score)
	}
	calm := c.Assess("How do I add a teammate?")
	has := func(fs []Finding, k FindingKind) bool {
		for _, f := range fs {
			if f.Kind == k {
				return true
			}
		}
		return false
	}
	if fs := c.Review("As I said I would, I've restarted the export and it finished at 10:02.", upset); has(fs, Dismissive) {
		t.Errorf("a promise kept read as dismissive: %+v", fs)
	}
	if fs := c.Review("I'll look at the logs once things calm down on our side this afternoon.", calm); has(fs, Dismissive) {
		t.Errorf("\"once things calm down on our side\" read as dismissive: %+v", fs)
	}
	if fs := c.Review("Calm down, we are looking at it.", upset); !has(fs, Dismissive) {
		t.Errorf("\"calm down\" not caught: %+v", fs)
	}
	if fs := c.Review("Per our SLA we respond within 24 hours.", upset); !has(fs, PolicySpeak) {
		t.Errorf("\"per our SLA\" not read as policy-speak: %+v", fs)
	}
	if fs := c.Review("Here are the steps to add a teammate.", calm); has(fs, NoAcknowledgment) {
		t.Errorf("acknowledgement suggested to a calm customer: %+v", fs)
	}
	if fs := c.Review("Here is the fix.", upset); !has(fs, NoAcknowledgment) {
		t.Errorf("no acknowledgement suggested to a frustrated customer: %+v", fs)
	}
}

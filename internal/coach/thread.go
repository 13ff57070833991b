package coach

import "math"

// Trajectory is the cue kind of a customer who escalates across messages:
// they wrote before and nobody has answered since.
const Trajectory CueKind = "trajectory"

// Earlier is what the thread says about the customer's earlier messages,
// for [Coach.InThread]. It holds no text: the bot keeps none.
type Earlier struct {
	// Unanswered counts the customer's earlier messages in the thread that
	// no agent has answered yet (0 when an agent replied after the last).
	Unanswered int
	// Frustrated reports whether the last of them was frustrated.
	Frustrated bool
}

// Weights of the trajectory cue, in log-odds: each unanswered earlier
// message (at most two count), and one more when the last was frustrated.
// Set by hand, not learned: no training set has threads. At 0.7 and 0.5 a
// calm cue of 0.5 ("still no update" alone) after one unanswered frustrated
// message crosses 0.60, and "thanks!" after silence stays calm (no cue).
const (
	trajectoryPerMessage = 0.7
	trajectoryFrustrated = 0.5
)

// InThread weighs the thread into a, the assessment of a message: a
// customer who already wrote without an answer and writes again with a cue
// of an emotion kind, even a weak one ("again?", "2 days"), is escalating.
// The trajectory is a cue of its own, over the same words as that cue, with
// its weight, so every nudge still says why; it counts as evidence. A
// message with no such cue gains nothing: "thanks!" after a silence is not
// frustration, and neither is a second calm problem report ("the import
// fails too"), since a failure is a topic, not an emotion. An unscored
// message stays unscored. The message is assessed once, whatever threads
// it is read in: a is not changed.
func (c *Coach) InThread(a Assessment, e Earlier) Assessment {
	if e.Unanswered <= 0 || a.Unscored() {
		return a
	}
	var emotional Assessment
	for _, cue := range a.Cues {
		if evidenceKinds[cue.Kind] {
			emotional.Cues = append(emotional.Cues, cue)
		}
	}
	primary, ok := emotional.Primary()
	if !ok {
		return a
	}
	w := trajectoryPerMessage * float64(min(e.Unanswered, 2))
	if e.Frustrated {
		w += trajectoryFrustrated
	}
	z := logit(a.Score) + w
	a.Score = sigmoid(z)
	cue := Cue{Kind: Trajectory, Evidence: primary.Evidence, Start: primary.Start, End: primary.End, Weight: w}
	cues := make([]Cue, 0, len(a.Cues)+1)
	cues = append(cues, cue)
	cues = append(cues, a.Cues...)
	a.Cues = cues
	a.Frustrated = a.FrustratedAt(c.Threshold)
	return a
}

func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-12), 1-1e-12)
	return math.Log(p / (1 - p))
}

// Verdict says in a few words what the coach makes of a, and why there is no
// nudge when there is none, for people (`bot analyze`, `/empathy analyze`).
func (c *Coach) Verdict(a Assessment) string {
	switch {
	case a.Unscored():
		return "written in " + a.Language + ", which the coach does not read: not scored, no nudge"
	case a.Frustrated:
		return "frustrated"
	case a.Score >= c.Threshold:
		return "no nudge: nothing in it weighs enough to quote as the reason"
	}
	return "calm: no nudge"
}

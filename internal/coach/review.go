package coach

import (
	"fmt"
	"strings"
)

// FindingKind names one kind of problem in an agent's reply.
type FindingKind string

// The findings Review can report.
const (
	ScriptedApology  FindingKind = "scripted_apology"
	OverApology      FindingKind = "over_apology"
	Dismissive       FindingKind = "dismissive"
	Blame            FindingKind = "blame"
	PolicySpeak      FindingKind = "policy_speak"
	NegativePhrasing FindingKind = "negative_phrasing"
	NoAcknowledgment FindingKind = "no_acknowledgement"
	NoNextStep       FindingKind = "no_next_step"
)

// Finding is one thing worth improving in a reply, with the words that show it
// (empty for something missing) and a concrete rewrite.
type Finding struct {
	Kind      FindingKind
	Evidence  string
	Start     int
	End       int
	Technique string
	// Suggestion is a concrete rewrite or addition, in the agent's voice.
	Suggestion string
}

var reviewFiles = []listFile{
	{kind: CueKind(ScriptedApology), file: "review_scripted.txt"},
	{kind: CueKind(Dismissive), file: "review_dismissive.txt"},
	{kind: CueKind(Blame), file: "review_blame.txt"},
	{kind: CueKind(PolicySpeak), file: "review_policy.txt"},
	{kind: CueKind(NegativePhrasing), file: "review_negative.txt"},
	{kind: "alternative", file: "review_alternative.txt"},
	{kind: "ack", file: "review_ack.txt"},
	{kind: "next", file: "review_next.txt"},
	{kind: "apology", file: "review_apology.txt"},
	{kind: "neutral", file: "review_neutral.txt"},
}

// findingOrder is the order of importance: the first finding is the one worth
// saying when only one can be said.
var findingOrder = []FindingKind{
	Dismissive, Blame, ScriptedApology, PolicySpeak, NegativePhrasing, NoAcknowledgment, NoNextStep, OverApology,
}

// Acknowledges reports whether a reply whose review found findings
// acknowledged the customer's feeling: no NoAcknowledgment among them (the
// review asks for it when the customer was frustrated).
func Acknowledges(findings []Finding) bool {
	for _, f := range findings {
		if f.Kind == NoAcknowledgment {
			return false
		}
	}
	return true
}

// Review reads an agent's reply (sent or draft) to a customer whose message was
// assessed as customer, and returns what is worth improving, most important
// first. A reply that acknowledges the feeling specifically and gives a next
// step gets no findings. Acknowledgement is only required when the customer was
// frustrated.
func (c *Coach) Review(reply string, customer Assessment) []Finding {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	c.review.scan(s, reply)

	var found []Finding
	first := map[CueKind]match{}
	count := map[CueKind]int{}
	for _, m := range s.matches {
		kind := c.review.phrases[m.pid].kind
		if _, ok := first[kind]; !ok {
			first[kind] = m
		}
		count[kind]++
	}
	for i := range s.tokens {
		if isClockTime(s.word(reply, i)) {
			count["next"]++
		}
	}
	// A finding quotes the reply's words of the phrase, as written, and
	// nothing between them: a review waits in the durable queue, which
	// keeps no message text (markup between the words, an address, a
	// token in a URL). When the span holds other words than the phrase's,
	// it quotes the lexicon's own phrase.
	own := func(m match) string {
		p := c.review.phrases[m.pid]
		span := reply[m.start:m.end]
		var t scratch
		t.tokenize(span)
		if len(t.tokens) != len(p.words) {
			return p.text()
		}
		words := make([]string, len(t.tokens))
		for i, tok := range t.tokens {
			words[i] = span[tok.start:tok.end] // as written
			if digits(words[i]) > 4 {
				return p.text()
			}
		}
		return strings.Join(words, " ")
	}
	add := func(k FindingKind, m match, ok bool, technique, suggestion string) {
		f := Finding{Kind: k, Technique: technique, Suggestion: suggestion}
		if ok {
			f.Evidence, f.Start, f.End = own(m), int(m.start), int(m.end)
		}
		found = append(found, f)
	}
	ev := func(k FindingKind) (match, bool) { m, ok := first[CueKind(k)]; return m, ok }

	if m, ok := ev(Dismissive); ok {
		add(Dismissive, m, true, "let them vent, then steer",
			fmt.Sprintf("Drop %q: it tells them their feeling doesn't count. Acknowledge it instead: \"I can see why this is frustrating — let's sort it out.\"", own(m)))
	}
	if m, ok := ev(Blame); ok {
		add(Blame, m, true, "take ownership",
			fmt.Sprintf("Replace %q with what happens now: \"Here's how we'll get this working for you: …\". Fix the problem, not the person.", own(m)))
	}
	if m, ok := ev(ScriptedApology); ok {
		add(ScriptedApology, m, true, "sincerity over scripts",
			fmt.Sprintf("%q reads as a script. Name what went wrong instead: \"%s\"", own(m), acknowledgement(customer)))
	}
	if m, ok := ev(PolicySpeak); ok {
		add(PolicySpeak, m, true, "positive language",
			fmt.Sprintf("Instead of %q, say what you can do: \"What I can do is … and I'll have it done by …\".", own(m)))
	}
	if m, ok := ev(NegativePhrasing); ok && count["alternative"] == 0 {
		add(NegativePhrasing, m, true, "positive language",
			fmt.Sprintf("%q only says what can't be done. Add the alternative: \"What I can do instead is …\".", own(m)))
	}
	acked := count["ack"] > 0
	if customer.Frustrated && !acked {
		add(NoAcknowledgment, match{}, false, "acknowledge the feeling first",
			"Open by acknowledging how they feel and why, before the fix: \""+acknowledgement(customer)+"\"")
	}
	_, scripted := first[CueKind(ScriptedApology)]
	if (acked || count["apology"] > 0 || scripted) && count["next"] == 0 {
		add(NoNextStep, match{}, false, "concrete next step",
			"Follow the empathy with an action and a time: \"I'm looking into it now and I'll update you by 3pm.\" Empathy without a next step makes it worse.")
	}
	if n := count["apology"]; n >= 3 {
		m := first["apology"]
		add(OverApology, m, true, "sincerity over scripts",
			fmt.Sprintf("%d apologies in one reply reads as pity. Keep one specific apology and spend the rest on what you'll do.", n))
	}
	return sortFindings(found)
}

func sortFindings(fs []Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, k := range findingOrder {
		for _, f := range fs {
			if f.Kind == k {
				out = append(out, f)
			}
		}
	}
	return out
}

// isClockTime reports whether a normalised word is a time of day like "3pm" or "10am".
func isClockTime(w string) bool {
	if !strings.HasSuffix(w, "am") && !strings.HasSuffix(w, "pm") || len(w) < 3 {
		return false
	}
	for _, b := range []byte(w[:len(w)-2]) {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// acknowledgement is what a reply to customer could say to acknowledge
// what they went through: their own situation (a wait, a second ask, a
// broken promise), never one they did not have.
func acknowledgement(customer Assessment) string {
	if cue, ok := customer.Primary(); ok {
		return reviewOpening(cue, customer)
	}
	return "I can see why this has been so frustrating."
}

// reviewOpening is the acknowledgement a reply to a customer upset in the
// way cue shows could open with.
func reviewOpening(cue Cue, customer Assessment) string {
	switch cue.Kind {
	case Waiting, Trajectory:
		return opening("I'm sorry you've been waiting {wait|this long} for an answer.", waitOf(customer))
	case RepeatedContact:
		if recurring(cue.Evidence) {
			return "I know this isn't the first time this has happened to you, and I'm sorry."
		}
		return "I'm sorry you've had to raise this more than once."
	case BrokenPromise:
		return "You were told this would be done, and it wasn't. I'm sorry."
	case ChurnThreat:
		return "I understand this has you questioning whether we're the right fit, and I want to fix that."
	}
	return "I can see why this has been so frustrating."
}

package coach

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
)

//go:embed tips.txt
var tipsTXT string

// Tip is one empathy technique from the catalogue, tailored to some cue kinds.
type Tip struct {
	// ID names the tip; it is what callers pass back as "shown recently".
	ID string
	// Technique is the empathy technique the tip applies (see shared/EMPATHY.md).
	Technique string
	// Cues are the cue kinds the tip fits; empty for a general tip.
	Cues []CueKind
	// Title is the tip in a few words.
	Title string
	// Why is one line on why the technique helps.
	Why string
	// Example is an opening line; {evidence} stands for the customer's words.
	Example string
}

// Fits reports whether the tip is written for cue kind k.
func (t Tip) Fits(k CueKind) bool {
	for _, c := range t.Cues {
		if c == k {
			return true
		}
	}
	return false
}

func parseTips(txt string) ([]Tip, error) {
	var tips []Tip
	ids := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(txt))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, " | ")
		if len(f) != 6 {
			return nil, fmt.Errorf("tips line %d: want 6 fields separated by \" | \", got %d", n, len(f))
		}
		t := Tip{ID: f[0], Technique: f[1], Title: f[3], Why: f[4], Example: f[5]}
		if ids[t.ID] {
			return nil, fmt.Errorf("tips line %d: duplicate id %q", n, t.ID)
		}
		ids[t.ID] = true
		if f[2] != "*" {
			for _, k := range strings.Split(f[2], ",") {
				k := CueKind(strings.TrimSpace(k))
				if !ValidCueKind(k) && k != Recurring {
					return nil, fmt.Errorf("tips line %d: unknown cue kind %q", n, k)
				}
				t.Cues = append(t.Cues, k)
			}
		}
		tips = append(tips, t)
	}
	return tips, sc.Err()
}

// Tips returns the catalogue's tips for cue kind k, or the general tips when k is
// empty. Tips written first for k (k is their first cue kind) come first.
func (c *Coach) Tips(k CueKind) []Tip {
	var first, rest []Tip
	for _, t := range c.tips {
		switch {
		case k == "" && len(t.Cues) == 0:
			first = append(first, t)
		case k != "" && len(t.Cues) > 0 && t.Cues[0] == k:
			first = append(first, t)
		case k != "" && t.Fits(k):
			rest = append(rest, t)
		}
	}
	return append(first, rest...)
}

// TipByID returns the catalogue's tip id.
func (c *Coach) TipByID(id string) (Tip, bool) {
	for _, t := range c.tips {
		if t.ID == id {
			return t, true
		}
	}
	return Tip{}, false
}

// AllTips returns the whole catalogue.
func (c *Coach) AllTips() []Tip { return append([]Tip(nil), c.tips...) }

// Suggestion is the coaching for one frustrated message: the cue it answers,
// one technique, and an opening line written for the message.
type Suggestion struct {
	Cue     Cue // zero when the message is frustrated without a named cue
	Tip     Tip
	Opening string
}

// Recurring is the tips' name for a repeated-contact cue that says the
// problem keeps coming back ("third outage", "every single month") rather
// than that the customer had to ask again: the answer is the pattern, not
// an apology for a chase nobody made. It is never a cue kind of its own.
const Recurring CueKind = "recurring"

// recurringWords name a problem that comes back; a repeated-contact cue
// whose evidence holds one of them is about recurrence (see Recurring).
var recurringWords = map[string]bool{
	"outage": true, "outages": true, "incident": true, "incidents": true, "crash": true, "crashes": true,
	"failure": true, "failures": true, "breaks": true, "breaking": true, "broke": true, "broken": true,
	"down": true, "downtime": true, "happening": true, "happened": true, "happens": true,
	"day": true, "week": true, "month": true, "year": true, "release": true, "update": true,
}

// recurring reports whether the evidence of a repeated-contact cue is
// about the problem coming back rather than the customer asking again.
func recurring(evidence string) bool {
	for _, w := range normaliseWords(evidence) {
		if recurringWords[w] {
			return true
		}
	}
	return false
}

// Suggest picks the tip for an assessment's strongest cue, skipping the tip IDs in
// recent (most recent first) while another fits; when every fitting tip was shown
// recently it reuses the one shown longest ago. The opening line quotes the cue's
// evidence, except for profanity and shouting, which are never repeated back.
func (c *Coach) Suggest(a Assessment, recent []string) Suggestion {
	cue, _ := a.Primary()
	return c.suggest(cue, waitOf(a), recent)
}

func (c *Coach) suggest(cue Cue, wait string, recent []string) Suggestion {
	return c.suggestWith(cue, wait, "", recent)
}

// candidates are the tips that fit a cue: those of its kind, else the
// general ones.
func (c *Coach) candidates(cue Cue) []Tip {
	kind := cue.Kind
	if kind == RepeatedContact && recurring(cue.Evidence) {
		kind = Recurring
	}
	cands := c.Tips(kind)
	if len(cands) == 0 {
		cands = c.Tips("")
	}
	return cands
}

// Techniques lists, in the catalogue's order, the techniques of the tips
// that fit the cue a nudge is about: the choices a learner chooses among.
func (c *Coach) Techniques(b Basis) []string {
	var out []string
	for _, t := range c.candidates(Cue{Kind: b.Kind, Evidence: b.Quote}) {
		if !contains(out, t.Technique) {
			out = append(out, t.Technique)
		}
	}
	return out
}

// SuggestWith is SuggestFor with the technique chosen by the caller (a
// learner): the first tip of that technique not shown recently. An unknown
// technique, or "", leaves the choice to the catalogue's order.
func (c *Coach) SuggestWith(b Basis, technique string, recent []string) Suggestion {
	return c.suggestWith(Cue{Kind: b.Kind, Evidence: b.Quote}, b.Wait, technique, recent)
}

func (c *Coach) suggestWith(cue Cue, wait, technique string, recent []string) Suggestion {
	cands := c.candidates(cue)
	if technique != "" {
		var only []Tip
		for _, t := range cands {
			if t.Technique == technique {
				only = append(only, t)
			}
		}
		if len(only) > 0 {
			cands = only
		}
	}
	pick := -1
	for i, t := range cands {
		if !contains(recent, t.ID) {
			pick = i
			break
		}
	}
	if pick < 0 {
		// All shown recently: take the one shown longest ago.
		oldest := -1
		for i, t := range cands {
			if at := index(recent, t.ID); at > oldest {
				oldest, pick = at, i
			}
		}
	}
	tip := cands[pick]
	return Suggestion{Cue: cue, Tip: tip, Opening: opening(tip.Example, wait)}
}

// opening fills a tip's example for the cue: {wait|fallback} becomes how
// long the customer has waited, in their words made plain ("3 days",
// "since Monday"), or the fallback. The customer's words are never pasted
// in parentheses, shouted back or sworn back.
func opening(example, wait string) string {
	for {
		i := strings.Index(example, "{wait|")
		if i < 0 {
			break
		}
		j := strings.IndexByte(example[i:], '}')
		if j < 0 {
			break
		}
		fill := example[i+len("{wait|") : i+j]
		if wait != "" {
			fill = wait
		}
		example = example[:i] + fill + example[i+j+1:]
	}
	return example
}

// waitOf is how long the customer of a says they have waited (waitPhrase of
// the first waiting cue that names it), or "".
func waitOf(a Assessment) string {
	for _, c := range a.Cues {
		if w := waitPhrase(c, a.text); w != "" {
			return w
		}
	}
	return ""
}

// waitPhrase returns how long the customer says they have waited, from a
// waiting cue's evidence: a count and a unit ("3 days", "two weeks", "40
// minutes"), "for a week", or "since Monday", lower-cased; "" when the
// evidence is none of these. A rate or a price ("every 10 minutes", "$4,000
// a month") is no waiting cue in the first place (see scratch.record).
func waitPhrase(cue Cue, text string) string {
	if cue.Kind != Waiting || cue.Start < 0 || cue.End > len(text) || cue.Start > cue.End {
		return ""
	}
	ev := strings.ToLower(strings.Join(strings.Fields(strings.ToValidUTF8(cue.Evidence, "")), " "))
	before := strings.ToLower(strings.TrimRight(text[:cue.Start], " "))
	words := strings.Fields(ev)
	if len(words) < 2 {
		return ""
	}
	for _, w := range words {
		// A wait is a few digits at most ("40 minutes", "since 9am"): a
		// longer run is some other number of the customer's (a card, an
		// order), which the queue must not keep.
		if digits(w) > 4 {
			return ""
		}
	}
	switch {
	case words[0] == "since" && len(words) <= 3:
		for i, w := range words {
			if days[w] {
				words[i] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		return strings.Join(words, " ")
	case len(words) == 2 && (words[0] == "a" || words[0] == "an") && timeUnits[words[1]]:
		// "a month" is a wait only as "for a month": "a month ago" says when.
		if strings.HasSuffix(before, "for") {
			return ev
		}
		return ""
	case len(words) == 2 && isNumber(words[0]) && timeUnits[words[1]]:
		return ev
	}
	return ""
}

func digits(w string) int {
	n := 0
	for _, r := range w {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

var days = map[string]bool{"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true}

func contains(list []string, s string) bool { return index(list, s) >= 0 }

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// Explain says in plain words what cue shows, for people: its kind's
// description, or, for a weak cue, that it is only a weak sign.
func Explain(cue Cue) string {
	if cue.Weak {
		return "weak sign: " + Describe(cue.Kind) + ", maybe"
	}
	return Describe(cue.Kind)
}

// Describe returns a plain-words explanation of a cue kind, for people.
func Describe(k CueKind) string {
	switch k {
	case RepeatedContact:
		// "again" is as often the problem coming back ("slow again today") as
		// the customer having to: the words fit both.
		return "they have asked before, or it keeps happening"
	case Waiting:
		return "they have been waiting"
	case BrokenPromise:
		return "something they were promised didn't happen"
	case ChurnThreat:
		return "they are thinking of leaving"
	case Escalation:
		return "they want this escalated"
	case Shouting:
		return "they are shouting"
	case Profanity:
		return "they are swearing"
	case Sarcasm:
		return "they are being sarcastic"
	case NegativeEmotion:
		return "they say how bad this feels"
	case Urgency:
		return "it is urgent or costly for them"
	case Failure:
		return "something they rely on is broken"
	case Trajectory:
		return "they wrote before and are still waiting for an answer"
	case Tone:
		return "words that upset customers use, as the model learned them"
	}
	return "the overall tone is frustrated"
}

package support

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// A frustrated moment is a customer message at or above the threshold in
// a thread, followed until its outcome is known: whether it was nudged or
// held out, when an agent first replied and whether that reply
// acknowledged the feeling, and what the customer said next. It holds IDs,
// times, scores and kinds only: no text, and no agent.
//
// Outcomes, defined once here:
//   - de-escalated: the customer's next message after the agent's reply
//     (within AnswerWindow) scores under the threshold and at least
//     CalmerBy below the trigger;
//   - escalated: it scores at or above the trigger;
//   - unchanged: anything between;
//   - silent: the customer said nothing within AnswerWindow of the reply
//     (silence is not calm: counted apart);
//   - no reply: no agent replied within ReplyWindow of the trigger.
//
// A thread has one moment at a time. Once its outcome is known, a
// frustrated message within ReescalateWindow of the trigger marks it
// re-escalated (once); after that window, a frustrated message opens a new
// moment.
type Moment struct {
	TS          string  `json:"m"`           // the trigger message
	At          int64   `json:"a"`           // Unix ms of the trigger
	Score       float64 `json:"s"`           // the trigger's score
	Cue         string  `json:"k,omitempty"` // its cue kind ("" for the tone alone)
	Arm         string  `json:"arm"`         // ArmNudge or ArmHoldout
	Technique   string  `json:"tq,omitempty"`
	Prob        float64 `json:"p,omitempty"` // the probability the technique had of being chosen
	ReplyAt     int64   `json:"r,omitempty"` // the first agent reply after the trigger
	Ack         bool    `json:"ack,omitempty"`
	NextAt      int64   `json:"n,omitempty"` // the customer's next message after the reply
	NextScore   float64 `json:"ns,omitempty"`
	Result      string  `json:"res,omitempty"` // "" while open
	Reescalated bool    `json:"re,omitempty"`
	ResolvedAt  int64   `json:"rs,omitempty"`
	CheckinAt   int64   `json:"ci,omitempty"`
}

// Windows and margins of the outcome definitions.
const (
	ReplyWindow      = 24 * time.Hour
	AnswerWindow     = 24 * time.Hour
	ReescalateWindow = 72 * time.Hour
	CalmerBy         = 0.2
)

// Arms of the holdout.
const (
	ArmNudge   = "nudge"
	ArmHoldout = "holdout"
)

// Results of a moment.
const (
	ResultDeescalated = "deesc"
	ResultEscalated   = "esc"
	ResultUnchanged   = "same"
	ResultSilent      = "silent"
	ResultNoReply     = "noreply"
)

// Results lists the results in the order reports show them.
var Results = []string{ResultDeescalated, ResultUnchanged, ResultEscalated, ResultSilent, ResultNoReply}

// KindOutcome is the queue's check of a moment whose reply or answer
// window has run out.
const KindOutcome = "outcome"

// Classify is the outcome of a moment whose trigger scored trigger, when the
// customer's next message after the reply scores next.
func Classify(trigger, next, threshold float64) string {
	switch {
	case next >= trigger:
		return ResultEscalated
	case next < threshold && next <= trigger-CalmerBy+1e-9: // scores are kept to 3 places
		return ResultDeescalated
	}
	return ResultUnchanged
}

// Open reports whether the moment's outcome is not known yet.
func (m *Moment) Open() bool { return m.Result == "" }

// OnCustomer applies a customer message (its ts, when, its verdict) to the
// thread's moment m (nil: none). It returns the moment to keep (nil when
// there is none), whether anything changed, and what the message settles:
// the result of the moment it closes, or a re-escalation. arm assigns a
// new moment to an arm by its cue kind.
func OnCustomer(m *Moment, ts string, at time.Time, v Verdict, threshold float64, arm func(cue string) string) (*Moment, bool, []Tally) {
	ms := at.UnixMilli()
	if m != nil && m.TS == ts {
		return m, false, nil // the trigger itself, seen again
	}
	var settled []Tally
	if m != nil && m.Open() && m.ReplyAt > 0 && ms-m.ReplyAt > AnswerWindow.Milliseconds() {
		m.Result = ResultSilent // the check has not run (yet): the window closed in silence
		settled = append(settled, m.tally())
	}
	if m != nil && m.Open() && m.ReplyAt == 0 && ms-m.At > ReplyWindow.Milliseconds() {
		m.Result = ResultNoReply
		settled = append(settled, m.tally())
	}
	switch {
	case m != nil && m.Open() && m.ReplyAt > 0:
		m.NextAt, m.NextScore = ms, v.Score
		m.Result = Classify(m.Score, v.Score, threshold)
		return m, true, append(settled, m.tally())
	case m != nil && m.Open():
		return m, false, nil // the customer writes again before any reply: the trigger stands
	case m != nil && ms-m.At <= ReescalateWindow.Milliseconds():
		if v.Frustrated && !m.Reescalated && ms > m.NextAt {
			m.Reescalated = true
			settled = append(settled, Tally{Arm: m.Arm, Result: Reescalated, Cue: m.Cue, Technique: m.Technique})
		}
		return m, len(settled) > 0, settled
	case !v.Frustrated:
		return m, len(settled) > 0, settled
	}
	return &Moment{TS: ts, At: ms, Score: v.Score, Cue: v.Cue, Arm: arm(v.Cue)}, true, settled
}

// Reescalated is the tally of a frustrated message within
// ReescalateWindow of a settled moment's trigger.
const Reescalated = "reesc"

// OnReply applies an agent's reply: the first within ReplyWindow is the
// moment's reply. It reports whether m changed.
func OnReply(m *Moment, at time.Time, acknowledged bool) bool {
	ms := at.UnixMilli()
	if m == nil || !m.Open() || m.ReplyAt > 0 || ms < m.At || ms-m.At > ReplyWindow.Milliseconds() {
		return false
	}
	m.ReplyAt, m.Ack = ms, acknowledged
	return true
}

// Check settles a moment whose window ran out by now: no reply, or
// silence after the reply. next is when to check again (zero: no need).
func Check(m *Moment, now time.Time) (t *Tally, next time.Time) {
	if m == nil || !m.Open() {
		return nil, time.Time{}
	}
	ms := now.UnixMilli()
	switch {
	case m.ReplyAt == 0 && ms-m.At >= ReplyWindow.Milliseconds():
		m.Result = ResultNoReply
	case m.ReplyAt > 0 && ms-m.ReplyAt >= AnswerWindow.Milliseconds():
		m.Result = ResultSilent
	case m.ReplyAt > 0:
		return nil, time.UnixMilli(m.ReplyAt).Add(AnswerWindow)
	default:
		return nil, time.UnixMilli(m.At).Add(ReplyWindow)
	}
	x := m.tally()
	return &x, time.Time{}
}

func (m *Moment) tally() Tally {
	return Tally{Arm: m.Arm, Result: m.Result, Cue: m.Cue, Technique: m.Technique, Ack: m.ReplyAt > 0 && m.Ack}
}

// A Tally is one count a moment contributes to the channel's numbers: its
// result, or a re-escalation.
type Tally struct {
	Arm, Result, Cue, Technique string
	Ack                         bool // the reply acknowledged the feeling
}

// Fields are the stats fields the tally adds one to: by arm, by arm and
// cue kind, by technique (nudged moments), and by whether the reply
// acknowledged the feeling.
func (t Tally) Fields() []string {
	base := "oc:" + t.Arm + ":" + t.Result
	f := []string{base, base + ":cue:" + cueOrTone(t.Cue)}
	if t.Technique != "" {
		f = append(f, base+":tech:"+t.Technique)
	}
	if t.Result != Reescalated && t.Result != ResultNoReply {
		ack := "no"
		if t.Ack {
			ack = "yes"
		}
		f = append(f, base+":ack:"+ack)
	}
	return f
}

func cueOrTone(c string) string {
	if c == "" {
		return "tone"
	}
	return c
}

// Holdout assigns moments to arms: a keyed hash of the thread (and of the
// cue kind, so that each kind is split in the same proportion, independently
// of the others) below the fraction is held out. Without the key nobody can
// tell which threads are held out; the assignment is made once, when the
// moment opens, and recorded with it.
type Holdout struct {
	Fraction float64
	Key      []byte
}

// Arm is the arm of the thread's moment of cue kind cue.
func (h Holdout) Arm(channel, thread, cue string) string {
	if h.Fraction <= 0 {
		return ArmNudge
	}
	mac := hmac.New(sha256.New, h.Key)
	mac.Write([]byte(channel + "\x00" + thread + "\x00" + cueOrTone(cue)))
	u := float64(binary.BigEndian.Uint64(mac.Sum(nil))>>11) / (1 << 53)
	if u < h.Fraction {
		return ArmHoldout
	}
	return ArmNudge
}

// Learned reports whether the tally teaches the learner something: a
// nudged moment with a technique that the customer answered, or that met
// silence (silence is not calm). A moment nobody replied to says nothing
// about the technique.
func (t Tally) Learned() (win, ok bool) {
	if t.Arm != ArmNudge || t.Technique == "" {
		return false, false
	}
	switch t.Result {
	case ResultDeescalated:
		return true, true
	case ResultUnchanged, ResultEscalated, ResultSilent:
		return false, true
	}
	return false, false
}

// LearnField is the stats field (of LearnChannel) a learned tally adds one
// to: by cue kind and technique, won or lost.
func LearnField(cue, technique string, win bool) string {
	w := "loss"
	if win {
		w = "win"
	}
	return "learn:" + cueOrTone(cue) + ":" + technique + ":" + w
}

// LearnChannel is the stats "channel" the learner's counts are kept under:
// the whole workspace learns together.
const LearnChannel = "_learn"

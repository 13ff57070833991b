package support

import "time"

// Policy is the follow-up rules of a support thread: when a frustrated
// customer's wait deserves a reminder, how often to repeat it, and when to
// check in after a resolution. It reads no clock: every decision takes the
// time it is made at.
type Policy struct {
	ResponseAfter time.Duration // a frustrated customer waits this long with no agent reply → reminder
	FollowupAfter time.Duration // after a resolution, check in this much later
	MaxReminders  int           // response reminders per frustrated message, at most
	Hours         Hours         // business hours: what falls due outside them waits for the next opening
}

// ThreadState is what the rules need to know about a thread.
type ThreadState struct {
	Frustrated     bool      // the customer's last message was frustrated
	LastCustomerAt time.Time // when the customer last wrote
	// WaitingSince is the customer's last frustrated message that no agent
	// has answered yet (zero once an agent replies). A calm "any update?"
	// after it does not reset it: the customer is still waiting.
	WaitingSince  time.Time
	AgentReplied  bool // an agent replied after the customer's last message
	Resolved      bool
	ResolvedAt    time.Time
	RemindersDone bool // an agent marked the reminders Done or Not needed
}

// Due is a scheduled follow-up: which generation of the thread it belongs to
// (the time of the message or resolution that armed it) and its number.
type Due struct {
	At  time.Time
	Gen int64 // Unix milliseconds of the event that armed it
	N   int   // 1 for the first reminder, 2 for the first repeat...
}

// ArmResponse says whether a customer message arms a response reminder and
// when it is due: only a frustrated message nobody has answered yet.
func (p Policy) ArmResponse(st ThreadState) (Due, bool) {
	if !st.Frustrated || st.AgentReplied || st.Resolved || p.ResponseAfter <= 0 || p.MaxReminders <= 0 {
		return Due{}, false
	}
	return Due{At: p.Hours.Next(st.LastCustomerAt.Add(p.ResponseAfter)), Gen: st.LastCustomerAt.UnixMilli(), N: 1}, true
}

// FireResponse decides, when reminder d fires at now, whether it is still
// worth sending and what the next repeat is. An agent reply, a resolution,
// Done, or a newer frustrated message (which armed a reminder of its own)
// makes it moot; a calm message from the still-waiting customer does not.
func (p Policy) FireResponse(st ThreadState, d Due, now time.Time) (send bool, next Due, repeat bool) {
	if st.AgentReplied || st.Resolved || st.RemindersDone || st.WaitingSince.IsZero() || st.WaitingSince.UnixMilli() != d.Gen {
		return false, Due{}, false
	}
	if d.N >= p.MaxReminders {
		return true, Due{}, false
	}
	return true, Due{At: p.Hours.Next(now.Add(p.ResponseAfter)), Gen: d.Gen, N: d.N + 1}, true
}

// ArmFollowup gives the check-in due after a resolution at resolvedAt.
func (p Policy) ArmFollowup(resolvedAt time.Time) Due {
	return Due{At: p.Hours.Next(resolvedAt.Add(p.FollowupAfter)), Gen: resolvedAt.UnixMilli(), N: 1}
}

// FireFollowup says whether check-in d is still due: the thread is still
// resolved, by the same resolution (a customer message reopens it).
func (p Policy) FireFollowup(st ThreadState, d Due) bool {
	return st.Resolved && st.ResolvedAt.UnixMilli() == d.Gen
}

// State is what the follow-up rules need to know about t.
func (t Thread) State() ThreadState {
	return ThreadState{Frustrated: t.Frustrated, LastCustomerAt: t.LastCustomerAt, WaitingSince: t.WaitingSince, AgentReplied: t.AgentReplied,
		Resolved: t.Resolved, ResolvedAt: t.ResolvedAt, RemindersDone: t.RemindersDone}
}

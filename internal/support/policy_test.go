package support

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

func TestPolicyResponseReminders(t *testing.T) {
	p := Policy{ResponseAfter: 10 * time.Minute, FollowupAfter: 24 * time.Hour, MaxReminders: 3}
	st := ThreadState{Frustrated: true, LastCustomerAt: t0, WaitingSince: t0}

	d, ok := p.ArmResponse(st)
	if !ok || !d.At.Equal(t0.Add(10*time.Minute)) || d.N != 1 || d.Gen != t0.UnixMilli() {
		t.Fatalf("arm = %+v %v", d, ok)
	}
	// Unanswered: it fires, and repeats from the time it fired, up to three.
	now := d.At.Add(300 * time.Millisecond)
	var sent []Due
	for {
		send, next, repeat := p.FireResponse(st, d, now)
		if !send {
			t.Fatalf("reminder %d not sent", d.N)
		}
		sent = append(sent, d)
		if !repeat {
			break
		}
		if !next.At.Equal(now.Add(10 * time.Minute)) {
			t.Errorf("repeat %d due %v, want %v", next.N, next.At, now.Add(10*time.Minute))
		}
		d, now = next, next.At
	}
	if len(sent) != 3 {
		t.Errorf("%d reminders, want MaxReminders=3", len(sent))
	}

	first, _ := p.ArmResponse(st)
	for name, changed := range map[string]ThreadState{
		"agent replied":       {Frustrated: true, LastCustomerAt: t0, AgentReplied: true},
		"resolved":            {Frustrated: true, LastCustomerAt: t0, WaitingSince: t0, Resolved: true},
		"marked done":         {Frustrated: true, LastCustomerAt: t0, WaitingSince: t0, RemindersDone: true},
		"newer frustrated":    {Frustrated: true, LastCustomerAt: t0.Add(time.Minute), WaitingSince: t0.Add(time.Minute)},
		"answered, then calm": {Frustrated: false, LastCustomerAt: t0.Add(time.Minute)},
	} {
		if send, _, _ := p.FireResponse(changed, first, first.At); send {
			t.Errorf("%s: the reminder still fires", name)
		}
	}
	// "Any update?" (calm) while still unanswered: the customer is still waiting.
	calmAfter := ThreadState{Frustrated: false, LastCustomerAt: t0.Add(time.Minute), WaitingSince: t0}
	if send, _, _ := p.FireResponse(calmAfter, first, first.At); !send {
		t.Error("a calm follow-up from the waiting customer cancelled the reminder")
	}
	if _, ok := p.ArmResponse(ThreadState{Frustrated: false, LastCustomerAt: t0}); ok {
		t.Error("a calm message armed a reminder")
	}
	if _, ok := (Policy{ResponseAfter: time.Minute}).ArmResponse(st); ok {
		t.Error("MaxReminders 0 armed a reminder")
	}
}

func TestPolicyFollowup(t *testing.T) {
	p := Policy{FollowupAfter: 24 * time.Hour}
	d := p.ArmFollowup(t0)
	if !d.At.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("follow-up due %v", d.At)
	}
	if !p.FireFollowup(ThreadState{Resolved: true, ResolvedAt: t0}, d) {
		t.Error("follow-up of a resolved thread not sent")
	}
	if p.FireFollowup(ThreadState{Resolved: false, ResolvedAt: t0}, d) {
		t.Error("follow-up sent for a reopened thread")
	}
	if p.FireFollowup(ThreadState{Resolved: true, ResolvedAt: t0.Add(time.Hour)}, d) {
		t.Error("follow-up of an older resolution sent after a newer one")
	}
}

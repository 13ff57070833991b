package supporttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"empathybot/internal/support"
)

// StoreContract is the one suite every support.ThreadStore passes: the
// record step (dedupe, Slack ts order, trajectory, cooldown, reminder),
// agent replies, resolutions, replies mapped to threads, on-call, snoozes
// and delivery keys. open returns a fresh, empty store.
func StoreContract(t *testing.T, open func(t *testing.T) support.ThreadStore) {
	tests := map[string]func(*testing.T, support.ThreadStore){
		"RedeliveryGetsTheSameDecision":       contractDedupe,
		"CooldownIsOncePerThread":             contractCooldown,
		"SlackOrderNotArrivalOrder":           contractLate,
		"TrajectoryReadsTheThreadBefore":      contractTrajectory,
		"FirstReplyIsReviewedAndTimed":        contractAgentReply,
		"ResolveOnceAndReopen":                contractResolve,
		"ReminderArmedByAFrustratedMessage":   contractReminder,
		"RepliesMapToTheirThread":             contractReplies,
		"OnCallSnoozeAndDeliveryKeys":         contractMisc,
		"UnknownThreadsAreNotFoundNorCreated": contractUnknown,
		"ClaimGivesANewOwnerAFreshCooldown":   contractClaimCooldown,
		"EditsAreReadAgainDeletionsCancel":    contractEditDelete,
		"ChannelsSwitchOffAndOn":              contractWatching,
		"StatsFeedbackAndWaits":               contractStats,
		"OpenItemsSoonestFirst":               contractOpenItems,
		"NudgeHistoryNewestFirst":             contractNudgeHistory,
		"MomentsCompareAndSet":                contractMoments,
		"LoadPauseAndBreather":                contractLoad,
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) { f(t, open(t)) })
	}
}

var t0 = time.UnixMilli(1_790_000_000_000)

const ch = "CCONTRACT"

// rec is a customer message at t0+sec, with ts 1700000000.<n>.
func rec(event, thread, ts string, sec int, frustrated bool) support.CustomerRecord {
	v := support.Verdict{Score: 0.2}
	if frustrated {
		v = support.Verdict{Score: 0.9, Frustrated: true, Cue: "waiting"}
	}
	r := support.CustomerRecord{EventID: event, Channel: ch, Thread: thread, TS: ts, User: "UCUST",
		At: t0.Add(time.Duration(sec) * time.Second), Verdicts: [3]support.Verdict{v, v, v}, Cooldown: time.Minute, ReminderDue: t0.Add(time.Duration(sec)*time.Second + 10*time.Minute),
		DedupeFor: time.Hour, Retention: time.Hour}
	if frustrated {
		n := &support.NudgeTask{Channel: ch, Thread: thread, TS: ts, At: r.At.UnixMilli()}
		r.Nudges = [3]*support.NudgeTask{n, n, n}
	}
	return r
}

func agentRec(event, thread, ts string, sec int) support.AgentRecord {
	at := t0.Add(time.Duration(sec) * time.Second)
	return support.AgentRecord{EventID: event, Channel: ch, Thread: thread, TS: ts, Agent: "UAGENT", At: at,
		DedupeFor: time.Hour, Retention: time.Hour,
		Review: &support.ReviewTask{Channel: ch, Thread: thread, TS: ts, Agent: "UAGENT", At: at.UnixMilli(), Kind: "no_acknowledgement"}}
}

// must(v, err)(t) is v, failing t on err.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func contractDedupe(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	r := rec("Ev1", "1700000000.000100", "1700000000.000100", 0, true)
	first := must(s.RecordCustomer(ctx, r))(t)
	if first.Duplicate || !first.Nudge || first.Reminder.Kind == "" {
		t.Fatalf("first delivery: %+v", first)
	}
	r.At = r.At.Add(40 * time.Second) // redelivered later
	again := must(s.RecordCustomer(ctx, r))(t)
	if !again.Duplicate || again.Nudge != first.Nudge || again.Reminder != first.Reminder || again.Variant != first.Variant {
		t.Errorf("redelivery decided %+v, the first delivery %+v", again, first)
	}
	if th := must(s.GetThread(ctx, ch, r.Thread))(t); th.Nudges != 1 || !th.LastCustomerAt.Equal(t0) {
		t.Errorf("a redelivery changed the thread: %+v", th)
	}
	a := agentRec("Ev2", r.Thread, "1700000000.000200", 50)
	one := must(s.RecordAgentReply(ctx, a))(t)
	two := must(s.RecordAgentReply(ctx, a))(t)
	if one.Duplicate || !one.Review || !two.Duplicate || !two.Review {
		t.Errorf("agent reply and its redelivery: %+v / %+v", one, two)
	}
}

func contractCooldown(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000001.000100"
	r1 := must(s.RecordCustomer(ctx, rec("E1", th, "1700000001.000100", 0, true)))(t)
	r2 := must(s.RecordCustomer(ctx, rec("E2", th, "1700000001.000200", 59, true)))(t)
	r3 := must(s.RecordCustomer(ctx, rec("E3", th, "1700000001.000300", 61, true)))(t)
	if !r1.Nudge || r2.Nudge || !r3.Nudge {
		t.Errorf("nudge at 0, 59 s, 61 s with a 1 min cooldown: %v %v %v, want true false true", r1.Nudge, r2.Nudge, r3.Nudge)
	}
	if err := s.ReleaseNudge(ctx, ch, th); err != nil {
		t.Fatal(err)
	}
	if r4 := must(s.RecordCustomer(ctx, rec("E4", th, "1700000001.000400", 62, true)))(t); !r4.Nudge {
		t.Error("no nudge after the cooldown was given back")
	}
	if calm := must(s.RecordCustomer(ctx, rec("E5", th, "1700000001.000500", 200, false)))(t); calm.Nudge {
		t.Error("a calm message took the cooldown")
	}
	if got := must(s.GetThread(ctx, ch, th))(t); got.Nudges != 2 {
		t.Errorf("%d nudges counted, want 2 (three taken, one given back)", got.Nudges)
	}
}

func contractLate(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000002.000100"
	must(s.RecordCustomer(ctx, rec("E1", th, "1700000002.000300", 0, false)))(t)
	late := must(s.RecordCustomer(ctx, rec("E2", th, "1700000002.000200", 5, true)))(t)
	if !late.Late || late.Nudge || late.Reminder.Kind != "" {
		t.Errorf("an older customer message arriving late: %+v", late)
	}
	if got := must(s.GetThread(ctx, ch, th))(t); got.Frustrated {
		t.Error("a late message overwrote the thread's newer state")
	}
	// The agent answered at .000500; a customer message from .000400 comes after.
	must(s.RecordAgentReply(ctx, agentRec("E3", th, "1700000002.000500", 10)))(t)
	answered := must(s.RecordCustomer(ctx, rec("E4", th, "1700000002.000400", 12, true)))(t)
	if !answered.Late || answered.Nudge || answered.Reminder.Kind != "" {
		t.Errorf("a customer message the agent had already answered: %+v", answered)
	}
	if got := must(s.GetThread(ctx, ch, th))(t); !got.AgentReplied || !got.WaitingSince.IsZero() {
		t.Errorf("the thread no longer says the agent replied: %+v", got)
	}
	// An agent reply older than the customer's last message answers an earlier one.
	must(s.RecordCustomer(ctx, rec("E5", th, "1700000002.000700", 20, true)))(t)
	old := must(s.RecordAgentReply(ctx, agentRec("E6", th, "1700000002.000600", 21)))(t)
	if !old.Late || old.Review {
		t.Errorf("an agent reply older than the customer's message: %+v", old)
	}
	if got := must(s.GetThread(ctx, ch, th))(t); got.AgentReplied || got.WaitingSince.IsZero() {
		t.Errorf("an older agent reply marked the newer customer message answered: %+v", got)
	}
	// A reply after it: the customer no longer waits.
	must(s.RecordAgentReply(ctx, agentRec("E7", th, "1700000002.000800", 22)))(t)
	if got := must(s.GetThread(ctx, ch, th))(t); !got.AgentReplied || !got.WaitingSince.IsZero() {
		t.Errorf("the agent's reply left the frustrated customer waiting: %+v", got)
	}
}

func contractTrajectory(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000003.000100"
	want := []struct {
		frustrated bool
		variant    int
	}{{false, support.Alone}, {true, support.AfterCalm}, {false, support.AfterFrustrated}}
	for i, w := range want {
		r := must(s.RecordCustomer(ctx, rec("T"+string(rune('a'+i)), th, "1700000003.00020"+string(rune('0'+i)), i, w.frustrated)))(t)
		if r.Variant != w.variant {
			t.Errorf("message %d read as %d, want %d", i, r.Variant, w.variant)
		}
	}
	must(s.RecordAgentReply(ctx, agentRec("Tagent", th, "1700000003.000300", 10)))(t)
	if r := must(s.RecordCustomer(ctx, rec("Tz", th, "1700000003.000400", 11, true)))(t); r.Variant != support.Alone {
		t.Errorf("after an agent's reply the customer starts afresh; read as %d", r.Variant)
	}
	// Variants pick the verdict: a message frustrated only in context.
	r := rec("Tc", "1700000004.000100", "1700000004.000100", 0, false)
	must(s.RecordCustomer(ctx, r))(t)
	r2 := rec("Td", "1700000004.000100", "1700000004.000200", 1, false)
	r2.Verdicts[support.AfterCalm] = support.Verdict{Score: 0.8, Frustrated: true, Cue: "trajectory"}
	got := must(s.RecordCustomer(ctx, r2))(t)
	after := must(s.GetThread(ctx, ch, "1700000004.000100"))(t)
	if got.Variant != support.AfterCalm || !got.Nudge || !after.Frustrated || after.Cue != "trajectory" {
		t.Errorf("the thread's verdict is the one for its trajectory: %+v, thread %+v", got, after)
	}
	// Another customer in the same thread ("+1, same error here") has no
	// trajectory of their own: their message is read alone.
	th2 := "1700000004.000500"
	must(s.RecordCustomer(ctx, rec("Te", th2, th2, 0, true)))(t)
	other := rec("Tf", th2, "1700000004.000600", 1, false)
	other.User = "UOTHER"
	if got := must(s.RecordCustomer(ctx, other))(t); got.Variant != support.Alone {
		t.Errorf("a second customer's message read as %d, want alone", got.Variant)
	}
	// The customer who waits on their frustrated message writes again:
	// still their trajectory, though another customer wrote in between.
	if got := must(s.RecordCustomer(ctx, rec("Tg", th2, "1700000004.000700", 2, false)))(t); got.Variant != support.AfterFrustrated {
		t.Errorf("the waiting customer writing again after another's +1 read as %d, want after frustrated", got.Variant)
	}
}

func contractAgentReply(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000005.000100"
	must(s.RecordCustomer(ctx, rec("A1", th, "1700000005.000100", 0, false)))(t)
	if r := must(s.RecordAgentReply(ctx, agentRec("A2", th, "1700000005.000200", 5)))(t); r.Review || r.Before.FirstReplyWait != -1 {
		t.Errorf("a reply to a calm customer: %+v", r)
	}
	if r := must(s.RecordCustomer(ctx, rec("A3", th, "1700000005.000300", 60, true)))(t); r.AfterReply {
		t.Errorf("after a reply in a thread that was never frustrated: AfterReply %+v", r)
	}
	must(s.RecordCustomer(ctx, rec("A4", th, "1700000005.000400", 120, true)))(t)
	first := must(s.RecordAgentReply(ctx, agentRec("A5", th, "1700000005.000500", 300)))(t)
	if !first.Review || !first.Before.Frustrated || first.Before.AgentReplied || first.Before.FirstReplyWait != 4*time.Minute {
		t.Errorf("the first reply to a frustrated customer: %+v", first)
	}
	if second := must(s.RecordAgentReply(ctx, agentRec("A6", th, "1700000005.000600", 320)))(t); second.Review || second.Before.FirstReplyWait != -1 {
		t.Errorf("a second reply: %+v", second)
	}
	if got := must(s.GetThread(ctx, ch, th))(t); got.Assignee() != "UAGENT" {
		t.Errorf("the replier is the assignee: %+v", got)
	}
	if r := must(s.RecordCustomer(ctx, rec("A7", th, "1700000005.000700", 400, false)))(t); !r.AfterReply || r.Owner != "UAGENT" {
		t.Errorf("the customer's answer to a reply in a frustrated thread: AfterReply, and the replier as owner: %+v", r)
	}
	if r := must(s.RecordCustomer(ctx, rec("A8", th, "1700000005.000800", 410, false)))(t); r.AfterReply {
		t.Errorf("a second customer message, no reply between: AfterReply %+v", r)
	}
	noErr(t, s.Claim(ctx, ch, th, "UOTHER"))
	if got := must(s.GetThread(ctx, ch, th))(t); got.Assignee() != "UOTHER" {
		t.Errorf("a claim beats the last replier: %+v", got)
	}
	if r := must(s.RecordCustomer(ctx, rec("A9", th, "1700000005.000900", 500, true)))(t); r.Owner != "UOTHER" {
		t.Errorf("after a claim the claimer owns the thread: %+v", r)
	}
}

func contractResolve(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000006.000100"
	must(s.RecordCustomer(ctx, rec("R1", th, "1700000006.000100", 0, true)))(t)
	got, changed, err := s.Resolve(ctx, ch, th, "UAGENT", t0.Add(time.Minute))
	armed := support.Reminder{Kind: support.KindFollowup, Channel: ch, Thread: th, Gen: t0.Add(time.Minute).UnixMilli(), N: 1}.ID()
	if err != nil || !changed || !got.Resolved || got.ResolvedBy != "UAGENT" || !got.ResolvedAt.Equal(t0.Add(time.Minute)) || got.PendingFollowup != armed {
		t.Fatalf("resolve: %+v %v %v", got, changed, err)
	}
	if _, changed, _ := s.Resolve(ctx, ch, th, "UOTHER", t0.Add(2*time.Minute)); changed {
		t.Error("a second resolution changed the thread")
	}
	fu := support.Reminder{Kind: support.KindFollowup, Channel: ch, Thread: th, Gen: t0.Add(time.Minute).UnixMilli(), N: 1}
	noErr(t, s.SetPending(ctx, fu))
	re := must(s.RecordCustomer(ctx, rec("R2", th, "1700000006.000200", 180, false)))(t)
	if !re.Thread.Reopened || re.Thread.Resolved || re.Thread.PendingFollowup != fu.ID() {
		t.Errorf("a customer message reopens the thread and names its check-in: %+v", re.Thread)
	}
	noErr(t, s.RemindersDone(ctx, ch, th))
	if got := must(s.GetThread(ctx, ch, th))(t); !got.RemindersDone {
		t.Error("RemindersDone not recorded")
	}
	must(s.RecordCustomer(ctx, rec("R3", th, "1700000006.000300", 200, true)))(t)
	if got := must(s.GetThread(ctx, ch, th))(t); got.RemindersDone {
		t.Error("a new frustrated message re-arms the reminders")
	}
}

func contractReminder(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000007.000100"
	r := must(s.RecordCustomer(ctx, rec("M1", th, "1700000007.000100", 0, true)))(t)
	want := support.Reminder{Kind: support.KindResponse, Channel: ch, Thread: th, Gen: t0.UnixMilli(), N: 1, Due: t0.Add(10 * time.Minute).UnixMilli()}
	armed := must(s.GetThread(ctx, ch, th))(t)
	if r.Reminder != want || armed.PendingReminder != want.ID() || !armed.WaitingSince.Equal(t0) || !r.Thread.NewlyFrustrated {
		t.Fatalf("armed %+v (thread %+v), want %+v", r.Reminder, armed, want)
	}
	calm := must(s.RecordCustomer(ctx, rec("M2", th, "1700000007.000200", 30, false)))(t)
	after := must(s.GetThread(ctx, ch, th))(t)
	if calm.Reminder.Kind != "" || !after.WaitingSince.Equal(t0) || calm.Thread.NewlyFrustrated {
		t.Errorf("a calm 'any update?' neither arms nor restarts the wait: %+v, thread %+v", calm, after)
	}
	off := rec("M3", th, "1700000007.000300", 40, true)
	off.ReminderDue = time.Time{}
	if r := must(s.RecordCustomer(ctx, off))(t); r.Reminder.Kind != "" {
		t.Errorf("reminders off, yet armed: %+v", r.Reminder)
	}
}

func contractReplies(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000008.000100"
	if r := must(s.RecordCustomer(ctx, rec("P1", th, "1700000008.000100", 0, false)))(t); r.Thread.Replies {
		t.Error("a lone message counts as a thread with replies")
	}
	must(s.RecordAgentReply(ctx, agentRec("P2", th, "1700000008.000200", 1)))(t)
	if got := must(s.GetThread(ctx, ch, th))(t); !got.Replies {
		t.Error("a thread with an agent's reply has no replies")
	}
	must(s.RecordCustomer(ctx, rec("P3", th, "1700000008.000300", 2, false)))(t)
	// Only a thread's parent is tracked: a reply's thread is Slack's to
	// say (conversations.replies), so the record step writes no reply map.
	for ts, want := range map[string]bool{"1700000008.000200": false, "1700000008.000300": false, th: true, "1700000009.000100": false} {
		if got := must(s.Tracked(ctx, ch, ts))(t); got != want {
			t.Errorf("Tracked(%s) = %v, want %v", ts, got, want)
		}
	}
}

func contractMisc(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	if who := must(s.OnCall(ctx, ch))(t); who != "" {
		t.Errorf("on call before anyone was set: %q", who)
	}
	noErr(t, s.SetOnCall(ctx, ch, "UAGENT"))
	if who := must(s.OnCall(ctx, ch))(t); who != "UAGENT" {
		t.Errorf("on call %q", who)
	}
	noErr(t, s.SetOnCall(ctx, ch, ""))
	if who := must(s.OnCall(ctx, ch))(t); who != "" {
		t.Errorf("on call after off: %q", who)
	}
	noErr(t, s.Snooze(ctx, "UAGENT", time.Hour))
	if !must(s.Snoozed(ctx, "UAGENT"))(t) || must(s.Snoozed(ctx, "UOTHER"))(t) {
		t.Error("snooze is per agent")
	}
	noErr(t, s.Snooze(ctx, "UAGENT", 0))
	if must(s.Snoozed(ctx, "UAGENT"))(t) {
		t.Error("a lifted snooze still holds")
	}
	if st := must(s.BeginDelivery(ctx, "k", time.Minute))(t); st != support.DeliveryOK {
		t.Fatalf("first begin: %s", st)
	}
	if st := must(s.BeginDelivery(ctx, "k", time.Minute))(t); st != support.DeliveryBusy {
		t.Errorf("second begin while leased: %s", st)
	}
	noErr(t, s.FinishDelivery(ctx, "k", support.DeliveryFailed))
	if st := must(s.BeginDelivery(ctx, "k", time.Minute))(t); st != support.DeliveryOK {
		t.Errorf("begin after a failed delivery: %s", st)
	}
	// An attempt that may have reached Slack: the next one checks first.
	noErr(t, s.FinishDelivery(ctx, "k", support.DeliveryUnknown))
	if st := must(s.BeginDelivery(ctx, "k", time.Minute))(t); st != support.DeliveryCheck {
		t.Errorf("begin after an unknown outcome: %s, want check", st)
	}
	if st := must(s.BeginDelivery(ctx, "k", time.Minute))(t); st != support.DeliveryBusy {
		t.Errorf("a check holds the lease too: %s", st)
	}
	// A holder that died mid-send leaves its lease: when it runs out, the
	// next attempt checks first. One that died before it called Slack
	// (no MarkSending) leaves nothing to check.
	if st := must(s.BeginDelivery(ctx, "dead", 30*time.Millisecond))(t); st != support.DeliveryOK {
		t.Fatalf("begin: %s", st)
	}
	noErr(t, s.MarkSending(ctx, "dead"))
	if st := must(s.BeginDelivery(ctx, "dead", time.Minute))(t); st != support.DeliveryBusy {
		t.Errorf("marked sending, still leased: %s, want busy", st)
	}
	if st := must(s.BeginDelivery(ctx, "early", 30*time.Millisecond))(t); st != support.DeliveryOK {
		t.Fatalf("begin: %s", st)
	}
	time.Sleep(80 * time.Millisecond)
	if st := must(s.BeginDelivery(ctx, "dead", time.Minute))(t); st != support.DeliveryCheck {
		t.Errorf("begin after a sending lease ran out: %s, want check", st)
	}
	if st := must(s.BeginDelivery(ctx, "early", time.Minute))(t); st != support.DeliveryOK {
		t.Errorf("begin after a lease that never called Slack ran out: %s, want ok", st)
	}
	noErr(t, s.FinishDelivery(ctx, "k", support.DeliverySent))
	if st := must(s.BeginDelivery(ctx, "k", time.Minute))(t); st != support.DeliveryDone {
		t.Errorf("begin after delivery: %s", st)
	}
	if first := must(s.FirstDelivery(ctx, "vote"))(t); !first {
		t.Error("first vote not first")
	}
	if again := must(s.FirstDelivery(ctx, "vote"))(t); again {
		t.Error("second vote counted as first")
	}
}

func contractUnknown(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	if _, err := s.GetThread(ctx, ch, "1700000010.000100"); !errors.Is(err, support.ErrNotFound) {
		t.Errorf("unknown thread: %v", err)
	}
	noErr(t, s.SetPending(ctx, support.Reminder{Kind: support.KindResponse, Channel: ch, Thread: "1700000010.000100", Gen: 1, N: 1}))
	if _, err := s.GetThread(ctx, ch, "1700000010.000100"); !errors.Is(err, support.ErrNotFound) {
		t.Errorf("SetPending created an unknown thread: %v", err)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A claim by a new owner (the triage card's Claim, a 👀) gives the nudge
// cooldown back: the customer's next frustrated message, within the
// cooldown the triage card took, nudges the new owner. The owner claiming
// again changes nothing.
func contractClaimCooldown(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000009.000100"
	if r := must(s.RecordCustomer(ctx, rec("K1", th, th, 0, true)))(t); !r.Nudge {
		t.Fatal("the first frustrated message takes the cooldown")
	}
	noErr(t, s.Claim(ctx, ch, th, "UNEW"))
	if r := must(s.RecordCustomer(ctx, rec("K2", th, "1700000009.000200", 10, true)))(t); !r.Nudge {
		t.Error("after a claim by a new owner, the next frustrated message (within the cooldown) does not nudge")
	}
	noErr(t, s.Claim(ctx, ch, th, "UNEW"))
	if r := must(s.RecordCustomer(ctx, rec("K3", th, "1700000009.000300", 20, true)))(t); r.Nudge {
		t.Error("the owner claiming again gave the cooldown back")
	}
}

// An edit of the thread's last customer message is read again: calm made
// angry arms the nudge and the reminder; angry made calm stops the wait.
// An edit of an older message changes nothing. Deleting the frustrated
// message the customer waits on stops the wait and names its reminder.
func contractEditDelete(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	th := "1700000010.000100"
	must(s.RecordCustomer(ctx, rec("D1", th, th, 0, false)))(t)
	edit := rec("D2", th, th, 5, true)
	edit.Edit = true
	if r := must(s.RecordCustomer(ctx, edit))(t); !r.Nudge || r.Reminder.Kind == "" || r.Late {
		t.Errorf("a calm message edited into a complaint: %+v", r)
	}
	calm := rec("D3", th, th, 10, false)
	calm.Edit = true
	must(s.RecordCustomer(ctx, calm))(t)
	if got := must(s.GetThread(ctx, ch, th))(t); got.Frustrated || !got.WaitingSince.IsZero() {
		t.Errorf("a complaint edited calm still waits: %+v", got)
	}
	must(s.RecordCustomer(ctx, rec("D4", th, "1700000010.000200", 20, true)))(t)
	old := rec("D5", th, th, 25, true)
	old.Edit = true
	if r := must(s.RecordCustomer(ctx, old))(t); !r.Late {
		t.Errorf("an edit of a message that is no longer the last: %+v", r)
	}
	if p := must(s.MessageDeleted(ctx, ch, th, th))(t); p != "" {
		t.Errorf("deleting an older message names reminder %q", p)
	}
	want := support.Reminder{Kind: support.KindResponse, Channel: ch, Thread: th, Gen: t0.Add(20 * time.Second).UnixMilli(), N: 1}.ID()
	if p := must(s.MessageDeleted(ctx, ch, th, "1700000010.000200"))(t); p != want {
		t.Errorf("deleting the complaint: reminder %q, want %q", p, want)
	}
	if got := must(s.GetThread(ctx, ch, th))(t); got.Frustrated || !got.WaitingSince.IsZero() || got.PendingReminder != "" {
		t.Errorf("after the complaint was deleted: %+v", got)
	}
}

// /empathy unwatch and watch: a channel switched off is listed, and
// switched on again it is not.
func contractWatching(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	if off := must(s.ChannelsOff(ctx))(t); len(off) != 0 {
		t.Errorf("channels off at first: %v", off)
	}
	noErr(t, s.SetWatching(ctx, "C1", false))
	noErr(t, s.SetWatching(ctx, "C2", false))
	noErr(t, s.SetWatching(ctx, "C1", true))
	if off := must(s.ChannelsOff(ctx))(t); len(off) != 1 || off[0] != "C2" {
		t.Errorf("channels off: %v, want [C2]", off)
	}
}

// Stats add up a channel's counts, votes (by cue kind and technique) and
// first-reply waits over the days asked for, and no other channel's.
func contractStats(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	noErr(t, s.Count(ctx, ch, t0, support.StatNudges))
	noErr(t, s.Count(ctx, ch, t0.Add(-24*time.Hour), support.StatNudges))
	noErr(t, s.Count(ctx, ch, t0, support.StatFrustrated))
	noErr(t, s.Count(ctx, "COTHER", t0, support.StatNudges))
	noErr(t, s.Count(ctx, ch, t0, "oc:nudge:deesc", "oc:nudge:deesc:cue:waiting")) // several at once
	noErr(t, s.Count(ctx, ch, t0.Add(-30*24*time.Hour), support.StatNudges))       // outside a 7-day window
	noErr(t, s.Feedback(ctx, ch, "waiting", "ownership", true, t0))
	noErr(t, s.Feedback(ctx, ch, "waiting", "ownership", false, t0))
	noErr(t, s.Feedback(ctx, ch, "churn_threat", "next step", true, t0))
	for _, w := range []time.Duration{2 * time.Minute, 4 * time.Minute, 9 * time.Minute} {
		noErr(t, s.AddReplyWait(ctx, ch, t0, w))
	}
	st := must(s.Stats(ctx, ch, t0, 7))(t)
	if st.Counts[support.StatNudges] != 2 || st.Counts[support.StatFrustrated] != 1 || st.Counts["oc:nudge:deesc"] != 1 || st.Counts["oc:nudge:deesc:cue:waiting"] != 1 {
		t.Errorf("counts %v, want 2 nudges and 1 frustrated", st.Counts)
	}
	if st.Useful != 2 || st.NotUsed != 1 || st.ByCue["waiting"] != [2]int{1, 1} || st.ByTech["next step"] != [2]int{1, 0} {
		t.Errorf("votes: useful %d, not %d, by cue %v, by technique %v", st.Useful, st.NotUsed, st.ByCue, st.ByTech)
	}
	if st.FirstReplies != 3 || st.MedianFirstReply != 4*time.Minute {
		t.Errorf("first replies %d, median %v; want 3, 4m", st.FirstReplies, st.MedianFirstReply)
	}
	if len(st.PerDay) != 7 || st.PerDay[0][support.StatNudges] != 1 || st.PerDay[1][support.StatNudges] != 1 || st.PerDay[0][support.StatFrustrated] != 1 || len(st.PerDay[2]) != 0 {
		t.Errorf("per day, the newest first: %v", st.PerDay)
	}
	// An even number of waits: the median is the mean of the middle two,
	// in both stores.
	noErr(t, s.AddReplyWait(ctx, ch, t0, 20*time.Minute))
	if st := must(s.Stats(ctx, ch, t0, 7))(t); st.MedianFirstReply != 6*time.Minute+30*time.Second {
		t.Errorf("median of 2, 4, 9, 20 min = %v, want 6m30s", st.MedianFirstReply)
	}
}

// Open items come back soonest first, and one removed is gone.
func contractOpenItems(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	later := support.OpenItem{Kind: support.KindFollowup, Channel: ch, Thread: "1.2", TaskID: "followup:" + ch + ":1.2:1:1", Due: t0.Add(time.Hour)}
	sooner := support.OpenItem{Kind: support.KindResponse, Channel: ch, Thread: "1.1", TaskID: "response:" + ch + ":1.1:1:1", Due: t0}
	noErr(t, s.AddOpen(ctx, "UAGENT", later))
	noErr(t, s.AddOpen(ctx, "UAGENT", sooner))
	items := must(s.OpenItems(ctx, "UAGENT"))(t)
	if len(items) != 2 || items[0].TaskID != sooner.TaskID || items[1].TaskID != later.TaskID || !items[0].Due.Equal(t0) {
		t.Fatalf("open items %+v, want the response then the check-in", items)
	}
	if other := must(s.OpenItems(ctx, "UOTHER"))(t); len(other) != 0 {
		t.Errorf("another agent's open items: %v", other)
	}
	noErr(t, s.RemoveOpen(ctx, "UAGENT", sooner.TaskID))
	if items := must(s.OpenItems(ctx, "UAGENT"))(t); len(items) != 1 || items[0].TaskID != later.TaskID {
		t.Errorf("after removing one: %+v", items)
	}
}

// An agent's nudges come back newest first, as many as asked; the recent
// tips are theirs.
func contractNudgeHistory(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	for i, tip := range []string{"ack-wait", "own-it", "next-step"} {
		noErr(t, s.Nudged(ctx, "UAGENT", support.NudgeRecord{Channel: ch, Thread: fmt.Sprintf("1.%d", i), Cue: "waiting", Tip: tip, At: t0.Add(time.Duration(i) * time.Minute)}))
	}
	got := must(s.RecentNudges(ctx, "UAGENT", 2))(t)
	if len(got) != 2 || got[0].Tip != "next-step" || got[1].Tip != "own-it" || got[0].Thread != "1.2" || !got[0].At.Equal(t0.Add(2*time.Minute)) || got[0].Cue != "waiting" {
		t.Errorf("recent nudges %+v, want next-step then own-it", got)
	}
	tips := must(s.RecentTips(ctx, "UAGENT"))(t)
	if len(tips) != 3 || tips[0] != "next-step" {
		t.Errorf("recent tips %v", tips)
	}
	if other := must(s.RecentNudges(ctx, "UOTHER", 5))(t); len(other) != 0 {
		t.Errorf("another agent's nudges: %v", other)
	}
}

// A moment is opened once, read back as written, and changed only by the
// writer who read its current version.
func contractMoments(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	if m, v, err := s.GetMoment(ctx, ch, "1700000000.000100"); err != nil || m != nil || v != 0 {
		t.Fatalf("no moment yet: got %+v, version %d, %v", m, v, err)
	}
	mo := support.Moment{TS: "1700000000.000100", At: t0.UnixMilli(), Score: 0.91, Cue: "waiting", Arm: support.ArmHoldout}
	if ok := must(s.OpenMoment(ctx, ch, "1700000000.000100", mo))(t); !ok {
		t.Fatal("the first open did not open")
	}
	other := mo
	other.TS = "1700000000.000200"
	if ok := must(s.OpenMoment(ctx, ch, "1700000000.000100", other))(t); ok {
		t.Fatal("a second open replaced the moment")
	}
	got, v, err := s.GetMoment(ctx, ch, "1700000000.000100")
	if err != nil || got == nil || *got != mo {
		t.Fatalf("read back %+v (%v), want %+v", got, err, mo)
	}
	next := *got
	next.ReplyAt, next.Ack = t0.Add(time.Minute).UnixMilli(), true
	if ok := must(s.SetMoment(ctx, ch, "1700000000.000100", next, v))(t); !ok {
		t.Fatal("a set at the current version failed")
	}
	stale := *got
	stale.Result = support.ResultSilent
	if ok := must(s.SetMoment(ctx, ch, "1700000000.000100", stale, v))(t); ok {
		t.Fatal("a set at a stale version won")
	}
	if got, _, _ := s.GetMoment(ctx, ch, "1700000000.000100"); got == nil || *got != next {
		t.Fatalf("after the race: %+v, want %+v", got, next)
	}
	// Version 0 creates a moment where there is none.
	if ok := must(s.SetMoment(ctx, ch, "1700000000.000900", mo, 0))(t); !ok {
		t.Fatal("a set at version 0 of no moment failed")
	}
}

// Tense load entries are kept by agent and read back from a time, to three
// places; a pause and a breather's hold last their time.
func contractLoad(t *testing.T, s support.ThreadStore) {
	ctx := context.Background()
	now := time.Now()
	e1 := support.LoadEntry{At: now.Add(-2 * time.Hour).Truncate(time.Millisecond), Thread: ch + ":1700000000.000100", Excess: 0.2504, Hostile: true}
	e2 := support.LoadEntry{At: now.Add(-time.Hour).Truncate(time.Millisecond), Thread: ch + ":1700000000.000200", Excess: 0.1}
	noErr(t, s.AddLoad(ctx, "UAGENT", e1))
	noErr(t, s.AddLoad(ctx, "UAGENT", e2))
	noErr(t, s.AddLoad(ctx, "UAGENT", e2)) // the same message again: once
	got := must(s.Loads(ctx, "UAGENT", now.Add(-3*time.Hour)))(t)
	if len(got) != 2 || !got[0].At.Equal(e1.At) || got[0].Excess != 0.25 || !got[0].Hostile || got[1].Thread != e2.Thread || got[1].Hostile {
		t.Fatalf("loads %+v", got)
	}
	if got := must(s.Loads(ctx, "UAGENT", now.Add(-90*time.Minute)))(t); len(got) != 1 {
		t.Errorf("since 90 min ago: %+v", got)
	}
	if got := must(s.Loads(ctx, "UOTHER", now.Add(-3*time.Hour)))(t); len(got) != 0 {
		t.Errorf("another agent's loads: %+v", got)
	}
	if a := must(s.LoadAgents(ctx))(t); len(a) != 1 || a[0] != "UAGENT" {
		t.Errorf("agents with a load: %v", a)
	}
	noErr(t, s.Pause(ctx, "UAGENT", time.Minute))
	if !must(s.Paused(ctx, "UAGENT"))(t) || must(s.Paused(ctx, "UOTHER"))(t) {
		t.Error("pause not kept, or kept for another agent")
	}
	noErr(t, s.Pause(ctx, "UAGENT", 0))
	if must(s.Paused(ctx, "UAGENT"))(t) {
		t.Error("a lifted pause still holds")
	}
	if !must(s.TakeBreather(ctx, "UAGENT", time.Hour))(t) || must(s.TakeBreather(ctx, "UAGENT", time.Hour))(t) {
		t.Error("a breather is taken once per hold")
	}
}

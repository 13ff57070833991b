// Package supporttest holds in-memory implementations of the support
// package's ports (a store, a scheduler driven by a manual clock, a
// notifier that records, a directory) and the one store contract suite
// that every ThreadStore (this one, redisstore on Redis and on Redis
// Cluster) must pass. With them the desk's follow-up rules run as table
// tests in milliseconds.
package supporttest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"empathybot/internal/support"
)

// Memory is an in-memory support.ThreadStore with the semantics of
// redisstore's (the contract suite checks both). It reads no clock: a
// cooldown or a snooze is compared with the times the desk passes in, and
// Clock says what "now" is for snoozes and delivery leases.
type Memory struct {
	Clock func() time.Time
	// Outbox is the queue the record step writes the nudges, reviews and
	// response reminders it decides on to, as redisstore's script writes
	// them to its stream (nil: they are dropped).
	Outbox *Queue
	off    map[string]bool // channels switched off

	mu       sync.Mutex
	threads  map[string]*memThread
	events   map[string]string // dedupe key → decision
	first    map[string]bool
	oncall   map[string]string
	snoozed  map[string]time.Time
	nudges   map[string][]support.NudgeRecord
	counts   map[string]map[string]int // channel|day → field → n
	waits    map[string][]time.Duration
	feedback map[string][2]int
	open     map[string][]support.OpenItem
	delivery map[string]memDelivery
	moments  map[string]memMoment
	loads    map[string][]support.LoadEntry
	paused   map[string]time.Time
	breather map[string]time.Time
	// Down makes every call fail with support.ErrUnavailable (Redis away).
	Down bool
}

type memThread struct {
	support.Thread
	ct, gt       string // the last customer message's ts, the last agent reply's ts
	nudgeUntil   time.Time
	firstFrus    time.Time
	firstReplied bool
	ri, fi       string // pending reminder and check-in, "gen:n"
	waiter       string // the customer who waits on the unanswered frustrated message
}

type memDelivery struct {
	done    bool
	unknown bool      // the last attempt's outcome was unknown
	sending bool      // the lease's holder may have called Slack
	until   time.Time // an attempt's lease
}

// NewMemory returns an empty store whose clock is clock.
func NewMemory(clock func() time.Time) *Memory {
	return &Memory{Clock: clock, threads: map[string]*memThread{}, events: map[string]string{}, first: map[string]bool{},
		oncall: map[string]string{}, snoozed: map[string]time.Time{}, nudges: map[string][]support.NudgeRecord{},
		counts: map[string]map[string]int{}, waits: map[string][]time.Duration{}, feedback: map[string][2]int{},
		open: map[string][]support.OpenItem{}, delivery: map[string]memDelivery{}}
}

var _ support.ThreadStore = (*Memory)(nil)

func (m *Memory) lock() error {
	m.mu.Lock()
	if m.Down {
		m.mu.Unlock()
		return fmt.Errorf("memory store: %w", support.ErrUnavailable)
	}
	return nil
}

func key(channel, ts string) string { return channel + "|" + ts }

// older compares Slack timestamps as numbers.
func older(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (m *Memory) thread(channel, ts string) *memThread {
	t := m.threads[key(channel, ts)]
	if t == nil {
		t = &memThread{Thread: support.Thread{Channel: channel, TS: ts}}
		m.threads[key(channel, ts)] = t
	}
	return t
}

func (t *memThread) view() support.Thread {
	v := t.Thread
	v.FirstReplyWait = -1
	v.EverFrustrated = !t.firstFrus.IsZero()
	v.PendingReminder = support.PendingID(support.KindResponse, t.Channel, t.TS, t.ri)
	v.PendingFollowup = support.PendingID(support.KindFollowup, t.Channel, t.TS, t.fi)
	v.Reopened, v.NewlyFrustrated = false, false
	v.Replies = t.ct != "" && t.ct != t.TS || t.gt != "" && t.gt != t.TS
	return v
}

// begin names the event's dedupe entry, what both record steps do first.
// m.mu is held.
func (m *Memory) begin(channel, thread, ts, eventID string) (eventKey string) {
	return channel + "|" + thread + "|" + support.DedupeID(eventID, ts)
}

// RecordCustomer implements support.ThreadStore.
func (m *Memory) RecordCustomer(_ context.Context, r support.CustomerRecord) (support.CustomerResult, error) {
	if err := m.lock(); err != nil {
		return support.CustomerResult{}, err
	}
	defer m.mu.Unlock()
	evk := m.begin(r.Channel, r.Thread, r.TS, r.EventID)
	_, known := m.threads[key(r.Channel, r.Thread)]
	t := m.thread(r.Channel, r.Thread)
	res := support.CustomerResult{Owner: t.Assignee()}
	if d, dup := m.events[evk]; dup {
		res.Duplicate = true
		res.Thread = t.view()
		var due, gen int64
		f := strings.Split(d, "|")
		res.Variant, _ = strconv.Atoi(f[0])
		res.Nudge, res.Late = f[1] == "1", f[3] == "1"
		due, _ = strconv.ParseInt(f[2], 10, 64)
		gen, _ = strconv.ParseInt(f[4], 10, 64)
		if due > 0 {
			res.Reminder = support.Reminder{Kind: support.KindResponse, Channel: r.Channel, Thread: r.Thread, Gen: gen, N: 1, Due: due}
		}
		return res, nil
	}
	v := support.Alone
	if known && !t.AgentReplied && !t.Resolved {
		switch r.User {
		case t.LastCustomer:
			v = support.AfterCalm
			if t.Frustrated {
				v = support.AfterFrustrated
			}
		case t.waiter:
			v = support.AfterFrustrated
		}
	}
	res.Variant = v
	if (t.ct != "" && (older(r.TS, t.ct) || r.TS == t.ct && !r.Edit)) || (t.gt != "" && older(r.TS, t.gt)) || (r.Edit && r.TS != t.ct) {
		res.Late = true
		m.events[evk] = fmt.Sprintf("%d|0|0|1|0", v)
		res.Thread = t.view()
		return res, nil
	}
	vd := r.Verdicts[v]
	wasResolved := t.Resolved
	if r.Edit && t.Frustrated && !vd.Frustrated {
		t.WaitingSince, t.waiter = time.Time{}, "" // the complaint was edited away
	}
	t.LastCustomer, t.LastCustomerAt, t.LastScore, t.Frustrated, t.Cue, t.ct = r.User, time.UnixMilli(r.At.UnixMilli()), round3(vd.Score), vd.Frustrated, vd.Cue, r.TS
	res.AfterReply = t.AgentReplied && !t.firstFrus.IsZero()
	t.AgentReplied, t.Resolved = false, false
	var due int64
	newly := false
	if vd.Frustrated {
		if t.firstFrus.IsZero() {
			t.firstFrus, newly = t.LastCustomerAt, true
		}
		t.WaitingSince, t.waiter = t.LastCustomerAt, r.User
		t.RemindersDone = false
		if !t.nudgeUntil.After(t.LastCustomerAt) {
			t.nudgeUntil = t.LastCustomerAt.Add(r.Cooldown)
			t.Nudges++
			res.Nudge = true
		}
		if !r.ReminderDue.IsZero() {
			due = r.ReminderDue.UnixMilli()
			t.ri = fmt.Sprintf("%d:1", r.At.UnixMilli())
			res.Reminder = support.Reminder{Kind: support.KindResponse, Channel: r.Channel, Thread: r.Thread, Gen: r.At.UnixMilli(), N: 1, Due: due}
		}
	}
	if m.Outbox != nil {
		if res.Nudge && r.Nudges[v] != nil {
			n := *r.Nudges[v]
			m.Outbox.put(Task{ID: n.ID(), Due: time.UnixMilli(n.At), Nudge: &n})
		}
		if res.Reminder.Kind != "" {
			rem := res.Reminder
			m.Outbox.put(Task{ID: rem.ID(), Due: rem.DueAt(), Reminder: &rem})
		}
	}
	nudge := 0
	if res.Nudge {
		nudge = 1
	}
	m.events[evk] = fmt.Sprintf("%d|%d|%d|0|%d", v, nudge, due, r.At.UnixMilli())
	res.Thread = t.view()
	res.Thread.Reopened = wasResolved
	res.Thread.NewlyFrustrated = newly
	return res, nil
}

func round3(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 3, 64), 64)
	return v
}

// RecordAgentReply implements support.ThreadStore.
func (m *Memory) RecordAgentReply(_ context.Context, r support.AgentRecord) (support.AgentResult, error) {
	if err := m.lock(); err != nil {
		return support.AgentResult{}, err
	}
	defer m.mu.Unlock()
	evk := m.begin(r.Channel, r.Thread, r.TS, r.EventID)
	t := m.thread(r.Channel, r.Thread)
	before := t.view()
	if d, dup := m.events[evk]; dup {
		b := t.view()
		return support.AgentResult{Duplicate: true, Late: d == "late", Review: d == "review", Before: b}, nil
	}
	res := support.AgentResult{Before: before}
	if t.ct != "" && older(r.TS, t.ct) {
		t.LastAgent = r.Agent
		res.Late = true
		m.events[evk] = "late"
		return res, nil
	}
	d := "none"
	if r.Review != nil && t.Frustrated && !t.AgentReplied {
		d, res.Review = "review", true
		if m.Outbox != nil {
			rv := *r.Review
			m.Outbox.put(Task{ID: rv.ID(), Due: time.UnixMilli(rv.At), Review: &rv})
		}
	}
	t.LastAgent, t.AgentReplied, t.gt = r.Agent, true, r.TS
	t.WaitingSince, t.waiter = time.Time{}, ""
	if !t.firstFrus.IsZero() && !t.firstReplied {
		t.firstReplied = true
		res.Before.FirstReplyWait = time.UnixMilli(r.At.UnixMilli()).Sub(t.firstFrus)
	}
	m.events[evk] = d
	return res, nil
}

// SetWatching implements support.ThreadStore.
func (m *Memory) SetWatching(_ context.Context, channel string, on bool) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if m.off == nil {
		m.off = map[string]bool{}
	}
	if on {
		delete(m.off, channel)
	} else {
		m.off[channel] = true
	}
	return nil
}

// ChannelsOff implements support.ThreadStore.
func (m *Memory) ChannelsOff(context.Context) ([]string, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []string
	for c := range m.off {
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}

// Delivered implements support.ThreadStore.
func (m *Memory) Delivered(_ context.Context, id string) (bool, error) {
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	d := m.delivery[id]
	return d.done || d.unknown || d.sending, nil
}

// MessageDeleted implements support.ThreadStore.
func (m *Memory) MessageDeleted(_ context.Context, channel, thread, ts string) (string, error) {
	if err := m.lock(); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	t, ok := m.threads[key(channel, thread)]
	if !ok || t.ct != ts || !t.Frustrated || t.WaitingSince.IsZero() {
		return "", nil
	}
	pending := support.PendingID(support.KindResponse, channel, thread, t.ri)
	t.WaitingSince, t.waiter, t.ri, t.Frustrated = time.Time{}, "", "", false
	return pending, nil
}

// FirstDelivery implements support.ThreadStore.
func (m *Memory) FirstDelivery(_ context.Context, id string) (bool, error) {
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	if m.first[id] {
		return false, nil
	}
	m.first[id] = true
	return true, nil
}

// Claim implements support.ThreadStore.
func (m *Memory) Claim(_ context.Context, channel, ts, agent string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	t := m.thread(channel, ts)
	if t.Assignee() != agent {
		t.nudgeUntil = time.Time{} // a new owner gets a fresh cooldown
	}
	t.ClaimedBy = agent
	return nil
}

// Resolve implements support.ThreadStore.
func (m *Memory) Resolve(_ context.Context, channel, ts, agent string, at time.Time) (support.Thread, bool, error) {
	if err := m.lock(); err != nil {
		return support.Thread{}, false, err
	}
	defer m.mu.Unlock()
	t := m.thread(channel, ts)
	if t.Resolved {
		return t.view(), false, nil
	}
	t.Resolved, t.ResolvedAt, t.ResolvedBy = true, time.UnixMilli(at.UnixMilli()), agent
	t.fi = fmt.Sprintf("%d:1", at.UnixMilli()) // the check-in this resolution arms
	return t.view(), true, nil
}

// GetThread implements support.ThreadStore.
func (m *Memory) GetThread(_ context.Context, channel, ts string) (support.Thread, error) {
	if err := m.lock(); err != nil {
		return support.Thread{}, err
	}
	defer m.mu.Unlock()
	t, ok := m.threads[key(channel, ts)]
	if !ok {
		return support.Thread{}, support.ErrNotFound
	}
	return t.view(), nil
}

// SetPending implements support.ThreadStore.
func (m *Memory) SetPending(_ context.Context, r support.Reminder) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	t, ok := m.threads[key(r.Channel, r.Thread)]
	if !ok {
		return nil // never resurrects an unknown thread
	}
	v := fmt.Sprintf("%d:%d", r.Gen, r.N)
	if r.Kind == support.KindFollowup {
		t.fi = v
	} else {
		t.ri = v
	}
	return nil
}

// RemindersDone implements support.ThreadStore.
func (m *Memory) RemindersDone(_ context.Context, channel, ts string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if t, ok := m.threads[key(channel, ts)]; ok {
		t.RemindersDone = true
	}
	return nil
}

// Tracked implements support.ThreadStore.
func (m *Memory) Tracked(_ context.Context, channel, ts string) (bool, error) {
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	_, ok := m.threads[key(channel, ts)]
	return ok, nil
}

// ReleaseNudge implements support.ThreadStore.
func (m *Memory) ReleaseNudge(_ context.Context, channel, ts string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if t, ok := m.threads[key(channel, ts)]; ok && !t.nudgeUntil.IsZero() {
		t.nudgeUntil = time.Time{}
		t.Nudges--
	}
	return nil
}

// SetOnCall implements support.ThreadStore.
func (m *Memory) SetOnCall(_ context.Context, channel, agent string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if agent == "" {
		delete(m.oncall, channel)
	} else {
		m.oncall[channel] = agent
	}
	return nil
}

// OnCall implements support.ThreadStore.
func (m *Memory) OnCall(_ context.Context, channel string) (string, error) {
	if err := m.lock(); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	return m.oncall[channel], nil
}

// Snooze implements support.ThreadStore.
func (m *Memory) Snooze(_ context.Context, agent string, d time.Duration) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if d <= 0 {
		delete(m.snoozed, agent)
	} else {
		m.snoozed[agent] = m.Clock().Add(d)
	}
	return nil
}

// Snoozed implements support.ThreadStore.
func (m *Memory) Snoozed(_ context.Context, agent string) (bool, error) {
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	return m.snoozed[agent].After(m.Clock()), nil
}

// RecentTips implements support.ThreadStore.
func (m *Memory) RecentTips(ctx context.Context, agent string) ([]string, error) {
	ns, err := m.RecentNudges(ctx, agent, 5)
	tips := make([]string, len(ns))
	for i, n := range ns {
		tips[i] = n.Tip
	}
	return tips, err
}

// Nudged implements support.ThreadStore.
func (m *Memory) Nudged(_ context.Context, agent string, n support.NudgeRecord) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	n.At = time.UnixMilli(n.At.UnixMilli())
	m.nudges[agent] = append([]support.NudgeRecord{n}, m.nudges[agent]...)
	if len(m.nudges[agent]) > 20 {
		m.nudges[agent] = m.nudges[agent][:20]
	}
	return nil
}

// RecentNudges implements support.ThreadStore.
func (m *Memory) RecentNudges(_ context.Context, agent string, n int) ([]support.NudgeRecord, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	ns := m.nudges[agent]
	return slices.Clone(ns[:min(n, len(ns))]), nil
}

func day(t time.Time) string { return t.UTC().Format("20060102") }

// Count implements support.ThreadStore.
func (m *Memory) Count(_ context.Context, channel string, at time.Time, fields ...string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	k := channel + "|" + day(at)
	if m.counts[k] == nil {
		m.counts[k] = map[string]int{}
	}
	for _, f := range fields {
		m.counts[k][f]++
	}
	return nil
}

// AddReplyWait implements support.ThreadStore.
func (m *Memory) AddReplyWait(_ context.Context, channel string, at time.Time, wait time.Duration) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	k := channel + "|" + day(at)
	m.waits[k] = append(m.waits[k], wait)
	return nil
}

// Feedback implements support.ThreadStore.
func (m *Memory) Feedback(_ context.Context, channel, cue, technique string, useful bool, at time.Time) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	i := 1
	if useful {
		i = 0
	}
	for _, k := range []string{channel + "|" + day(at) + "|all", channel + "|" + day(at) + "|cue|" + cue, channel + "|" + day(at) + "|tech|" + technique} {
		v := m.feedback[k]
		v[i]++
		m.feedback[k] = v
	}
	return nil
}

// Stats implements support.ThreadStore.
func (m *Memory) Stats(_ context.Context, channel string, now time.Time, days int) (support.ChannelStats, error) {
	if err := m.lock(); err != nil {
		return support.ChannelStats{}, err
	}
	defer m.mu.Unlock()
	st := support.ChannelStats{Channel: channel, Days: days, Counts: map[string]int{}, ByCue: map[string][2]int{}, ByTech: map[string][2]int{}}
	var waits []time.Duration
	for i := 0; i < days; i++ {
		d := channel + "|" + day(now.AddDate(0, 0, -i))
		today := map[string]int{}
		for f, n := range m.counts[d] {
			st.Counts[f] += n
			today[f] = n
		}
		st.PerDay = append(st.PerDay, today)
		waits = append(waits, m.waits[d]...)
		all := m.feedback[d+"|all"]
		st.Useful += all[0]
		st.NotUsed += all[1]
		for k, v := range m.feedback {
			if c, ok := strings.CutPrefix(k, d+"|cue|"); ok {
				x := st.ByCue[c]
				st.ByCue[c] = [2]int{x[0] + v[0], x[1] + v[1]}
			}
			if c, ok := strings.CutPrefix(k, d+"|tech|"); ok {
				x := st.ByTech[c]
				st.ByTech[c] = [2]int{x[0] + v[0], x[1] + v[1]}
			}
		}
	}
	st.FirstReplies = len(waits)
	if n := len(waits); n > 0 {
		slices.Sort(waits)
		st.MedianFirstReply = waits[n/2]
		if n%2 == 0 {
			st.MedianFirstReply = (waits[n/2-1] + waits[n/2]) / 2 // as redisstore does
		}
	}
	return st, nil
}

// AddOpen implements support.ThreadStore.
func (m *Memory) AddOpen(_ context.Context, agent string, item support.OpenItem) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	item.Due = time.UnixMilli(item.Due.UnixMilli())
	items := slices.DeleteFunc(m.open[agent], func(o support.OpenItem) bool {
		return o.Kind == item.Kind && o.Channel == item.Channel && o.Thread == item.Thread && o.TaskID == item.TaskID
	})
	items = append(items, item)
	slices.SortStableFunc(items, func(a, b support.OpenItem) int { return a.Due.Compare(b.Due) })
	m.open[agent] = items
	return nil
}

// RemoveOpen implements support.ThreadStore.
func (m *Memory) RemoveOpen(_ context.Context, agent, taskID string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.open[agent] = slices.DeleteFunc(m.open[agent], func(o support.OpenItem) bool { return o.TaskID == taskID })
	return nil
}

// OpenItems implements support.ThreadStore.
func (m *Memory) OpenItems(_ context.Context, agent string) ([]support.OpenItem, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	return slices.Clone(m.open[agent]), nil
}

// BeginDelivery implements support.ThreadStore.
func (m *Memory) BeginDelivery(_ context.Context, id string, lease time.Duration) (string, error) {
	if err := m.lock(); err != nil {
		return "", err
	}
	defer m.mu.Unlock()
	d, seen := m.delivery[id]
	state := support.DeliveryOK
	switch {
	case d.done:
		return support.DeliveryDone, nil
	case d.until.After(m.Clock()):
		return support.DeliveryBusy, nil
	case seen && (d.unknown || d.sending):
		// An attempt whose outcome was unknown, or whose holder died
		// after it may have called Slack.
		state = support.DeliveryCheck
	}
	m.delivery[id] = memDelivery{until: m.Clock().Add(lease)}
	return state, nil
}

// MarkSending implements support.ThreadStore.
func (m *Memory) MarkSending(_ context.Context, id string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if d, ok := m.delivery[id]; ok && !d.done && !d.unknown {
		d.sending = true
		m.delivery[id] = d
	}
	return nil
}

// FinishDelivery implements support.ThreadStore.
func (m *Memory) FinishDelivery(_ context.Context, id, outcome string) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	switch outcome {
	case support.DeliverySent:
		m.delivery[id] = memDelivery{done: true}
	case support.DeliveryUnknown:
		m.delivery[id] = memDelivery{unknown: true}
	default:
		delete(m.delivery, id)
	}
	return nil
}

// Ping implements support.ThreadStore.
func (m *Memory) Ping(context.Context) error {
	if err := m.lock(); err != nil {
		return err
	}
	m.mu.Unlock()
	return nil
}

type memMoment struct {
	m       support.Moment
	version int64
}

// OpenMoment implements support.Moments.
func (m *Memory) OpenMoment(_ context.Context, channel, thread string, mo support.Moment) (bool, error) {
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	if m.moments == nil {
		m.moments = map[string]memMoment{}
	}
	k := channel + "|" + thread
	if _, ok := m.moments[k]; ok {
		return false, nil
	}
	m.moments[k] = memMoment{m: mo, version: 1}
	return true, nil
}

// GetMoment implements support.Moments.
func (m *Memory) GetMoment(_ context.Context, channel, thread string) (*support.Moment, int64, error) {
	if err := m.lock(); err != nil {
		return nil, 0, err
	}
	defer m.mu.Unlock()
	x, ok := m.moments[channel+"|"+thread]
	if !ok {
		return nil, 0, nil
	}
	mo := x.m
	return &mo, x.version, nil
}

// SetMoment implements support.Moments.
func (m *Memory) SetMoment(_ context.Context, channel, thread string, mo support.Moment, version int64) (bool, error) {
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	if m.moments == nil {
		m.moments = map[string]memMoment{}
	}
	k := channel + "|" + thread
	if m.moments[k].version != version {
		return false, nil
	}
	m.moments[k] = memMoment{m: mo, version: version + 1}
	return true, nil
}

// AddLoad implements support.Agents.
func (m *Memory) AddLoad(_ context.Context, agent string, e support.LoadEntry) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if m.loads == nil {
		m.loads = map[string][]support.LoadEntry{}
	}
	e.At = e.At.Truncate(time.Millisecond)
	e.Excess = math.Round(e.Excess*1000) / 1000
	if slices.Contains(m.loads[agent], e) {
		return nil // the same message again, as a sorted set keeps one
	}
	l := append(m.loads[agent], e)
	sort.SliceStable(l, func(i, j int) bool { return l[i].At.Before(l[j].At) })
	cut := e.At.Add(-support.LoadKeep)
	for len(l) > 0 && l[0].At.Before(cut) {
		l = l[1:]
	}
	m.loads[agent] = l
	return nil
}

// Loads implements support.Agents.
func (m *Memory) Loads(_ context.Context, agent string, since time.Time) ([]support.LoadEntry, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []support.LoadEntry
	for _, e := range m.loads[agent] {
		if !e.At.Before(since) {
			out = append(out, e)
		}
	}
	return out, nil
}

// LoadAgents implements support.Agents.
func (m *Memory) LoadAgents(context.Context) ([]string, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []string
	for a, l := range m.loads {
		if len(l) > 0 {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Pause implements support.Agents.
func (m *Memory) Pause(_ context.Context, agent string, d time.Duration) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if m.paused == nil {
		m.paused = map[string]time.Time{}
	}
	if d <= 0 {
		delete(m.paused, agent)
		return nil
	}
	m.paused[agent] = m.Clock().Add(d)
	return nil
}

// Paused implements support.Agents.
func (m *Memory) Paused(_ context.Context, agent string) (bool, error) {
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	return m.Clock().Before(m.paused[agent]), nil
}

// TakeBreather implements support.Agents.
func (m *Memory) TakeBreather(_ context.Context, agent string, every time.Duration) (bool, error) {
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	if m.breather == nil {
		m.breather = map[string]time.Time{}
	}
	if m.Clock().Before(m.breather[agent]) {
		return false, nil
	}
	m.breather[agent] = m.Clock().Add(every)
	return true, nil
}

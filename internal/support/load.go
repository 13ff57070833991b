package support

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"empathybot/internal/coach"
)

// Tense load is what a customer channel puts on an agent: over the last
// LoadWindow of working time, the sum of max(0, score − threshold) over
// the customer messages in threads the agent owns, and the count of the
// hostile ones (the coach finds swearing in them). It is computed from
// what customers send, never from the agent's own messages, timing or
// typing: a measure of exposure, not of the agent's state. It is shown to
// that agent only; leads see team figures, for teams of at least
// MinTeamForFigures agents.

// LoadWindow is the working time tense load looks back over.
const LoadWindow = 4 * time.Hour

// BreatherEvery is the least time between two breather DMs to one agent.
const BreatherEvery = 2 * time.Hour

// LoadKeep is how long a per-agent entry is kept (the figures expire after
// it).
const LoadKeep = 30 * 24 * time.Hour

// MinTeamForFigures is the smallest team whose figures leads see.
const MinTeamForFigures = 5

// MaxPause bounds /empathy pause.
const MaxPause = 8 * time.Hour

// KindBreather is the breather DM in the durable queue.
const KindBreather = "breather"

// LoadEntry is one tense customer message in a thread an agent owns: IDs,
// a time and a score, never text.
type LoadEntry struct {
	At      time.Time
	Thread  string  // channel:thread
	Excess  float64 // max(0, score − threshold)
	Hostile bool
}

// Load is an agent's tense load over the window.
type Load struct {
	Sum     float64 // the sum of the excess scores
	Threads int     // tense threads
	Hostile int     // hostile messages
}

// WorkingSince is the start of the last d of working time before now:
// with business hours, closed hours do not count (Monday 10:00 looks back
// to Friday afternoon); with none, now − d.
func WorkingSince(h Hours, now time.Time, d time.Duration) time.Time {
	if h.Always() {
		return now.Add(-d)
	}
	const step = 5 * time.Minute
	t, open := now, time.Duration(0)
	for i := 0; i < 8*24*12 && open < d; i++ { // at most 8 days back
		t = t.Add(-step)
		if !h.Next(t).After(t) {
			open += step
		}
	}
	return t
}

// LoadOf sums the entries in the working window before now.
func LoadOf(entries []LoadEntry, now time.Time, h Hours) Load {
	since := WorkingSince(h, now, LoadWindow)
	var l Load
	threads := map[string]bool{}
	for _, e := range entries {
		if e.At.Before(since) || e.At.After(now) {
			continue
		}
		if !h.Always() && h.Next(e.At).After(e.At) {
			continue // outside business hours: not in the working window
		}
		l.Sum += e.Excess
		if e.Hostile {
			l.Hostile++
		}
		threads[e.Thread] = true
	}
	l.Threads = len(threads)
	return l
}

// Hostile reports whether a customer message is hostile: the coach finds
// swearing in it (at the agent, the company or the product). Insults
// without swearing are not told apart from other anger yet.
func Hostile(a coach.Assessment) bool {
	return slices.ContainsFunc(a.Cues, func(c coach.Cue) bool { return c.Kind == coach.Profanity })
}

// AgentLoad is agent's tense load now.
func (d *Desk) AgentLoad(ctx context.Context, agent string) (Load, error) {
	now := d.Now()
	entries, err := d.store.Loads(ctx, agent, WorkingSince(d.cfg.Policy.Hours, now, LoadWindow))
	if err != nil {
		return Load{}, err
	}
	return LoadOf(entries, now, d.cfg.Policy.Hours), nil
}

// team is the team: EMPATHY_AGENTS and every agent who has owned a tense
// thread in the last LoadKeep, each once.
func (d *Desk) team(ctx context.Context) ([]string, error) {
	seen, err := d.store.LoadAgents(ctx)
	if err != nil {
		return nil, err
	}
	var team []string
	for _, a := range append(slices.Clone(d.cfg.Agents), seen...) {
		if !slices.Contains(team, a) {
			team = append(team, a)
		}
	}
	return team, nil
}

// TeamSize is how many agents the team has.
func (d *Desk) TeamSize(ctx context.Context) (int, error) {
	team, err := d.team(ctx)
	return len(team), err
}

// TeamLoads are the loads of the team's agents.
func (d *Desk) TeamLoads(ctx context.Context) (map[string]Load, error) {
	team, err := d.team(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Load, len(team))
	for _, a := range team {
		if out[a], err = d.AgentLoad(ctx, a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MedianLoad is the median of the loads' sums (0 for none).
func MedianLoad(loads map[string]Load) float64 {
	var v []float64
	for _, l := range loads {
		v = append(v, l.Sum)
	}
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// loadOnCustomer records a tense customer message against the thread's
// owner, and schedules a breather when their load passes BreatherAt (at
// most once every BreatherEvery, never outside business hours).
// owner is the thread's assignee as the record step found it (only an
// agent becomes one: a claim, a reply).
func (d *Desk) loadOnCustomer(ctx context.Context, channel, thread, owner string, at time.Time, a coach.Assessment) {
	excess := max(0, a.Score-d.coach.Threshold)
	hostile := Hostile(a)
	if owner == "" || excess == 0 && !hostile {
		return
	}
	if err := d.store.AddLoad(ctx, owner, LoadEntry{At: at, Thread: channel + ":" + thread, Excess: excess, Hostile: hostile}); err != nil {
		return
	}
	if d.cfg.BreatherAt <= 0 || d.cfg.Policy.Hours.Next(at).After(at) {
		return
	}
	l, err := d.AgentLoad(ctx, owner)
	if err != nil || l.Sum < d.cfg.BreatherAt {
		return
	}
	// A breather held back (sent within BreatherEvery) is remembered here
	// for a few minutes, so that a busy afternoon does not ask Redis at
	// every tense message.
	if d.breathers.held(owner, at) {
		return
	}
	ok, err := d.store.TakeBreather(ctx, owner, BreatherEvery)
	if err != nil {
		return
	}
	d.breathers.hold(owner, at.Add(5*time.Minute))
	if !ok {
		return
	}
	r := Reminder{Kind: KindBreather, Channel: channel, User: owner, Gen: at.UnixMilli(), N: 1, Due: at.UnixMilli()}
	if err := d.queue.Schedule(ctx, r); err != nil {
		d.log.Warn("breather not scheduled", "error", err)
	}
}

// breatherText is the breather DM: what the agent has been exposed to,
// and a suggestion, never a judgement of them.
func breatherText(l Load) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, ":herb: You've had %d tense thread", l.Threads)
	if l.Threads != 1 {
		sb.WriteString("s")
	}
	sb.WriteString(" in the last few hours")
	if l.Hostile > 0 {
		fmt.Fprintf(&sb, ", and %d message", l.Hostile)
		if l.Hostile != 1 {
			sb.WriteString("s")
		}
		sb.WriteString(" with swearing in")
	}
	sb.WriteString(". That's a lot to absorb. If you can, take ten minutes away from the screen; " +
		"`/empathy pause 30m` keeps new triage cards, on-call nudges and reminders for new threads away from you meanwhile " +
		"(your own threads still remind you).\n_Only you see this; it is about what customers sent, not about you._")
	return sb.String()
}

// Pause keeps new triage cards, on-call nudges and reminders for new
// threads away from agent for d (at most MaxPause; 0 lifts it). Their own
// threads still remind them.
func (d *Desk) Pause(ctx context.Context, agent, team string, dur time.Duration) (time.Duration, error) {
	if err := d.agent(ctx, agent, team); err != nil {
		return 0, err
	}
	if dur < 0 || dur > MaxPause {
		return 0, fmt.Errorf("%w: a pause is between 1 minute and %v", ErrBadRequest, MaxPause)
	}
	return dur, d.store.Pause(ctx, agent, dur)
}

// available orders the candidates who may be handed a new thread: agents,
// not paused, least-loaded first (ties in the given order).
func (d *Desk) available(ctx context.Context, candidates []string) []string {
	var names []string
	load := map[string]float64{}
	for _, who := range candidates {
		if who == "" || d.dir.Role(ctx, who, "") != Agent {
			continue
		}
		if paused, err := d.store.Paused(ctx, who); err != nil || paused {
			continue
		}
		l, _ := d.AgentLoad(ctx, who) // unread, a load counts as none: the agent stays available
		names, load[who] = append(names, who), l.Sum
	}
	sort.SliceStable(names, func(i, j int) bool { return load[names[i]] < load[names[j]] })
	return names
}

// OnCallList splits a channel's on-call setting: one agent or several,
// comma-separated.
func OnCallList(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// breatherHolds remembers, per agent and for a few minutes, that a
// breather is held back (loadOnCustomer), on this replica.
type breatherHolds struct {
	mu    sync.Mutex
	until map[string]time.Time // agent → held back until
}

func (b *breatherHolds) held(agent string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return now.Before(b.until[agent])
}

func (b *breatherHolds) hold(agent string, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil || len(b.until) > 10000 {
		b.until = map[string]time.Time{}
	}
	b.until[agent] = until
}

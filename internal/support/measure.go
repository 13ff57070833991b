package support

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"empathybot/internal/coach"
)

// This file is how the desk measures its own effect: every frustrated
// moment's outcome (outcome.go), the holdout, and the learner that chooses
// each nudge's technique (learner.go). None of it is on the ack path: it
// runs in After and in the queue's handlers, and a crash loses at most a
// count.

// momentOnCustomer applies a customer's message to the thread's moment. A
// calm message that follows no agent reply cannot change a moment, and
// reads nothing.
func (d *Desk) momentOnCustomer(ctx context.Context, channel, thread, ts string, at time.Time, v Verdict, afterReply, newly bool) {
	if !v.Frustrated && !afterReply {
		return
	}
	arm := func(cue string) string { return d.cfg.Holdout.Arm(channel, thread, cue) }
	if newly {
		// The thread's first frustrated message: it has no moment yet
		// (unless a nudge opened it), and one SET NX opens it.
		m := Moment{TS: ts, At: at.UnixMilli(), Score: v.Score, Cue: v.Cue, Arm: arm(v.Cue)}
		if ok, err := d.store.OpenMoment(ctx, channel, thread, m); err != nil || ok {
			if ok {
				d.opened(ctx, channel, thread, m)
			}
			return
		}
	}
	d.updateMoment(ctx, channel, thread, at, func(m *Moment) (*Moment, bool, []Tally) {
		return OnCustomer(m, ts, at, v, d.coach.Threshold, arm)
	})
}

// momentOnReply applies an agent's reply (whether it acknowledged the
// feeling) to the thread's moment.
func (d *Desk) momentOnReply(ctx context.Context, channel, thread string, at time.Time, acknowledged bool) {
	d.updateMoment(ctx, channel, thread, at, func(m *Moment) (*Moment, bool, []Tally) {
		return m, OnReply(m, at, acknowledged), nil
	})
}

// updateMoment applies change to the thread's moment by compare and set
// (three tries: another replica may be changing it too), then counts what
// it settled, and schedules the check of a moment it opened.
func (d *Desk) updateMoment(ctx context.Context, channel, thread string, at time.Time, change func(*Moment) (*Moment, bool, []Tally)) {
	m, version, err := d.store.GetMoment(ctx, channel, thread)
	if err != nil {
		d.log.Debug("moment not read", "channel", channel, "error", err)
		return
	}
	d.updateMomentFrom(ctx, channel, thread, at, m, version, change)
}

// updateMomentFrom is updateMoment from a moment already read (m at
// version): it reads again only if another writer came first.
func (d *Desk) updateMomentFrom(ctx context.Context, channel, thread string, at time.Time, m *Moment, version int64, change func(*Moment) (*Moment, bool, []Tally)) {
	for try := 0; try < 3; try++ {
		if try > 0 {
			var err error
			if m, version, err = d.store.GetMoment(ctx, channel, thread); err != nil {
				d.log.Debug("moment not read", "channel", channel, "error", err)
				return
			}
		}
		was := ""
		if m != nil {
			was = m.TS
		}
		next, changed, settled := change(m)
		if !changed || next == nil {
			return
		}
		ok, err := d.store.SetMoment(ctx, channel, thread, *next, version)
		if err != nil {
			d.log.Debug("moment not written", "channel", channel, "error", err)
			return
		}
		if !ok {
			continue
		}
		d.tally(ctx, channel, at, settled)
		if next.TS != was {
			d.opened(ctx, channel, thread, *next)
		}
		return
	}
}

// momentStamp records a time on the thread's moment (its resolution, its
// check-in), the first time only.
func (d *Desk) momentStamp(ctx context.Context, channel, thread string, field func(*Moment) *int64, at time.Time) {
	d.updateMoment(ctx, channel, thread, at, func(m *Moment) (*Moment, bool, []Tally) {
		if m == nil || *field(m) != 0 {
			return m, false, nil
		}
		*field(m) = at.UnixMilli()
		return m, true, nil
	})
}

// opened follows a moment just opened: it counts it for its day, and arms
// the check that settles it if its window runs out (no reply, or silence
// after the reply).
func (d *Desk) opened(ctx context.Context, channel, thread string, m Moment) {
	_ = d.store.Count(ctx, channel, time.UnixMilli(m.At), StatMoments)
	due := time.UnixMilli(m.At).Add(ReplyWindow)
	r := Reminder{Kind: KindOutcome, Channel: channel, Thread: thread, Gen: m.At, N: 1, Due: due.UnixMilli()}
	if err := d.queue.Schedule(ctx, r); err != nil {
		d.log.Debug("moment check not scheduled", "channel", channel, "error", err)
	}
}

// checkMoment is the queue's handler for a moment's check.
func (d *Desk) checkMoment(ctx context.Context, r Reminder) (string, error) {
	now := d.Now()
	for try := 0; try < 3; try++ {
		m, version, err := d.store.GetMoment(ctx, r.Channel, r.Thread)
		if err != nil {
			return "", err
		}
		if m == nil || m.At != r.Gen || !m.Open() {
			return Moot, nil // gone, another moment, or settled already
		}
		t, next := Check(m, now)
		if t == nil {
			if next.IsZero() {
				return Moot, nil
			}
			// A reply came: its answer window runs from the reply.
			nr := Reminder{Kind: KindOutcome, Channel: r.Channel, Thread: r.Thread, Gen: r.Gen, N: r.N + 1, Due: next.UnixMilli()}
			return Moot, d.queue.Schedule(ctx, nr)
		}
		ok, err := d.store.SetMoment(ctx, r.Channel, r.Thread, *m, version)
		if err != nil {
			return "", err
		}
		if ok {
			d.tally(ctx, r.Channel, now, []Tally{*t})
			return Settled, nil
		}
	}
	return "", ErrBusy
}

// tally counts what moments settled: in the channel's numbers, and for the
// learner.
func (d *Desk) tally(ctx context.Context, channel string, at time.Time, ts []Tally) {
	for _, t := range ts {
		_ = d.store.Count(ctx, channel, at, t.Fields()...)
		if win, ok := t.Learned(); ok {
			_ = d.store.Count(ctx, LearnChannel, at, LearnField(t.Cue, t.Technique, win))
			d.learn.settled(t.Cue, t.Technique, win)
		}
	}
}

// armOf is the arm of the nudge t: that of the thread's open moment, else
// the holdout's assignment for t's cue kind (the moment may not be
// recorded yet: the nudge can be read from the queue before the ack's
// After work runs). m is the thread's moment (nil when none).
func (d *Desk) armOf(ctx context.Context, t NudgeTask) (arm string, m *Moment, version int64) {
	m, version, err := d.store.GetMoment(ctx, t.Channel, t.Thread)
	if err == nil && m != nil && m.Open() {
		return m.Arm, m, version
	}
	return d.cfg.Holdout.Arm(t.Channel, t.Thread, string(t.Basis.Kind)), m, version
}

// noteTechnique records on the thread's moment the technique a nudge
// offered and the probability it had: on the open moment, or on one
// opened here from the nudge when After has not opened it yet. m and
// version are the moment as armOf read it.
func (d *Desk) noteTechnique(ctx context.Context, t NudgeTask, technique string, prob float64, m *Moment, version int64) {
	arm := ArmNudge
	fresh := Moment{TS: t.TS, At: t.At, Score: t.Basis.Score, Cue: string(t.Basis.Kind), Arm: arm, Technique: technique, Prob: prob}
	d.updateMomentFrom(ctx, t.Channel, t.Thread, d.Now(), m, version, func(m *Moment) (*Moment, bool, []Tally) {
		switch {
		case m == nil || !m.Open() && time.UnixMilli(m.At).Add(ReescalateWindow).Before(time.UnixMilli(t.At)):
			return &fresh, true, nil
		case m.Open() && m.Technique == "" && m.Arm == ArmNudge:
			m.Technique, m.Prob = technique, prob
			return m, true, nil
		}
		return m, false, nil
	})
}

// chooseTechnique picks the technique of a nudge about b: the learner's
// choice among the techniques that fit (Thompson sampling on what
// de-escalated), or with FixedTips the catalogue's order ("" and 1).
func (d *Desk) chooseTechnique(ctx context.Context, b coach.Basis) (string, float64) {
	if d.cfg.FixedTips {
		return "", 1
	}
	techs := d.coach.Techniques(b)
	post := d.learn.posterior(ctx, d, string(b.Kind))
	d.learn.mu.Lock()
	defer d.learn.mu.Unlock()
	return Choose(d.learn.rng, techs, post)
}

// learnDays is how far back the learner reads.
const learnDays = 60

// learnCache keeps what the learner read, for a minute, so that a nudge
// costs no reading of 60 days of counts.
type learnCache struct {
	mu   sync.Mutex
	rng  *rand.Rand
	post map[string]map[string]Record // by cue kind (or tone), then technique
	at   time.Time                    // when post was read
}

func newLearnCache() *learnCache {
	return &learnCache{rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// settled adds a moment this replica just settled to what the learner
// read, so that its next choice counts it without reading again.
func (l *learnCache) settled(cue, technique string, win bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.post == nil {
		return // nothing read yet: the next read counts it
	}
	addRecord(l.post, cueOrTone(cue), technique, win, 1)
}

// addRecord adds n wins or losses of technique for cue kind key to post.
func addRecord(post map[string]map[string]Record, key, technique string, win bool, n int) {
	if post[key] == nil {
		post[key] = map[string]Record{}
	}
	r := post[key][technique]
	if win {
		r.Wins += n
	} else {
		r.Losses += n
	}
	post[key][technique] = r
}

// posterior returns the learner's counts for cue: the counts of every cue
// kind are read in one go, at most once a minute (60 days of one stats
// hash: about 120 Redis commands), whatever the rate of nudges.
func (l *learnCache) posterior(ctx context.Context, d *Desk, cue string) map[string]Record {
	now := d.Now()
	l.mu.Lock()
	post, fresh := l.post, l.post != nil && now.Sub(l.at) < time.Minute
	l.mu.Unlock()
	if !fresh {
		st, err := d.store.Stats(ctx, LearnChannel, now, learnDays)
		if err == nil {
			post = map[string]map[string]Record{}
			for f, n := range st.Counts {
				rest, ok := strings.CutPrefix(f, "learn:") // LearnField's
				if !ok {
					continue
				}
				key, rest, _ := strings.Cut(rest, ":")
				tech, win := strings.CutSuffix(rest, ":win")
				if !win {
					if tech, ok = strings.CutSuffix(rest, ":loss"); !ok {
						continue
					}
				}
				addRecord(post, key, tech, win, n)
			}
			l.mu.Lock()
			l.post, l.at = post, now
			l.mu.Unlock()
		}
		// On an error: what it had (nil: uniform priors).
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	rec := make(map[string]Record, len(post[cueOrTone(cue)]))
	for k, v := range post[cueOrTone(cue)] {
		rec[k] = v
	}
	return rec
}

package support

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// KindReport is the leads' periodic report in the durable queue.
const KindReport = "report"

// StatMoments counts frustrated moments as they open, per channel and day.
const StatMoments = "moments"

// Report is the leads' picture of a period: team figures only, never an
// agent's.
type Report struct {
	From, To time.Time
	// Days are the frustrated moments per day, oldest first.
	Days []DayCount
	// Lift is the period's outcomes, nudged and held out.
	Lift Lift
	// FirstReplies is how many frustrated threads got a first agent reply,
	// and MedianFirstReply how long it took (the median of the channels'
	// medians, weighted by their replies).
	FirstReplies     int
	MedianFirstReply time.Duration
	Channels         []string
	// TeamSize is how many agents the team has: the first-reply figure,
	// about agents' timing, is shown only for MinTeamForFigures or more.
	TeamSize int
}

// DayCount is one day's frustrated moments.
type DayCount struct {
	Day        time.Time
	Frustrated int
}

// maxReportDays bounds the days a report reads.
const maxReportDays = 31

// ScheduleReport arms the next report for the leads: the period ends at
// the next multiple of ReportEvery (time.Truncate's: counted from Monday
// 1 January of year 1, UTC, so a week ends on Monday 00:00 UTC), and the report
// is sent then, or at the next business hour. Every replica arms the same
// task, which the queue keeps once. Without leads it does nothing.
func (d *Desk) ScheduleReport(ctx context.Context) error {
	if len(d.cfg.Leads) == 0 || d.cfg.ReportEvery <= 0 {
		return nil
	}
	return d.queue.Schedule(ctx, d.reportAt(d.Now().Truncate(d.cfg.ReportEvery).Add(d.cfg.ReportEvery)))
}

// reportAt is the report of the period that ends at end.
func (d *Desk) reportAt(end time.Time) Reminder {
	return Reminder{Kind: KindReport, Gen: end.UnixMilli(), N: 1, Due: d.cfg.Policy.Hours.Next(end).UnixMilli()}
}

// deliverReport sends the report of the period ending at r.Gen to every lead, once each, after
// arming the next one (scheduling is idempotent, sending is not).
func (d *Desk) deliverReport(ctx context.Context, r Reminder) (string, error) {
	every := d.cfg.ReportEvery
	if len(d.cfg.Leads) == 0 || every <= 0 {
		return Moot, nil
	}
	end := time.UnixMilli(r.Gen)
	if err := d.queue.Schedule(ctx, d.reportAt(end.Add(every))); err != nil {
		return "", err
	}
	rep, err := d.BuildReport(ctx, end.Add(-every), end)
	if err != nil {
		return "", err
	}
	outcome := Sent
	for _, lead := range d.cfg.Leads {
		o, err := d.once(ctx, r.ID()+"|"+lead, func(ctx context.Context, del Delivery) error {
			return d.notify.Report(ctx, del, lead, rep)
		})
		if err != nil {
			return "", err
		}
		if o != Sent {
			outcome = o
		}
	}
	return outcome, nil
}

// BuildReport gathers the watched channels' figures for [from, to).
func (d *Desk) BuildReport(ctx context.Context, from, to time.Time) (Report, error) {
	rep := Report{From: from, To: to, Channels: d.cfg.Channels}
	days := min(max(int(to.Sub(from).Hours()/24+0.999), 1), maxReportDays)
	last := to.Add(-time.Millisecond)
	for i := days - 1; i >= 0; i-- {
		rep.Days = append(rep.Days, DayCount{Day: last.AddDate(0, 0, -i).UTC().Truncate(24 * time.Hour)})
	}
	total := ChannelStats{Counts: map[string]int{}}
	type med struct {
		d time.Duration
		n int
	}
	var meds []med
	for _, ch := range d.cfg.Channels {
		st, err := d.store.Stats(ctx, ch, last, days)
		if err != nil {
			return rep, fmt.Errorf("report: %w", err)
		}
		for i, day := range st.PerDay { // the newest first; rep.Days the oldest first
			rep.Days[days-1-i].Frustrated += day[StatMoments]
		}
		for k, n := range st.Counts {
			total.Counts[k] += n
		}
		if st.FirstReplies > 0 {
			rep.FirstReplies += st.FirstReplies
			meds = append(meds, med{st.MedianFirstReply, st.FirstReplies})
		}
	}
	rep.Lift = LiftOf(total, d.cfg.Holdout.Fraction)
	var err error
	if rep.TeamSize, err = d.TeamSize(ctx); err != nil {
		return rep, fmt.Errorf("report: %w", err)
	}
	slices.SortFunc(meds, func(a, b med) int { return int(a.d - b.d) })
	seen := 0
	for _, m := range meds {
		if seen += m.n; 2*seen >= rep.FirstReplies {
			rep.MedianFirstReply = m.d
			break
		}
	}
	return rep, nil
}

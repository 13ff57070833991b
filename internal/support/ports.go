package support

import (
	"context"
	"time"
)

// ThreadStore is the state the desk keeps: threads, cooldowns, on-call
// agents, snoozes, recent nudges, stats, open items and delivery keys.
// redisstore implements it, and supporttest in memory.
type ThreadStore interface {
	FirstDelivery(ctx context.Context, eventID string) (bool, error)
	CustomerMessage(ctx context.Context, channel, ts, user string, at time.Time, score float64, frustrated bool, cue string) (Thread, error)
	AgentReply(ctx context.Context, channel, ts, agent string, at time.Time) (Thread, error)
	Claim(ctx context.Context, channel, ts, agent string) error
	Resolve(ctx context.Context, channel, ts, agent string, at time.Time) (Thread, bool, error)
	GetThread(ctx context.Context, channel, ts string) (Thread, error)
	SetPending(ctx context.Context, r Reminder) error
	RemindersDone(ctx context.Context, channel, ts string) error
	MapReply(ctx context.Context, channel, ts, thread string) error
	ThreadOf(ctx context.Context, channel, ts string) (string, error)
	TryNudge(ctx context.Context, channel, ts string, now time.Time, cooldown time.Duration) (bool, error)
	ReleaseNudge(ctx context.Context, channel, ts string) error
	SetOnCall(ctx context.Context, channel, agent string) error
	OnCall(ctx context.Context, channel string) (string, error)
	Snooze(ctx context.Context, agent string, d time.Duration) error
	Snoozed(ctx context.Context, agent string) (bool, error)
	RecentTips(ctx context.Context, agent string) ([]string, error)
	Nudged(ctx context.Context, agent string, n NudgeRecord) error
	RecentNudges(ctx context.Context, agent string, n int) ([]NudgeRecord, error)
	Count(ctx context.Context, channel, field string, at time.Time) error
	AddReplyWait(ctx context.Context, channel string, at time.Time, wait time.Duration) error
	Feedback(ctx context.Context, channel, cue, technique string, useful bool, at time.Time) error
	Stats(ctx context.Context, channel string, now time.Time, days int) (ChannelStats, error)
	AddOpen(ctx context.Context, agent string, item OpenItem) error
	RemoveOpen(ctx context.Context, agent, taskID string) error
	OpenItems(ctx context.Context, agent string) ([]OpenItem, error)
	BeginDelivery(ctx context.Context, id string, lease time.Duration) (string, error)
	FinishDelivery(ctx context.Context, id string, delivered bool) error
	Ping(ctx context.Context) error
}

// Scheduler holds reminders until they are due (durably, in redisstore).
// Scheduling the same reminder twice is one reminder.
type Scheduler interface {
	Schedule(ctx context.Context, r Reminder) error
	Cancel(id string) error
}

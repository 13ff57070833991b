package redisstore

import (
	"context"
	"empathybot/internal/support"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Task types.
const (
	taskType   = "empathy:reminder"
	nudgeType  = "empathy:nudge"
	reviewType = "empathy:review"
)

// taskRetention is how long a finished task's ID is kept: a task handed
// over again in that time (a redelivered event) is recognised as the same
// and not run twice. asynq expires the finished task's keys after it.
const taskRetention = time.Hour

// maxRetries: a reminder whose delivery fails (Slack down, Redis away) is
// retried with a back-off capped at one minute, for about three hours, before
// asynq archives it.
const maxRetries = 200

// Queue is the durable delayed-task queue of reminders, on asynq: a task is
// stored in Redis before Schedule returns, leased by one worker at a time,
// and returned to the queue if its worker dies.
type Queue struct {
	rdb    redis.UniversalClient
	name   string
	client *asynq.Client
	insp   *asynq.Inspector
	log    *slog.Logger

	// Poll is how often due reminders are moved to the ready list; it
	// bounds their lateness. Default 200ms.
	Poll time.Duration
	// Concurrency is the number of reminders handled at once per replica
	// (default 100; a worker may spend up to a second waiting for the exact
	// due time, see Serve).
	Concurrency int
}

// QueueName turns a key prefix into an asynq queue name, so deployments (and
// tests) with different prefixes never share reminders.
func QueueName(prefix string) string {
	q := strings.NewReplacer("{", "_", "}", "_").Replace(strings.TrimSuffix(prefix, ":"))
	if q == "" {
		q = "empathy"
	}
	return q
}

// NewQueue builds the queue over rdb; prefix is the store's key prefix.
func NewQueue(rdb redis.UniversalClient, prefix string, log *slog.Logger) *Queue {
	return &Queue{rdb: rdb, name: QueueName(prefix), client: asynq.NewClientFromRedisClient(rdb),
		insp: asynq.NewInspectorFromRedisClient(rdb), log: log, Poll: 200 * time.Millisecond, Concurrency: 100}
}

// Name is the asynq queue name.
func (q *Queue) Name() string { return q.name }

// Schedule stores r, due at r.Due. Scheduling a reminder that is already
// scheduled (the same ID) is not an error and does nothing.
func (q *Queue) Schedule(ctx context.Context, r support.Reminder) error {
	payload, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, taskType, r.ID(), payload, asynq.ProcessAt(r.DueAt()))
}

// EnqueueNudge hands a nudge to the queue for delivery now, by any replica.
func (q *Queue) EnqueueNudge(ctx context.Context, n support.NudgeTask) error {
	payload, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, nudgeType, n.ID(), payload)
}

// EnqueueReview hands a review of an agent's reply to the queue.
func (q *Queue) EnqueueReview(ctx context.Context, r support.ReviewTask) error {
	payload, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, reviewType, r.ID(), payload)
}

func (q *Queue) enqueue(ctx context.Context, typ, id string, payload []byte, opts ...asynq.Option) error {
	opts = append(opts, asynq.TaskID(id), asynq.Queue(q.name), asynq.MaxRetry(maxRetries), asynq.Timeout(2*time.Minute), asynq.Retention(taskRetention))
	_, err := q.client.EnqueueContext(ctx, asynq.NewTask(typ, payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("queue %s: %w", id, err)
	}
	return nil
}

// Cancel removes a scheduled reminder. A reminder that already fired, is
// being delivered, or never existed is not an error: every delivery checks
// the thread's state anyway, so cancelling is tidiness, not correctness.
func (q *Queue) Cancel(id string) error {
	if id == "" {
		return nil
	}
	err := q.insp.DeleteTask(q.name, id)
	if err == nil || errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	if strings.Contains(err.Error(), "FAILED_PRECONDITION") || strings.Contains(err.Error(), "active") {
		return nil // being delivered right now
	}
	return fmt.Errorf("cancel %s: %w", id, err)
}

// Depth returns how many reminders are scheduled (not yet due) and pending
// (due, waiting for a worker).
func (q *Queue) Depth() (scheduled, pending int, err error) {
	info, err := q.insp.GetQueueInfo(q.name)
	if err != nil {
		// A queue that never held a task does not exist yet: it is empty.
		if qs, qerr := q.insp.Queues(); qerr == nil && !slices.Contains(qs, q.name) {
			return 0, 0, nil
		}
		return 0, 0, err
	}
	return info.Scheduled + info.Retry, info.Pending + info.Active, nil
}

// Handlers deliver tasks. An error means "not delivered, retry later"; a
// *support.RetryLater error says how much later.
type Handlers struct {
	Reminder func(ctx context.Context, r support.Reminder) error
	Nudge    func(ctx context.Context, n support.NudgeTask) error
	Review   func(ctx context.Context, r support.ReviewTask) error
}

// retryDelay is the back-off before retry n: exponential from one second,
// capped at a minute, with ±20% jitter so replicas do not retry in step; at
// least a rate limit's Retry-After.
func retryDelay(n int, err error) time.Duration {
	d := min(time.Duration(1<<min(n, 6))*time.Second, time.Minute)
	var rl *support.RetryLater
	if errors.As(err, &rl) && rl.After > 0 {
		d = rl.After
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// Serve runs workers for the queue until ctx ends, then stops taking tasks
// and waits up to grace for the ones in progress (an unfinished task goes back
// to the queue and another replica delivers it).
func (q *Queue) Serve(ctx context.Context, grace time.Duration, h Handlers) error {
	srv := asynq.NewServerFromRedisClient(q.rdb, asynq.Config{
		Concurrency:              q.Concurrency,
		Queues:                   map[string]int{q.name: 1},
		DelayedTaskCheckInterval: q.Poll,
		// An idle worker looks for work this often: it bounds how long a
		// nudge waits in the queue (one small dequeue script per interval
		// while idle).
		TaskCheckInterval:   10 * time.Millisecond,
		ShutdownTimeout:     grace,
		HealthCheckInterval: 5 * time.Second,
		RetryDelayFunc:      func(n int, err error, t *asynq.Task) time.Duration { return retryDelay(n, err) },
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			n, _ := asynq.GetRetryCount(ctx)
			q.log.Warn("task not delivered; will retry", "task", id, "retry", n, "error", err)
		}),
		Logger:   asynqLogger{q.log},
		LogLevel: asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(taskType, func(ctx context.Context, t *asynq.Task) error {
		var r support.Reminder
		if err := json.Unmarshal(t.Payload(), &r); err != nil {
			return fmt.Errorf("%w: bad reminder payload: %v", asynq.SkipRetry, err)
		}
		// asynq keeps due times in whole seconds and may hand a task over up
		// to a second early: wait for the real due time (a longer wait means
		// the replicas' clocks disagree; retry rather than hold a worker).
		if early := time.Until(r.DueAt()); early > 0 {
			if early > 5*time.Second {
				return fmt.Errorf("reminder %s handed over %v early", r.ID(), early)
			}
			select {
			case <-time.After(early):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return h.Reminder(ctx, r)
	})
	mux.HandleFunc(nudgeType, func(ctx context.Context, t *asynq.Task) error {
		var n support.NudgeTask
		if err := json.Unmarshal(t.Payload(), &n); err != nil {
			return fmt.Errorf("%w: bad nudge payload: %v", asynq.SkipRetry, err)
		}
		return h.Nudge(ctx, n)
	})
	mux.HandleFunc(reviewType, func(ctx context.Context, t *asynq.Task) error {
		var r support.ReviewTask
		if err := json.Unmarshal(t.Payload(), &r); err != nil {
			return fmt.Errorf("%w: bad review payload: %v", asynq.SkipRetry, err)
		}
		return h.Review(ctx, r)
	})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("reminder queue: %w", err)
	}
	<-ctx.Done()
	srv.Shutdown()
	return nil
}

// asynqLogger sends asynq's own logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}

package redisstore

import (
	"context"
	"empathybot/internal/support"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

const taskType = "empathy:reminder"

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

	// Poll is how often due tasks are moved to the ready list (and how often
	// idle workers look for work); it bounds firing lateness. Default 200ms.
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
	_, err = q.client.EnqueueContext(ctx, asynq.NewTask(taskType, payload), asynq.TaskID(r.ID()), asynq.Queue(q.name),
		asynq.ProcessAt(r.DueAt()), asynq.MaxRetry(maxRetries), asynq.Timeout(2*time.Minute))
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("schedule %s: %w", r.ID(), err)
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

// Handler delivers one reminder. An error means "not delivered, retry later".
type Handler func(ctx context.Context, r support.Reminder) error

// Serve runs workers for the queue until ctx ends, then stops taking tasks
// and waits up to grace for the ones in progress (an unfinished task goes back
// to the queue and another replica delivers it).
func (q *Queue) Serve(ctx context.Context, grace time.Duration, h Handler) error {
	srv := asynq.NewServerFromRedisClient(q.rdb, asynq.Config{
		Concurrency:              q.Concurrency,
		Queues:                   map[string]int{q.name: 1},
		DelayedTaskCheckInterval: q.Poll,
		TaskCheckInterval:        q.Poll,
		ShutdownTimeout:          grace,
		HealthCheckInterval:      5 * time.Second,
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			return min(time.Duration(1<<min(n, 6))*time.Second, time.Minute)
		},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			n, _ := asynq.GetRetryCount(ctx)
			q.log.Warn("reminder not delivered; will retry", "task", id, "retry", n, "error", err)
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
		return h(ctx, r)
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

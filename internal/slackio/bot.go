// Package slackio is empathybot's Slack adapter and the only package that
// imports slack-go: the Socket Mode loop, event routing, the /empathy command,
// Block Kit rendering and delivery with rate-limit handling.
package slackio

import (
	"context"
	"empathybot/internal/support"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"empathybot/internal/coach"
	"empathybot/internal/metrics"
)

// Config is what the bot needs from the environment.
type Config struct {
	Channels   []string      // watched channel IDs; empty: every channel the bot is in
	Agents     []string      // agent user IDs
	AgentGroup string        // user group whose members are agents
	NudgeDM    bool          // DM the agent instead of an ephemeral message in the thread
	Cooldown   time.Duration // per-thread nudge cooldown
	Workers    int           // concurrent event handlers (default 8; more only adds scheduling noise to the ack path on small machines)

	// Follow-ups: response reminders and check-ins (zero values disable them).
	Policy support.Policy

	// Metrics records what the bot does (nil: a private registry nobody reads).
	Metrics *metrics.M
	// HTTPClient is used for response_url posts (the Web API client has its own).
	HTTPClient *http.Client
}

// Bot is the running Slack bot.
type Bot struct {
	log     *slog.Logger
	api     *slack.Client
	sm      *socketmode.Client
	coach   *coach.Coach
	store   support.ThreadStore
	queue   support.Scheduler
	cfg     Config
	metrics *metrics.M

	// Now is the clock; tests may replace it.
	Now func() time.Time
	// AfterEvent, if set, is called with each event ID once its handling is
	// finished (the demo and tests wait on it instead of sleeping).
	AfterEvent func(eventID string)

	botUserID string
	teamID    string
	watched   map[string]bool
	agents    map[string]bool

	groupMu      sync.Mutex
	groupMembers map[string]bool
	groupAt      time.Time
	teams        map[string]teamEntry // user → team, for payloads without one

	jobs      chan func(context.Context)
	connected atomic.Bool
	inflight  sync.WaitGroup
}

// Credentials are how the bot reaches Slack.
type Credentials struct {
	BotToken, AppToken string
	APIURL             string        // Slack's Web API base URL, ending in "/"
	PingInterval       time.Duration // Socket Mode ping interval (0: slack-go's default)
}

// NewBot builds a bot that reaches Slack with cr over cfg.HTTPClient.
func NewBot(log *slog.Logger, cr Credentials, c *coach.Coach, store support.ThreadStore, queue support.Scheduler, cfg Config) *Bot {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	api := slack.New(cr.BotToken, slack.OptionAPIURL(cr.APIURL), slack.OptionAppLevelToken(cr.AppToken), slack.OptionHTTPClient(cfg.HTTPClient))
	var smOpts []socketmode.Option
	if cr.PingInterval > 0 {
		smOpts = append(smOpts, socketmode.OptionPingInterval(cr.PingInterval))
	}
	return newBot(log, api, socketmode.New(api, smOpts...), c, store, queue, cfg)
}

func newBot(log *slog.Logger, api *slack.Client, sm *socketmode.Client, c *coach.Coach, store support.ThreadStore, queue support.Scheduler, cfg Config) *Bot {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = 10 * time.Minute
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	b := &Bot{log: log, api: api, sm: sm, coach: c, store: store, queue: queue, cfg: cfg, metrics: cfg.Metrics, Now: time.Now,
		watched: map[string]bool{}, agents: map[string]bool{}, teams: map[string]teamEntry{}, jobs: make(chan func(context.Context), 4096)}
	for _, ch := range cfg.Channels {
		b.watched[ch] = true
	}
	for _, a := range cfg.Agents {
		b.agents[a] = true
	}
	return b
}

type teamEntry struct {
	team string
	at   time.Time
}

// ErrInvalidAuth means Slack refused a token; retrying will not help.
var ErrInvalidAuth = errors.New("slack refused the token (invalid_auth)")

// Connected reports whether the Socket Mode connection is up.
func (b *Bot) Connected() bool { return b.connected.Load() }

// Run checks the bot token, connects in Socket Mode and handles envelopes
// until ctx ends; then it stops taking envelopes, finishes in-flight work for
// up to 4 s, and returns nil.
func (b *Bot) Run(ctx context.Context) error {
	auth, err := b.api.AuthTestContext(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "not_authed") {
			return fmt.Errorf("SLACK_BOT_TOKEN: %w", ErrInvalidAuth)
		}
		return fmt.Errorf("auth.test: %w", err)
	}
	b.botUserID, b.teamID = auth.UserID, auth.TeamID
	b.log.Info("authenticated", "team", auth.TeamID, "bot_user", auth.UserID)

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var workers sync.WaitGroup
	for i := 0; i < b.cfg.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for job := range b.jobs {
				job(workCtx)
				b.inflight.Done()
			}
		}()
	}

	smCtx, stopSM := context.WithCancel(ctx)
	defer stopSM()
	smErr := make(chan error, 1)
	go func() { smErr <- b.sm.RunContext(smCtx) }()

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-smErr:
			if err != nil && !errors.Is(err, context.Canceled) {
				if strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "not_authed") {
					runErr = fmt.Errorf("SLACK_APP_TOKEN: %w", ErrInvalidAuth)
				} else {
					runErr = fmt.Errorf("socket mode: %w", err)
				}
			}
			break loop
		case evt, ok := <-b.sm.Events:
			if !ok {
				break loop
			}
			b.dispatch(ctx, evt)
		}
	}
	stopSM()
	b.setConnected(false)
	// Finish in-flight work, but not forever.
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(4 * time.Second):
		b.log.Warn("shutdown: in-flight work did not finish in time")
	}
	close(b.jobs)
	stopWork()
	workers.Wait()
	return runErr
}

func (b *Bot) setConnected(up bool) {
	b.connected.Store(up)
	v := 0.0
	if up {
		v = 1
	}
	b.metrics.SocketConnected.Set(v)
}

// schedule puts a reminder in the queue and counts it.
func (b *Bot) schedule(ctx context.Context, r support.Reminder) error {
	if err := b.queue.Schedule(ctx, r); err != nil {
		return err
	}
	b.metrics.RemindersSched.WithLabelValues(r.Kind).Inc()
	return nil
}

// enqueue hands work to the worker pool without blocking the ack path for long.
func (b *Bot) enqueue(job func(context.Context)) {
	b.inflight.Add(1)
	b.jobs <- job
	b.metrics.WorkQueue.Set(float64(len(b.jobs)))
}

// dispatch acks an envelope at once, then routes it.
func (b *Bot) dispatch(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		b.setConnected(true)
		b.log.Info("socket mode connected")
		return
	case socketmode.EventTypeConnecting:
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeDisconnect:
		b.setConnected(false)
		b.log.Warn("socket mode connection problem", "type", string(evt.Type))
		return
	case socketmode.EventTypeInvalidAuth:
		b.setConnected(false)
		return
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse it; ack it anyway if it has an envelope ID
		// so Slack does not redeliver a message we can never handle.
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				b.sm.AckCtx(ctx, env.EnvelopeID, nil)
			}
			b.log.Warn("malformed envelope", "envelope", env.EnvelopeID, "error", bad.Cause)
		}
		return
	}
	if evt.Request == nil {
		return
	}
	start := time.Now()
	b.metrics.Envelopes.WithLabelValues(string(evt.Type)).Inc()
	defer func() { b.metrics.AckLatency.Observe(time.Since(start).Seconds()) }()
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		b.sm.Ack(*evt.Request)
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			return
		}
		b.routeEvent(ev, evt.Request.RetryAttempt)
	case socketmode.EventTypeInteractive:
		b.sm.Ack(*evt.Request)
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || cb.Type != slack.InteractionTypeBlockActions {
			return
		}
		for _, a := range cb.ActionCallback.BlockActions {
			if a == nil {
				continue
			}
			act := *a
			b.enqueue(func(ctx context.Context) { b.handleAction(ctx, cb, act) })
		}
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			b.sm.Ack(*evt.Request)
			return
		}
		now, later := b.command(cmd)
		if later == nil {
			b.sm.Ack(*evt.Request, now)
			return
		}
		b.sm.Ack(*evt.Request)
		b.enqueue(func(ctx context.Context) {
			if err := b.respond(ctx, cmd.ResponseURL, later(ctx)); err != nil {
				b.log.Warn("command reply not delivered", "channel", cmd.ChannelID, "user", cmd.UserID, "error", err)
			}
		})
	default:
		b.sm.Ack(*evt.Request)
	}
}

func (b *Bot) routeEvent(ev slackevents.EventsAPIEvent, retry int) {
	cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
	eventID := ""
	if cb != nil {
		eventID = cb.EventID
	}
	// handle runs job on a worker, once per event: Slack redelivers an event
	// (retry_attempt ≥ 1) to any connection of any replica.
	handle := func(job func(context.Context)) {
		b.enqueue(func(ctx context.Context) {
			if b.firstDelivery(ctx, eventID, retry) {
				job(ctx)
			}
			if b.AfterEvent != nil {
				b.AfterEvent(eventID)
			}
		})
	}
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		if !b.wantMessage(inner) {
			return
		}
		msg := *inner
		handle(func(ctx context.Context) { b.handleMessage(ctx, eventID, retry, &msg) })
	case *slackevents.ReactionAddedEvent:
		if !b.watching(inner.Item.Channel) || inner.Item.Type != "message" {
			return
		}
		r := *inner
		switch r.Reaction {
		case "eyes":
			handle(func(ctx context.Context) { b.handleClaim(ctx, &r) })
		case "white_check_mark", "heavy_check_mark":
			handle(func(ctx context.Context) { b.handleResolveReaction(ctx, &r) })
		}
	case *slackevents.AppHomeOpenedEvent:
		if inner.Tab != "home" && inner.Tab != "" {
			return
		}
		user := inner.User
		handle(func(ctx context.Context) { b.publishHome(ctx, user) })
	}
}

// firstDelivery reports whether eventID is seen for the first time. When
// Redis cannot say, the event is handled (a rare double beats a lost nudge).
func (b *Bot) firstDelivery(ctx context.Context, eventID string, retry int) bool {
	if eventID == "" {
		return true
	}
	first, err := b.store.FirstDelivery(ctx, eventID)
	if err != nil {
		b.log.Warn("dedupe unavailable; handling anyway", "event", eventID, "error", err)
		return true
	}
	if !first {
		b.log.Debug("duplicate event dropped", "event", eventID, "retry", retry)
	}
	return first
}

// wantMessage drops, before any I/O, what is not a person speaking in a watched channel.
func (b *Bot) wantMessage(m *slackevents.MessageEvent) bool {
	switch m.SubType {
	case "", "thread_broadcast", "file_share":
	default:
		return false
	}
	if m.BotID != "" || m.User == "" || m.User == b.botUserID {
		return false
	}
	return b.watching(m.Channel)
}

func (b *Bot) watching(channel string) bool {
	return len(b.watched) == 0 || b.watched[channel]
}

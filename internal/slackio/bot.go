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
	Channels []string // watched channel IDs; empty: every channel the bot is in
	Triage   string   // the agents' triage channel ("": none)
	Workers  int      // concurrent command and click handlers (default 8)
	// InFlight bounds the envelopes being recorded at once (default 32),
	// and InFlightBytes their size (default 4 MiB); at either bound the
	// socket is not read: back-pressure, not loss.
	InFlight      int
	InFlightBytes int

	// Policy is the desk's follow-up policy, for what the bot tells agents
	// about it (the check-in's delay).
	Policy support.Policy
	// Holdout is the fraction of frustrated moments held out of nudges,
	// for the outcome figures.
	Holdout float64

	// Metrics records what the bot does (nil: a private registry nobody reads).
	Metrics *metrics.M
	// HTTPClient is used for response_url posts (the Web API client has its own).
	HTTPClient *http.Client
}

// Bot is the running Slack bot: the Socket Mode loop, the record step of
// each event, /empathy, the buttons, App Home, and the queue's handlers.
// What the events mean is the desk's; who is an agent is the directory's.
type Bot struct {
	log     *slog.Logger
	sm      *socketmode.Client
	web     webAPI
	coach   *coach.Coach
	desk    *support.Desk
	dir     *Directory
	store   store
	cfg     Config
	metrics *metrics.M

	// Now is the clock; tests may replace it.
	Now func() time.Time
	// AfterEvent, if set, is called with each event ID once it is recorded
	// and acked (or left unacked) and the nudge or review it queued has left
	// the queue in this process, or 10 s passed (the demo and tests wait on
	// it instead of sleeping).
	AfterEvent func(eventID string)

	botUserID string
	watched   map[string]bool

	jobs      chan func(context.Context)
	connected atomic.Bool
	offMu     sync.Mutex
	off       map[string]bool // channels an agent switched off (/empathy unwatch), from the store
	fatal     chan error      // a Socket Mode refusal that retrying cannot mend
	inflight  sync.WaitGroup
	intake    chan struct{} // one token per envelope being recorded
	kib       chan struct{} // one token per KiB of envelope being recorded

	settleMu sync.Mutex
	settles  map[string]chan struct{} // task ID → closed when delivered (only with AfterEvent)
}

// store is what slackio reads and writes itself; everything else goes
// through the desk.
type store interface {
	Tracked(ctx context.Context, channel, ts string) (bool, error)
	OnCall(ctx context.Context, channel string) (string, error)
	RecentNudges(ctx context.Context, agent string, n int) ([]support.NudgeRecord, error)
	SetWatching(ctx context.Context, channel string, on bool) error
	ChannelsOff(ctx context.Context) ([]string, error)
	Stats(ctx context.Context, channel string, now time.Time, days int) (support.ChannelStats, error)
}

// NewBot builds the bot that reaches Slack through sl, has desk decide
// and record, and dir tell agents from customers (the same directory the
// desk was built with).
func NewBot(log *slog.Logger, sl *Slack, c *coach.Coach, desk *support.Desk, dir *Directory, store store, cfg Config) *Bot {
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.InFlight <= 0 {
		cfg.InFlight = 32
	}
	if cfg.InFlightBytes <= 0 {
		cfg.InFlightBytes = 4 << 20
	}
	b := &Bot{log: log, sm: sl.sm, web: webAPI{api: sl.api, metrics: cfg.Metrics, inlineWait: maxInlineWait},
		coach: c, desk: desk, dir: dir, store: store, cfg: cfg, metrics: cfg.Metrics, Now: time.Now, fatal: make(chan error, 1),
		watched: map[string]bool{}, jobs: make(chan func(context.Context), 256),
		intake: make(chan struct{}, cfg.InFlight), kib: make(chan struct{}, max(cfg.InFlightBytes>>10, 64))}
	for _, ch := range cfg.Channels {
		b.watched[ch] = true
	}
	return b
}

// permanentSocketErrors are the apps.connections.open errors that retrying
// cannot mend, with what to do about each: the bot stops and says so rather
// than retry forever.
var permanentSocketErrors = map[string]string{
	"not_allowed_token_type": "SLACK_APP_TOKEN must be the app-level token (xapp-...) with connections:write, not the bot token",
	"invalid_auth":           "the app-level token is not valid: make a new one under Basic Information → App-Level Tokens",
	"not_authed":             "no app-level token was sent",
	"token_revoked":          "the app-level token was revoked: make a new one",
	"token_expired":          "the app-level token expired: make a new one",
	"account_inactive":       "the app or its workspace is deactivated",
	"missing_scope":          "the app-level token lacks connections:write",
	"invalid_token":          "the app-level token is malformed",
}

// socketError names a Socket Mode connection failure for logs and metrics:
// Slack's error name from an ok:false answer (a short snake_case word), else
// "http_<code>", else "network".
func socketError(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && validErrorName(se.Err) {
		return se.Err
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return fmt.Sprintf("http_%d", sc.Code)
	}
	if err != nil {
		// slack-go returns some ok:false answers as plain errors whose text
		// is Slack's error name.
		if msg := err.Error(); validErrorName(msg) {
			return msg
		}
	}
	return "network"
}

func validErrorName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_') {
			return false
		}
	}
	return true
}

// ErrInvalidAuth means Slack refused a token; retrying will not help.
var ErrInvalidAuth = errors.New("slack refused the token (invalid_auth)")

// Connected reports whether the Socket Mode connection is up.
func (b *Bot) Connected() bool { return b.connected.Load() }

// Run checks the bot token, connects in Socket Mode and handles envelopes
// until ctx ends; then it stops taking envelopes, finishes in-flight work for
// up to 4 s, and returns nil.
func (b *Bot) Run(ctx context.Context) error {
	auth, err := b.web.api.AuthTestContext(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "not_authed") {
			return fmt.Errorf("SLACK_BOT_TOKEN: %w", ErrInvalidAuth)
		}
		return fmt.Errorf("auth.test: %w", err)
	}
	b.botUserID = auth.UserID
	b.dir.setSelf(auth.TeamID, auth.EnterpriseID)
	b.log.Info("authenticated", "team", auth.TeamID, "bot_user", auth.UserID)
	if b.dir.cfg.AgentGroup != "" {
		// Before the first event: the record step reads the list from the
		// cache and never waits for Slack.
		b.dir.groupMember(ctx, "", true)
	}
	if b.cfg.Triage == "" {
		b.log.Info("no EMPATHY_TRIAGE_CHANNEL: a frustrated customer in a thread nobody owns (no claim, no agent reply, nobody on call) nudges nobody at once; its response reminder goes to EMPATHY_AGENTS when it falls due")
	} else {
		b.log.Info("frustrated customers nobody owns get a card in the triage channel", "triage", b.cfg.Triage)
	}

	if chans, err := b.store.ChannelsOff(ctx); err == nil {
		for _, c := range chans {
			b.setOff(c, true)
		}
	}
	go b.watchOff(ctx)

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
		case err := <-b.fatal:
			runErr = err
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

// enqueue hands work to the worker pool without blocking the ack path for long.
func (b *Bot) enqueue(job func(context.Context)) {
	b.inflight.Add(1)
	b.jobs <- job
	b.metrics.WorkQueue.Set(float64(len(b.jobs)))
}

// dispatch handles one Socket Mode event. An Events API envelope is acked
// only once what it means is recorded (decide, record, then ack); commands
// and clicks are acked at once and answered by a worker.
func (b *Bot) dispatch(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		b.setConnected(true)
		b.log.Info("socket mode connected")
		return
	case socketmode.EventTypeConnecting:
		return
	case socketmode.EventTypeConnectionError:
		b.setConnected(false)
		var cause error
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			cause = ce.ErrorObj
		}
		name := socketError(cause)
		b.metrics.SocketErrors.WithLabelValues(name).Inc()
		if hint, ok := permanentSocketErrors[name]; ok {
			b.log.Error("slack refuses the Socket Mode connection; not retrying", "slack_error", name)
			select {
			case b.fatal <- fmt.Errorf("SLACK_APP_TOKEN: slack refuses the Socket Mode connection: %s (%s)", name, hint):
			default:
			}
			return
		}
		b.log.Warn("socket mode connection failed; retrying", "slack_error", name)
		return
	case socketmode.EventTypeDisconnect:
		b.setConnected(false)
		b.log.Warn("socket mode disconnected; reconnecting")
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
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return
	}
	start := time.Now()
	b.metrics.Envelopes.WithLabelValues(string(evt.Type)).Inc()
	acked := func() { b.metrics.AckLatency.Observe(time.Since(start).Seconds()) }
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			b.sm.Ack(*evt.Request)
			acked()
			return
		}
		b.intakeEvent(ctx, *evt.Request, ev, start)
	case socketmode.EventTypeInteractive:
		b.sm.Ack(*evt.Request)
		acked()
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
			acked()
			return
		}
		now, later := b.command(cmd)
		if later == nil {
			b.sm.Ack(*evt.Request, now)
			acked()
			return
		}
		b.sm.Ack(*evt.Request)
		acked()
		b.enqueue(func(ctx context.Context) {
			if err := b.respond(ctx, cmd.ResponseURL, later(ctx)); err != nil {
				b.log.Warn("command reply not delivered", "channel", cmd.ChannelID, "user", cmd.UserID, "error", err)
			}
		})
	default:
		b.sm.Ack(*evt.Request)
		acked()
	}
}

// intakeEvent records an Events API envelope and then acks it, on a
// goroutine of its own, at most cfg.InFlight at once: when all are busy,
// this waits, and the socket is not read (back-pressure, not loss).
func (b *Bot) intakeEvent(ctx context.Context, req socketmode.Request, ev slackevents.EventsAPIEvent, start time.Time) {
	cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
	eventID := ""
	if cb != nil {
		eventID = cb.EventID
	}
	e, ours := b.decode(eventID, req.RetryAttempt, ev)
	if !ours {
		b.sm.Ack(req) // not ours: nothing to record
		b.metrics.AckLatency.Observe(time.Since(start).Seconds())
		b.afterEvent(eventID)
		return
	}
	// Only this loop acquires (one envelope at a time), so taking the
	// tokens one by one cannot deadlock; workers give them back.
	units := min((len(req.Payload)+1023)>>10+1, cap(b.kib))
	for i := 0; i < units; i++ {
		select {
		case b.kib <- struct{}{}:
		case <-ctx.Done():
			b.releaseKiB(i)
			return // not acked: Slack redelivers it to a replica that is running
		}
	}
	select {
	case b.intake <- struct{}{}:
	case <-ctx.Done():
		b.releaseKiB(units)
		return
	}
	b.metrics.InFlight.Set(float64(len(b.intake)))
	b.inflight.Add(1)
	go func() {
		var tasks []string
		defer func() {
			b.inflight.Done()
			if b.AfterEvent != nil {
				for _, id := range tasks {
					select {
					case <-b.settled(id):
					case <-time.After(10 * time.Second):
					}
				}
			}
			b.afterEvent(eventID)
		}()
		// The record step outlives a shutdown signal (it is bounded by its
		// budget): a half-recorded envelope is simply not acked.
		r := b.record(context.WithoutCancel(ctx), e)
		tasks = r.tasks
		if r.ok {
			b.sm.Ack(req)
			b.metrics.AckLatency.Observe(time.Since(start).Seconds())
		}
		<-b.intake
		b.releaseKiB(units)
		b.metrics.InFlight.Set(float64(len(b.intake)))
		if r.ok && r.after != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			r.after(actx)
			cancel()
		}
	}()
}

func (b *Bot) releaseKiB(n int) {
	for i := 0; i < n; i++ {
		<-b.kib
	}
}

func (b *Bot) afterEvent(eventID string) {
	if b.AfterEvent != nil {
		b.AfterEvent(eventID)
	}
}

// decode reads what the record step needs of an envelope's event; ok is
// false when the event is not ours (an unwatched channel, a bot, a subtype
// we ignore): nothing to record.
func (b *Bot) decode(eventID string, retry int, ev slackevents.EventsAPIEvent) (e event, ok bool) {
	e = event{id: eventID, retry: retry}
	cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		switch inner.SubType {
		case "message_changed":
			return b.decode(eventID, retry, editedMessage(ev, inner))
		case "message_deleted":
			if !b.watching(inner.Channel) || inner.PreviousMessage == nil || inner.DeletedTimeStamp == "" {
				return e, false
			}
			d := deletion{channel: inner.Channel, ts: inner.DeletedTimeStamp, thread: inner.PreviousMessage.ThreadTimestamp}
			if d.thread == "" {
				d.thread = d.ts
			}
			e.deleted = &d
			return e, true
		}
		if !b.wantMessage(inner) {
			return e, false
		}
		msg := *inner
		// Real events often carry team and no user_team (slack-go reads
		// only user_team): the author's team is user_team, else team.
		if msg.UserTeam == "" && cb != nil && cb.InnerEvent != nil {
			var teams struct {
				Team string `json:"team"`
			}
			if json.Unmarshal(*cb.InnerEvent, &teams) == nil {
				msg.UserTeam = teams.Team
			}
		}
		e.message, e.edit = &msg, ev.Type == editedType
		return e, true
	case *slackevents.ReactionAddedEvent:
		if !b.watching(inner.Item.Channel) || inner.Item.Type != "message" {
			return e, false
		}
		switch inner.Reaction {
		case "eyes", "white_check_mark", "heavy_check_mark":
		default:
			return e, false
		}
		r := *inner
		e.reaction = &r
		return e, true
	case *slackevents.AppHomeOpenedEvent:
		if inner.Tab != "home" && inner.Tab != "" || inner.User == "" {
			return e, false
		}
		e.home = inner.User
		return e, true
	}
	return e, false
}

// editedType marks the event editedMessage makes of a message_changed.
const editedType = "empathybot_edited"

// editedMessage turns a message_changed event into the message as it now
// reads, for the record step to read again (marked editedType). A change
// that is no edit by its author (a link preview attached, a bot's update)
// becomes an event the record step ignores.
func editedMessage(ev slackevents.EventsAPIEvent, m *slackevents.MessageEvent) slackevents.EventsAPIEvent {
	out := slackevents.EventsAPIEvent{Type: editedType}
	nm := m.Message
	if nm == nil || nm.Edited == nil || nm.BotID != "" || nm.SubType != "" && nm.SubType != "thread_broadcast" && nm.SubType != "file_share" {
		return out
	}
	edited := &slackevents.MessageEvent{Type: "message", Channel: m.Channel, User: nm.User, Text: nm.Text, TimeStamp: nm.Timestamp,
		ThreadTimeStamp: nm.ThreadTimestamp, UserTeam: nm.Team, Blocks: nm.Blocks}
	out.InnerEvent = slackevents.EventsAPIInnerEvent{Type: "message", Data: edited}
	return out
}

// wantMessage drops, before any I/O, what is not a person speaking in a watched channel.
func (b *Bot) wantMessage(m *slackevents.MessageEvent) bool {
	switch m.SubType {
	case "", "thread_broadcast", "file_share", "me_message":
	default:
		return false
	}
	if m.BotID != "" || m.User == "" || m.User == b.botUserID {
		return false
	}
	return b.watching(m.Channel)
}

func (b *Bot) watching(channel string) bool {
	return b.configured(channel) && !b.isOff(channel)
}

// configured reports whether channel is one the bot is set up to read
// (EMPATHY_CHANNELS, or every channel it is in when that is empty).
func (b *Bot) configured(channel string) bool {
	if channel == "" || channel == b.cfg.Triage {
		return false // the agents' own channel is never a support channel
	}
	return len(b.watched) == 0 || b.watched[channel]
}

// isOff reports whether an agent switched channel off (/empathy unwatch).
func (b *Bot) isOff(channel string) bool {
	b.offMu.Lock()
	defer b.offMu.Unlock()
	return b.off[channel]
}

func (b *Bot) setOff(channel string, off bool) {
	b.offMu.Lock()
	defer b.offMu.Unlock()
	if b.off == nil {
		b.off = map[string]bool{}
	}
	b.off[channel] = off
}

// offEvery is how often a replica reads the channels switched off: a
// switch made on another replica takes effect within it.
const offEvery = 10 * time.Second

// watchOff keeps the switched-off channels current until ctx ends.
func (b *Bot) watchOff(ctx context.Context) {
	for {
		if chans, err := b.store.ChannelsOff(ctx); err == nil {
			off := make(map[string]bool, len(chans))
			for _, c := range chans {
				off[c] = true
			}
			b.offMu.Lock()
			b.off = off
			b.offMu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(offEvery):
		}
	}
}

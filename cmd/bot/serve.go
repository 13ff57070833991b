package main

import (
	"context"
	"crypto/sha256"
	"empathybot/internal/support"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"empathybot/internal/coach"
	"empathybot/internal/metrics"
	"empathybot/internal/redisstore"
	"empathybot/internal/slackio"
)

// Config is the bot's environment. The variable names are a public contract.
type Config struct {
	BotToken         string        `envconfig:"SLACK_BOT_TOKEN" desc:"bot token (xoxb-...)"`
	AppToken         string        `envconfig:"SLACK_APP_TOKEN" desc:"app-level token with connections:write (xapp-...)"`
	APIURL           string        `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Web API base URL"`
	RedisURL         string        `envconfig:"REDIS_URL" desc:"Redis URL; empty: an embedded Redis, for trying only"`
	RedisCluster     []string      `envconfig:"REDIS_CLUSTER_ADDRS" desc:"Redis Cluster seed addresses (host:port, comma-separated)"`
	RedisPrefix      string        `envconfig:"EMPATHY_REDIS_PREFIX" default:"empathy:" desc:"key prefix (and queue name)"`
	Channels         []string      `envconfig:"EMPATHY_CHANNELS" desc:"watched channel IDs; empty: every channel the bot is in"`
	Agents           []string      `envconfig:"EMPATHY_AGENTS" desc:"agent user IDs"`
	TriageChannel    string        `envconfig:"EMPATHY_TRIAGE_CHANNEL" desc:"agents' private channel for frustrated customers nobody owns"`
	AgentGroup       string        `envconfig:"EMPATHY_AGENT_GROUP" desc:"user group ID whose members are agents"`
	AgentTeams       []string      `envconfig:"EMPATHY_AGENT_TEAMS" desc:"with no agent list: other workspace IDs of our Enterprise Grid organisation whose members (not guests) are agents"`
	Nudge            string        `envconfig:"EMPATHY_NUDGE" default:"ephemeral" desc:"ephemeral or dm"`
	Threshold        float64       `envconfig:"EMPATHY_THRESHOLD" default:"0.65" desc:"frustration score that nudges, in (0, 1]"`
	Cooldown         time.Duration `envconfig:"EMPATHY_COOLDOWN" default:"10m" desc:"per-thread nudge cooldown"`
	ResponseReminder time.Duration `envconfig:"EMPATHY_RESPONSE_REMINDER" default:"10m" desc:"unanswered frustrated customer: remind after"`
	FollowupAfter    time.Duration `envconfig:"EMPATHY_FOLLOWUP_AFTER" default:"24h" desc:"check in this long after a resolution"`
	ReminderRepeats  int           `envconfig:"EMPATHY_REMINDER_REPEATS" default:"3" desc:"response reminders per message, 0-10"`
	BusinessHours    string        `envconfig:"EMPATHY_BUSINESS_HOURS" desc:"e.g. Mon-Fri 09:00-18:00 Europe/Berlin; reminders wait for the next opening"`
	Retention        time.Duration `envconfig:"EMPATHY_RETENTION" default:"720h" desc:"TTL of every key"`
	Holdout          float64       `envconfig:"EMPATHY_HOLDOUT" default:"0" desc:"fraction of frustrated moments that get no nudge, to measure what nudges change (0-0.5; 0.1 recommended)"`
	HoldoutKey       string        `envconfig:"EMPATHY_HOLDOUT_KEY" desc:"secret of the holdout's keyed hash; empty: derived from SLACK_BOT_TOKEN"`
	Tips             string        `envconfig:"EMPATHY_TIPS" default:"learn" desc:"learn (Thompson sampling on de-escalation) or fixed (the catalogue's order)"`
	Leads            []string      `envconfig:"EMPATHY_LEADS" desc:"user IDs of the leads who get the team's report with a chart by DM"`
	ReportEvery      time.Duration `envconfig:"EMPATHY_REPORT_EVERY" default:"168h" desc:"how often the leads' report comes (1m-744h)"`
	BreatherAt       float64       `envconfig:"EMPATHY_BREATHER_AT" default:"1.5" desc:"tense load (last 4 working hours) past which an agent is offered a breather by DM; 0: never"`
	HTTPAddr         string        `envconfig:"EMPATHY_HTTP_ADDR" default:"127.0.0.1:8080" desc:"/healthz, /readyz, /metrics: this machine only by default; :8080 opens it (the manifests do, for probes and Prometheus); off disables"`
	LogLevel         string        `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`

	// PingTimeout is how long without a WebSocket ping from Slack before the
	// connection is presumed dead (slack-go's default when zero). Tests only.
	PingTimeout time.Duration `ignored:"true"`
	// APITimeout bounds each Web API call (30 s when zero). Tests only.
	APITimeout time.Duration `ignored:"true"`
	// RedisStartupWait is how long start-up waits for an unreachable Redis
	// (0: 15 s); tests shorten it.
	RedisStartupWait time.Duration `ignored:"true"`
}

// loadConfig reads and checks the environment; every error names the variable.
func loadConfig(env Env) (Config, error) {
	var c Config
	if err := readEnv(env, &c); err != nil {
		return c, err
	}
	switch {
	case c.BotToken == "":
		return c, errors.New("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
	case !strings.HasPrefix(c.BotToken, "xoxb-"):
		return c, errors.New("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
	case c.AppToken == "":
		return c, errors.New("SLACK_APP_TOKEN is not set (the app-level token with connections:write, xapp-...)")
	case !strings.HasPrefix(c.AppToken, "xapp-"):
		return c, errors.New("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
	case !strings.HasSuffix(c.APIURL, "/") || !(strings.HasPrefix(c.APIURL, "https://") || strings.HasPrefix(c.APIURL, "http://")) || len(c.APIURL) > 512:
		return c, fmt.Errorf("SLACK_API_URL must be an http(s) URL ending in /, got %q", c.APIURL)
	case strings.HasPrefix(c.APIURL, "http://") && !loopback(c.APIURL):
		return c, fmt.Errorf("SLACK_API_URL must be https (the bot token travels with every call); plain http is allowed only on loopback, got %q", c.APIURL)
	case c.Nudge != "ephemeral" && c.Nudge != "dm":
		return c, fmt.Errorf("EMPATHY_NUDGE must be ephemeral or dm, got %q", c.Nudge)
	case !(c.Threshold > 0 && c.Threshold < 1):
		return c, fmt.Errorf("EMPATHY_THRESHOLD must be between 0 and 1 (exclusive; the default is %v), got %v", coach.DefaultThreshold, c.Threshold)
	case c.Cooldown < time.Second || c.Cooldown > 7*24*time.Hour:
		return c, fmt.Errorf("EMPATHY_COOLDOWN must be between 1s and 168h, got %v", c.Cooldown)
	case c.ResponseReminder < time.Second || c.ResponseReminder > 7*24*time.Hour:
		return c, fmt.Errorf("EMPATHY_RESPONSE_REMINDER must be between 1s and 168h, got %v", c.ResponseReminder)
	case c.FollowupAfter < time.Second || c.FollowupAfter > 30*24*time.Hour:
		return c, fmt.Errorf("EMPATHY_FOLLOWUP_AFTER must be between 1s and 720h, got %v", c.FollowupAfter)
	case c.ReminderRepeats < 0 || c.ReminderRepeats > 10:
		return c, fmt.Errorf("EMPATHY_REMINDER_REPEATS must be between 0 (no response reminders) and 10, got %d", c.ReminderRepeats)
	case c.Retention < time.Hour || c.Retention > 365*24*time.Hour:
		return c, fmt.Errorf("EMPATHY_RETENTION must be between 1h and 8760h, got %v", c.Retention)
	case !(c.Holdout >= 0 && c.Holdout <= 0.5):
		return c, fmt.Errorf("EMPATHY_HOLDOUT must be a fraction between 0 (no holdout) and 0.5; 0.1 is recommended, got %v", c.Holdout)
	case c.Tips != "learn" && c.Tips != "fixed":
		return c, fmt.Errorf("EMPATHY_TIPS must be learn or fixed, got %q", c.Tips)
	case !(c.BreatherAt >= 0 && c.BreatherAt <= 50):
		return c, fmt.Errorf("EMPATHY_BREATHER_AT must be between 0 (never) and 50, got %v", c.BreatherAt)
	case c.ReportEvery < time.Minute || c.ReportEvery > 31*24*time.Hour:
		return c, fmt.Errorf("EMPATHY_REPORT_EVERY must be between 1m and 744h, got %v", c.ReportEvery)
	}
	for _, l := range c.Leads {
		if l == "" || !(l[0] == 'U' || l[0] == 'W') {
			return c, fmt.Errorf("EMPATHY_LEADS must list user IDs (U... or W...), got %q", l)
		}
	}
	for _, ch := range c.Channels {
		if ch == "" || !(ch[0] == 'C' || ch[0] == 'G') {
			return c, fmt.Errorf("EMPATHY_CHANNELS must list channel IDs (C... or G...), got %q", ch)
		}
	}
	if _, err := support.ParseHours(c.BusinessHours); err != nil {
		return c, fmt.Errorf("EMPATHY_BUSINESS_HOURS: %v", err)
	}
	if t := c.TriageChannel; t != "" && !(t[0] == 'C' || t[0] == 'G') {
		return c, fmt.Errorf("EMPATHY_TRIAGE_CHANNEL must be a channel ID (C... or G...), got %q", t)
	}
	if slices.Contains(c.Channels, c.TriageChannel) && c.TriageChannel != "" {
		return c, fmt.Errorf("EMPATHY_TRIAGE_CHANNEL (%s) must be the agents' own channel, not a watched support channel: customers would see the cards", c.TriageChannel)
	}
	for _, a := range c.Agents {
		if a == "" || !(a[0] == 'U' || a[0] == 'W') {
			return c, fmt.Errorf("EMPATHY_AGENTS must list user IDs (U... or W...), got %q", a)
		}
	}
	if c.RedisURL != "" {
		if err := redisstore.CheckURL(c.RedisURL); err != nil {
			return c, fmt.Errorf("REDIS_URL must be redis://[user:password@]host:port[/db] or rediss://...: %v", err)
		}
	}
	for _, a := range c.RedisCluster {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return c, fmt.Errorf("REDIS_CLUSTER_ADDRS must list host:port addresses, got %q", a)
		}
	}
	if c.FollowupAfter > c.Retention || c.ResponseReminder*time.Duration(max(c.ReminderRepeats, 1)) > c.Retention {
		return c, fmt.Errorf("EMPATHY_RETENTION (%v) must be longer than EMPATHY_FOLLOWUP_AFTER and the response reminders, or threads are forgotten before their follow-ups", c.Retention)
	}
	if c.HTTPAddr != "off" {
		_, port, err := net.SplitHostPort(c.HTTPAddr)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			return c, fmt.Errorf("EMPATHY_HTTP_ADDR must be host:port (or off), got %q", c.HTTPAddr)
		}
	}
	if strings.ContainsAny(c.BotToken, " \t\r\n") {
		return c, errors.New("SLACK_BOT_TOKEN contains whitespace; copy it again")
	}
	if strings.ContainsAny(c.AppToken, " \t\r\n") {
		return c, errors.New("SLACK_APP_TOKEN contains whitespace; copy it again")
	}
	if c.AgentGroup != "" && !(c.AgentGroup[0] == 'S' && strings.Trim(c.AgentGroup, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == "") {
		return c, fmt.Errorf("EMPATHY_AGENT_GROUP must be a user group ID (S...), got %q", c.AgentGroup)
	}
	if len(c.RedisPrefix) > 128 || strings.ContainsAny(c.RedisPrefix, " \t\r\n{}") {
		return c, fmt.Errorf("EMPATHY_REDIS_PREFIX must be at most 128 characters with no spaces or braces, got %q", c.RedisPrefix)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return c, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel)
	}
	return c, nil
}

// loopback reports whether url's host is a loopback address.
func loopback(url string) bool {
	u, err := neturl.Parse(url)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// configHelp writes the table of variables (for bot help).
func configHelp(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	envconfig.Usagef("", &Config{}, tw, `{{range .}}  {{usage_key .}}	{{usage_default .}}	{{usage_description .}}
{{end}}`)
	tw.Flush()
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", level)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func serve(ctx context.Context, args []string, env Env, stderr io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", args)}
	}
	cfg, err := loadConfig(env)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	if limit := setMemoryLimit(env); limit > 0 {
		log.Info("Go memory limit set to 90% of the container's", "bytes", limit)
	}
	return runBot(ctx, cfg, log, hooks{})
}

// hooks are what the demo and the tests change in runBot: the clock, and a
// look at the bot once it is built (to set its AfterEvent).
type hooks struct {
	now   func() time.Time
	ready func(*slackio.Bot)
}

// runBot wires Redis, Slack and the HTTP endpoints, and runs until ctx ends.
func runBot(ctx context.Context, cfg Config, log *slog.Logger, h hooks) error {
	m := metrics.New()
	m.BuildInfo.WithLabelValues(buildVersion(), runtime.Version()).Set(1)
	rdb, health, closeEmbedded, err := redisstore.Dial(cfg.RedisURL, cfg.RedisCluster, log, m)
	if err != nil {
		return err
	}
	defer closeEmbedded()
	// A Redis that cannot be reached at start-up may be starting beside the
	// bot: it gets 15 s; one that refuses the password stops the bot at once.
	wait := cfg.RedisStartupWait
	if wait <= 0 {
		wait = 15 * time.Second
	}
	if err := redisstore.WaitReady(ctx, rdb, wait); err != nil {
		rdb.Close()
		return err
	}
	store := redisstore.New(rdb, cfg.RedisPrefix, cfg.Retention)
	defer store.Close()

	c := coach.Default().WithThreshold(cfg.Threshold)
	hours, err := support.ParseHours(cfg.BusinessHours)
	if err != nil {
		return fmt.Errorf("EMPATHY_BUSINESS_HOURS: %v", err)
	}
	if cfg.BusinessHours != "" {
		log.Info("business hours: reminders and check-ins due outside them wait for the next opening", "hours", hours.String())
	}
	apiTimeout := cfg.APITimeout
	if apiTimeout <= 0 {
		apiTimeout = 30 * time.Second
	}
	httpClient := &http.Client{Timeout: apiTimeout, Transport: metrics.Transport{M: m}}
	queue := redisstore.NewQueue(store, log)

	// The house: Slack's clients, who is an agent, how the desk's words
	// reach Slack, the desk (the application), and the bot around it.
	now := time.Now
	if h.now != nil {
		now = h.now
	}
	sl := slackio.NewSlack(slackio.Credentials{BotToken: cfg.BotToken, AppToken: cfg.AppToken, APIURL: cfg.APIURL, PingInterval: cfg.PingTimeout}, httpClient)
	dir := slackio.NewDirectory(log, sl, slackio.DirectoryConfig{Agents: cfg.Agents, AgentGroup: cfg.AgentGroup, AgentTeams: cfg.AgentTeams}, m)
	dir.Now = now
	notify := slackio.NewNotifier(log, sl, cfg.Nudge == "dm", m)
	policy := support.Policy{ResponseAfter: cfg.ResponseReminder, FollowupAfter: cfg.FollowupAfter, MaxReminders: cfg.ReminderRepeats, Hours: hours}
	desk := support.NewDesk(log, c, store, queue, notify, dir, support.Config{Cooldown: cfg.Cooldown, Policy: policy, Agents: cfg.Agents, Triage: cfg.TriageChannel,
		Holdout: support.Holdout{Fraction: cfg.Holdout, Key: holdoutKey(cfg)}, FixedTips: cfg.Tips == "fixed",
		Leads: cfg.Leads, ReportEvery: cfg.ReportEvery, Channels: cfg.Channels, BreatherAt: cfg.BreatherAt})
	desk.Now = now
	if err := desk.ScheduleReport(ctx); err != nil {
		log.Warn("the leads' report is not scheduled; the next start tries again", "error", err)
	}
	bot := slackio.NewBot(log, sl, c, desk, dir, store, slackio.Config{
		Channels: cfg.Channels, Triage: cfg.TriageChannel, Policy: policy, Holdout: cfg.Holdout, Metrics: m, HTTPClient: httpClient,
	})
	bot.Now = now
	if h.ready != nil {
		h.ready(bot)
	}

	var srv *http.Server
	if cfg.HTTPAddr != "" && cfg.HTTPAddr != "off" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("EMPATHY_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
			problems := readiness(r.Context(), bot, store, health)
			if len(problems) > 0 {
				http.Error(w, strings.Join(problems, "\n"), http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintln(w, "ready")
		})
		mux.Handle("/metrics", m.Handler())
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		log.Info("http listening", "addr", ln.Addr().String())
	}
	// The reminder workers run beside the bot and stop with it; a reminder
	// in progress at shutdown goes back to the queue for another replica.
	qctx, stopQueue := context.WithCancel(ctx)
	qdone := make(chan error, 1)
	go func() {
		qdone <- queue.Serve(qctx, 3*time.Second, redisstore.Handlers{Reminder: bot.DeliverReminder, Nudge: bot.DeliverNudge, Review: bot.DeliverReview})
	}()
	go watchQueue(qctx, queue, m)
	err = bot.Run(ctx)
	stopQueue()
	if qerr := <-qdone; qerr != nil && err == nil {
		err = qerr
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	return err
}

// holdoutKey is the secret of the holdout's keyed hash: EMPATHY_HOLDOUT_KEY,
// else a hash of the bot token (which agents do not have), so that nobody
// can tell which threads are held out; replicas agree without sharing
// anything more.
func holdoutKey(cfg Config) []byte {
	secret := cfg.HoldoutKey
	if secret == "" {
		secret = cfg.BotToken
	}
	k := sha256.Sum256([]byte("empathybot holdout\x00" + secret))
	return k[:]
}

// readiness lists what keeps the bot from doing its job: no Socket Mode
// connection, Redis not answering, or Redis refusing commands lately (full,
// read-only...).
func readiness(ctx context.Context, bot *slackio.Bot, store *redisstore.Store, health *redisstore.Health) []string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var problems []string
	if !bot.Connected() {
		problems = append(problems, "slack: not connected")
	}
	if err := store.Ping(ctx); err != nil {
		problems = append(problems, "redis: "+err.Error())
	} else if at, msg := health.LastError(); time.Since(at) < 5*time.Second {
		problems = append(problems, "redis: commands failing: "+msg)
	}
	return problems
}

// watchQueue keeps the queue-depth gauge current.
func watchQueue(ctx context.Context, q *redisstore.Queue, m *metrics.M) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if sch, pend, err := q.Depth(ctx); err == nil {
			m.QueueDepth.WithLabelValues("scheduled").Set(float64(sch))
			m.QueueDepth.WithLabelValues("pending").Set(float64(pend))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"empathybot/internal/metrics"
)

// CheckURL reports whether url is a redis:// or rediss:// URL go-redis accepts.
func CheckURL(url string) error {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return redactURL(url, err)
	}
	if opt.DB < 0 || opt.DB > 15 {
		return fmt.Errorf("database %d: Redis has 16 (0-15) unless configured otherwise, and a cluster only 0", opt.DB)
	}
	return nil
}

// errBadURL is what a Redis URL that does not parse is reported as. The
// parser's own message is never shown: it quotes the URL, or the part of it
// it tripped on, and with a password holding "/", "@" or a space that part
// is the password.
var errBadURL = errors.New("not a valid Redis URL (want redis://[user:password@]host:port[/db], or rediss:// for TLS; " +
	"percent-encode a password's / ? # @ : % and spaces); the value is not shown, as it may hold a password")

// redactURL returns go-redis's error about rawURL without its credentials:
// when the URL parses as a URL, every form of its user and password
// (as written, decoded, and quoted) is cut from the message; when it does
// not, nothing of it is shown (errBadURL).
func redactURL(rawURL string, err error) error {
	if err == nil {
		return nil
	}
	u, perr := neturl.Parse(rawURL)
	if perr != nil {
		return errBadURL
	}
	msg := err.Error()
	var secrets []string
	if u.User != nil {
		pw, _ := u.User.Password()
		secrets = append(secrets, u.User.String(), u.User.Username(), pw)
	}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range []string{sec, neturl.QueryEscape(sec), strings.Trim(strconv.Quote(sec), `"`)} {
			msg = strings.ReplaceAll(msg, form, "REDACTED")
		}
	}
	return errors.New(msg)
}

// Dial connects to Redis: a cluster when clusterAddrs is set (credentials and
// TLS taken from url when it is set too), else the server at url, else an
// embedded in-process Redis (with a warning: nothing survives a restart). The
// returned func releases the embedded server. go-redis's own log lines go to
// log.
func Dial(url string, clusterAddrs []string, log *slog.Logger, m *metrics.M) (redis.UniversalClient, *Health, func(), error) {
	redis.SetLogger(&redisLogger{l: log, last: map[string]time.Time{}})
	h := &Health{m: m}
	rdb, closer, err := dial(url, clusterAddrs, log)
	if err != nil {
		return nil, nil, nil, err
	}
	rdb.AddHook(h)
	return rdb, h, closer, nil
}

func dial(url string, clusterAddrs []string, log *slog.Logger) (redis.UniversalClient, func(), error) {
	switch {
	case len(clusterAddrs) > 0:
		opt := &redis.ClusterOptions{Addrs: clusterAddrs, ContextTimeoutEnabled: true, Protocol: 2}
		if url != "" {
			u, err := redis.ParseURL(url)
			if err != nil {
				return nil, nil, fmt.Errorf("REDIS_URL: %v", redactURL(url, err))
			}
			opt.Username, opt.Password, opt.TLSConfig = u.Username, u.Password, u.TLSConfig
		}
		return redis.NewClusterClient(opt), func() {}, nil
	case url != "":
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %v", redactURL(url, err))
		}
		// Deadlines in contexts (readiness probes, shutdown) bound every call.
		opt.ContextTimeoutEnabled = true
		// RESP2: the bot uses no RESP3 push notifications, and with RESP3
		// go-redis checks every connection for pending pushes (a syscall per
		// command; 6% of the bot's CPU at 2,000 messages/s).
		opt.Protocol = 2
		return redis.NewClient(opt), func() {}, nil
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("embedded redis: %w", err)
	}
	log.Warn("REDIS_URL is empty: using an embedded in-process Redis; state and reminders will not survive a restart")
	// miniredis expires keys only when told time has passed.
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return redis.NewClient(&redis.Options{Addr: mr.Addr(), Protocol: 2}), func() { close(stop); mr.Close() }, nil
}

// Health watches every Redis command: it counts failures that mean Redis is
// unwell (a metric) and remembers the last one, so readiness can report a
// Redis that answers PING but refuses writes (out of memory, read-only...).
type Health struct {
	m       *metrics.M
	mu      sync.Mutex
	lastAt  time.Time
	lastErr string
}

// LastError is the last failed command's time and error ("" if none).
func (h *Health) LastError() (time.Time, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastAt, h.lastErr
}

// serverTrouble reports whether err says Redis itself is unwell (down,
// unreachable, full, read-only, loading...), as opposed to a script or
// command answering "no" (NOSCRIPT, a task ID conflict...), which is normal.
func serverTrouble(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return true // network, timeout, pool
	}
	for _, p := range []string{"OOM", "READONLY", "MISCONF", "LOADING", "CLUSTERDOWN", "BUSY", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN"} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

func (h *Health) record(name string, err error) {
	if !serverTrouble(err) {
		return
	}
	h.mu.Lock()
	h.lastAt, h.lastErr = time.Now(), err.Error()
	h.mu.Unlock()
	if h.m != nil {
		h.m.RedisErrors.WithLabelValues(knownCommand(name)).Inc()
	}
}

// knownCommand keeps the metric's label set bounded.
func knownCommand(name string) string {
	if len(name) > 20 {
		return "other"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r == '_') {
			return "other"
		}
	}
	return name
}

func (h *Health) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		h.record("dial", err)
		return c, err
	}
}

func (h *Health) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.record(strings.ToLower(cmd.Name()), err)
		return err
	}
}

func (h *Health) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if c.Err() != nil {
				h.record(strings.ToLower(c.Name()), c.Err())
			}
		}
		if err != nil && len(cmds) == 0 {
			h.record("pipeline", err)
		}
		return err
	}
}

// redisLogger sends go-redis's own log lines to slog, each kind of line at
// most once per redisLogEvery (a Redis that is away makes go-redis log every
// failed dial: tens of lines a second), with the count of those left out.
type redisLogger struct {
	l    *slog.Logger
	mu   sync.Mutex
	last map[string]time.Time // by format
	left map[string]int
}

const redisLogEvery = 10 * time.Second

func (r *redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.mu.Lock()
	now := time.Now()
	if at, ok := r.last[format]; ok && now.Sub(at) < redisLogEvery {
		if r.left == nil {
			r.left = map[string]int{}
		}
		r.left[format]++
		r.mu.Unlock()
		return
	}
	r.last[format] = now
	left := r.left[format]
	delete(r.left, format)
	r.mu.Unlock()
	if left > 0 {
		r.l.Warn(fmt.Sprintf(format, v...), "component", "go-redis", "repeated", left)
		return
	}
	r.l.Warn(fmt.Sprintf(format, v...), "component", "go-redis")
}

// WaitReady pings Redis until it answers, for at most wait: at start-up a
// Redis that refuses the credentials stops the bot at once, and one that
// cannot be reached stops it after wait, each with one line that says
// what to fix (never the password). Once running, the bot rides out an
// outage instead (see Health).
func WaitReady(ctx context.Context, rdb redis.UniversalClient, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := rdb.Ping(pctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		msg := err.Error()
		if strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "NOAUTH") || strings.Contains(msg, "invalid password") ||
			strings.Contains(msg, "NOPERM") || strings.Contains(msg, "AUTH") {
			return fmt.Errorf("REDIS_URL: Redis at %s refuses the credentials (%s): check the user and password", addrOf(rdb), firstWord(msg))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("REDIS_URL: cannot reach Redis at %s after %v: %v", addrOf(rdb), wait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func addrOf(rdb redis.UniversalClient) string {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().Addr
	case *redis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	}
	return "?"
}

// firstWord is a Redis error's code (WRONGPASS, NOAUTH...), or the error
// up to its first colon.
func firstWord(msg string) string {
	if w, _, ok := strings.Cut(msg, " "); ok && strings.ToUpper(w) == w {
		return w
	}
	w, _, _ := strings.Cut(msg, ":")
	return w
}

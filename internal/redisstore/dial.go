package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// CheckURL reports whether url is a redis:// or rediss:// URL go-redis accepts.
func CheckURL(url string) error {
	_, err := redis.ParseURL(url)
	return err
}

// Dial connects to Redis: a cluster when clusterAddrs is set (credentials and
// TLS taken from url when it is set too), else the server at url, else an
// embedded in-process Redis (with a warning: nothing survives a restart). The
// returned func releases the embedded server. go-redis's own log lines go to
// log.
func Dial(url string, clusterAddrs []string, log *slog.Logger) (redis.UniversalClient, func(), error) {
	redis.SetLogger(redisLogger{log})
	switch {
	case len(clusterAddrs) > 0:
		opt := &redis.ClusterOptions{Addrs: clusterAddrs}
		if url != "" {
			u, err := redis.ParseURL(url)
			if err != nil {
				return nil, nil, fmt.Errorf("REDIS_URL: %v", err)
			}
			opt.Username, opt.Password, opt.TLSConfig = u.Username, u.Password, u.TLSConfig
		}
		return redis.NewClusterClient(opt), func() {}, nil
	case url != "":
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %v", err)
		}
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
	return redis.NewClient(&redis.Options{Addr: mr.Addr()}), func() { close(stop); mr.Close() }, nil
}

type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.Warn(fmt.Sprintf(format, v...), "component", "go-redis")
}

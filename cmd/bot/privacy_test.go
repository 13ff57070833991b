package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"empathybot/internal/slackio"
	"empathybot/internal/slackio/slackfake"
)

// runRoot starts every key prefix (and so every reminder queue name) this
// test run writes, so the privacy scan sees this run's keys and nothing else.
var runRoot = fmt.Sprintf("e2e:%d:", time.Now().UnixNano())

func testPrefix(t testing.TB) string {
	return fmt.Sprintf("%s%s:%d:", runRoot, strings.ReplaceAll(t.Name(), "/", "."), time.Now().UnixNano())
}

// usedShared is set when a test wrote to the Redis at REDIS_URL.
var usedShared atomic.Bool

func noteRedis(url string) {
	if url != "" && url == os.Getenv("REDIS_URL") {
		usedShared.Store(true)
	}
}

// The texts of every message the tests sent as customers or agents.
var (
	sentMu sync.Mutex
	sent   = map[string]bool{}
)

func remember(text string) {
	sentMu.Lock()
	sent[text] = true
	sentMu.Unlock()
}

// privacyScan runs after the whole suite (from TestMain): every key this run
// wrote and every value in it. No message text may appear anywhere, the
// reminder queue's included; every key of ours has a TTL no longer than the
// retention the tests configure (1 h). It returns the problems found.
func privacyScan() []string {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		fmt.Println("privacy scan: REDIS_URL is unset; each embedded Redis was discarded with its bot, nothing to scan")
		return nil
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return []string{err.Error()}
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	var needles []string
	sentMu.Lock()
	for text := range sent {
		if t := strings.TrimSpace(text); len(t) >= 12 {
			needles = append(needles, t[:12])
		}
	}
	sentMu.Unlock()
	var problems []string
	ours, queue := 0, 0
	for _, pattern := range []string{runRoot + "*"} {
		iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			// The delivery queue's keys (streams, due sets, envelopes) are
			// under the prefix too, and held to the same rules.
			if strings.Contains(key, ":q:{") || strings.Contains(key, ":due:{") || strings.Contains(key, ":task:{") {
				queue++
			} else {
				ours++
			}
			ttl, err := rdb.PTTL(ctx, key).Result()
			if err == nil && (ttl <= 0 || ttl > time.Hour) {
				problems = append(problems, fmt.Sprintf("%s: TTL %v, want (0, 1h]", key, ttl))
			}
			for _, v := range values(ctx, rdb, key) {
				for _, n := range needles {
					if strings.Contains(v, n) {
						problems = append(problems, fmt.Sprintf("%s holds message text %q", key, n))
					}
				}
			}
		}
		if err := iter.Err(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	fmt.Printf("privacy scan: %d keys of ours, %d queue keys, %d message texts looked for\n", ours, queue, len(needles))
	if ours == 0 && usedShared.Load() {
		problems = append(problems, "no keys found: the scan looked in the wrong place")
	}
	return problems
}

// values returns every string stored at key, whatever its type.
func values(ctx context.Context, rdb *redis.Client, key string) []string {
	typ, _ := rdb.Type(ctx, key).Result()
	switch typ {
	case "string":
		v, _ := rdb.Get(ctx, key).Result()
		return []string{v}
	case "hash":
		m, _ := rdb.HGetAll(ctx, key).Result()
		out := make([]string, 0, 2*len(m))
		for k, v := range m {
			out = append(out, k, v)
		}
		return out
	case "list":
		v, _ := rdb.LRange(ctx, key, 0, -1).Result()
		return v
	case "set":
		v, _ := rdb.SMembers(ctx, key).Result()
		return v
	case "zset":
		v, _ := rdb.ZRange(ctx, key, 0, -1).Result()
		return v
	case "stream":
		es, _ := rdb.XRange(ctx, key, "-", "+").Result()
		var out []string
		for _, e := range es {
			for k, v := range e.Values {
				s, _ := v.(string)
				out = append(out, k, s)
			}
		}
		return out
	}
	return nil
}

// Every slackfake the suite started, for the scope check after the suite.
var (
	fakesMu sync.Mutex
	fakes   []*slackfake.Server
)

func track(f *slackfake.Server) {
	fakesMu.Lock()
	fakes = append(fakes, f)
	fakesMu.Unlock()
}

// scopeDrift lists Web API methods the suite saw the bot call that are not in
// slackio.MethodScopes (so the manifest check would not cover them).
func scopeDrift() []string {
	fakesMu.Lock()
	defer fakesMu.Unlock()
	seen := map[string]bool{}
	for _, f := range fakes {
		for _, c := range f.Calls("") {
			m, _, _ := strings.Cut(c.Method, ":")
			seen[m] = true
		}
	}
	var out []string
	for m := range seen {
		if _, ok := slackio.MethodScopes[m]; !ok && m != "response_url" && m != "upload" { // response_url and the upload URL are no Web API methods
			out = append(out, "the bot called "+m+", which slackio.MethodScopes (and so the manifest check) does not know")
		}
	}
	if len(seen) > 0 {
		fmt.Printf("scope check: the suite saw %d Web API methods\n", len(seen))
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// checkLogs fails t if the logs hold a token or any message text the tests sent.
func checkLogs(t testing.TB, logs string, fake interface{ Tokens() []string }) {
	t.Helper()
	if _, bench := t.(*testing.B); !bench && !strings.Contains(logs, `"msg"`) {
		t.Error("no logs captured; the log check proves nothing")
	}
	for _, tok := range fake.Tokens() {
		if strings.Contains(logs, tok) {
			t.Errorf("the logs contain a token")
		}
	}
	sentMu.Lock()
	defer sentMu.Unlock()
	for text := range sent {
		if tx := strings.TrimSpace(text); len(tx) >= 12 && strings.Contains(logs, tx[:12]) {
			t.Errorf("the logs contain message text %q", tx[:12])
		}
	}
}

package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"empathybot/internal/support"
)

// A thread's frustrated moment is one string, "version|JSON" (IDs, times,
// scores and kinds: support.Moment), with the retention period as its TTL.

func (s *Store) momentKey(channel, thread string) string {
	return s.prefix + "mo:" + channel + ":" + thread
}

// OpenMoment implements support.Moments: one SET NX.
func (s *Store) OpenMoment(ctx context.Context, channel, thread string, m support.Moment) (bool, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return false, err
	}
	ok, err := s.rdb.SetNX(ctx, s.momentKey(channel, thread), "1|"+string(b), s.retention).Result()
	if err != nil {
		return false, fmt.Errorf("open moment in %s: %w", channel, err)
	}
	return ok, nil
}

// GetMoment implements support.Moments.
func (s *Store) GetMoment(ctx context.Context, channel, thread string) (*support.Moment, int64, error) {
	v, err := s.rdb.Get(ctx, s.momentKey(channel, thread)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("moment in %s: %w", channel, err)
	}
	ver, body, ok := strings.Cut(v, "|")
	n, err := strconv.ParseInt(ver, 10, 64)
	if !ok || err != nil {
		return nil, 0, fmt.Errorf("moment in %s: malformed", channel)
	}
	var m support.Moment
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return nil, 0, fmt.Errorf("moment in %s: %w", channel, err)
	}
	return &m, n, nil
}

// setMomentScript replaces a moment if it is still at the version the
// caller read (0: none). KEYS[1]: the moment; ARGV: version, JSON, TTL ms.
var setMomentScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local v = 0
if cur then v = tonumber(string.match(cur, '^(%d+)|')) or -1 end
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], (v + 1) .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1`)

// SetMoment implements support.Moments.
func (s *Store) SetMoment(ctx context.Context, channel, thread string, m support.Moment, version int64) (bool, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return false, err
	}
	n, err := setMomentScript.Run(ctx, s.rdb, []string{s.momentKey(channel, thread)}, version, string(b), s.retention.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("set moment in %s: %w", channel, err)
	}
	return n == 1, nil
}

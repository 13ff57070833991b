package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"empathybot/internal/redistest"
)

// The whole store suite, queue included, against a 3-master Redis Cluster
// built for the test from redis-server --cluster-enabled yes.
func TestStoreOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no cluster")
	}
	addrs := redistest.Cluster(t, 3)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { cc.Close() })
	ctx := context.Background()
	// Each thread's scripts touch one key; different threads spread over slots.
	slots := map[int64]bool{}
	for i := 0; i < 50; i++ {
		s := New(cc, "p:", time.Hour)
		a, _ := cc.ClusterKeySlot(ctx, s.threadKey("C1", fmt.Sprint(i))).Result()
		slots[a] = true
	}
	if len(slots) < 10 {
		t.Errorf("50 threads in %d slots: hash tags too coarse", len(slots))
	}
	storeSuite(t, func(t *testing.T) (*Store, redis.UniversalClient, string) {
		prefix := fmt.Sprintf("test:%s:%d:", t.Name(), time.Now().UnixNano())
		return New(cc, prefix, time.Hour), cc, prefix
	})
}

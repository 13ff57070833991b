// Command loadgen drives the real bot under load: a local Slack (slackfake)
// sends a realistic mix of events to N bot processes on one Redis, at rising
// rates, and reports per step: messages/s sent and acked, ack latency
// p50/p99/p999 (as the local Slack sees it), nudge latency p50/p99, CPU, RSS
// and its own ack p99 (its /metrics histogram) of each replica, and Redis
// commands per message.
//
//	go run ./cmd/loadgen -replicas 1 -rates 1000,2000,3000 -step 10s -threads 10000
//
// The mix: 80% calm customer messages, 15% frustrated ones, 5% agent replies
// and reactions (👀 claims and ✅ resolutions), spread over -threads active
// threads. It needs a real Redis (-redis, default REDIS_URL or
// redis://127.0.0.1:6379/0); keys go under a fresh prefix with short TTLs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"empathybot/internal/redisstore"
	"empathybot/internal/slackio/slackfake"
)

const (
	channel  = "CLOAD"
	customer = "UCUSTOMER"
	agent    = "UAGENT"
)

var (
	calm = []string{
		"Hi, how do I export last month's invoices?", "Thanks, that worked!", "Could you add my colleague to the account?",
		"What's the difference between the Pro and Team plans?", "Got it, thanks for the quick answer.",
		"Is there an API for reports?", "No worries, I'll try again tomorrow.", "Where can I change my billing email?",
	}
	frustrated = []string{
		"This is the third time I'm asking. You said it would be fixed by Friday and it's still broken. Ridiculous.",
		"I've been waiting two days for a reply. Unacceptable.", "STILL NOT WORKING!!! I want to speak to a manager.",
		"Great, it crashed again. Thanks for nothing.", "If this isn't fixed today we're cancelling our account.",
	}
	replies = []string{"I'm on it now and will update you by 3pm.", "I can see you've had to chase this; I'll fix it today."}
)

func main() {
	replicas := flag.Int("replicas", 1, "bot processes")
	ratesFlag := flag.String("rates", "500,1000,2000,3000", "messages/s per replica, one step each")
	step := flag.Duration("step", 10*time.Second, "duration of each step")
	threads := flag.Int("threads", 10000, "active threads the messages are spread over")
	redisURL := flag.String("redis", os.Getenv("REDIS_URL"), "Redis URL (default redis://127.0.0.1:6379/0)")
	botPath := flag.String("bot", "", "bot binary (default: build ./cmd/bot)")
	idle := flag.Duration("idle", 10*time.Second, "after the steps, how long to measure the Redis commands the idle replicas send (0: not measured)")
	flag.Parse()
	if *redisURL == "" {
		*redisURL = "redis://127.0.0.1:6379/0"
	}
	if err := run(*replicas, *ratesFlag, *step, *threads, *redisURL, *botPath, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type proc struct {
	cmd      *exec.Cmd
	lastCPU  float64
	lastTime time.Time
	// metrics is the replica's /metrics address; lastAcks its ack latency
	// histogram when the step began.
	metrics  string
	lastAcks map[float64]float64
}

func run(replicas int, ratesFlag string, step time.Duration, threads int, redisURL, botPath string, idle time.Duration) error {
	var rates []int
	for _, r := range strings.Split(ratesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			return fmt.Errorf("-rates: bad rate %q", r)
		}
		rates = append(rates, n)
	}
	tmp, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if botPath == "" {
		botPath = filepath.Join(tmp, "bot")
		build := exec.Command("go", "build", "-o", botPath, "./cmd/bot")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build the bot: %w", err)
		}
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()

	fake, err := slackfake.New()
	if err != nil {
		return err
	}
	defer fake.Close()
	fake.Lean()
	fake.AddChannel(channel, "support-load")
	fake.AddUser(slackfake.User{ID: customer, Name: "Customer", TeamID: "TCUST"})
	fake.AddUser(slackfake.User{ID: agent, Name: "Agent"})

	prefix := fmt.Sprintf("load:%d:", time.Now().UnixNano())
	var procs []*proc
	for i := 0; i < replicas; i++ {
		logf, _ := os.Create(filepath.Join(tmp, fmt.Sprintf("bot-%d.log", i)))
		// A free port for the replica's /metrics (its own ack latency).
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(botPath, "serve")
		cmd.Env = append(os.Environ(), "SLACK_BOT_TOKEN="+fake.BotToken, "SLACK_APP_TOKEN="+fake.AppToken,
			"SLACK_API_URL="+fake.APIURL(), "REDIS_URL="+redisURL, "EMPATHY_REDIS_PREFIX="+prefix,
			"EMPATHY_CHANNELS="+channel, "EMPATHY_AGENTS="+agent, "EMPATHY_HTTP_ADDR="+addr, "LOG_LEVEL=warn",
			"EMPATHY_RETENTION=1h", "EMPATHY_FOLLOWUP_AFTER=30m", "EMPATHY_RESPONSE_REMINDER=10m")
		cmd.Stderr = logf
		if err := cmd.Start(); err != nil {
			return err
		}
		procs = append(procs, &proc{cmd: cmd, metrics: "http://" + addr + "/metrics"})
	}
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Signal(os.Interrupt)
		}
		for _, p := range procs {
			p.cmd.Wait()
		}
		redisstore.New(rdb, prefix, time.Hour).Purge(context.Background())
	}()
	if !fake.WaitConnections(replicas, 20*time.Second) {
		return fmt.Errorf("only %d of %d replicas connected (logs in %s)", fake.Connections(), replicas, tmp)
	}
	if _, err := fake.SlashCommand(agent, channel, "/empathy", "oncall me", 10*time.Second); err != nil {
		return err
	}
	for _, p := range procs {
		p.lastCPU, p.lastTime = cpuSeconds(p.cmd.Process.Pid), time.Now()
		p.lastAcks = ackHistogram(p.metrics)
	}

	fmt.Printf("loadgen: %d replica(s), %d active threads, steps of %v, Redis %s\n", replicas, threads, step, opt.Addr)
	fmt.Printf("%8s %9s %9s %8s %8s %8s %9s %9s %s\n", "target/s", "sent/s", "acked/s", "ack p50", "ack p99", "ack p999", "nudge p50", "nudge p99", "per replica: CPU%, RSS MiB, bot-side ack p99 ; Redis cmds/msg")
	fmt.Println("(ack latencies as the local Slack sees them, from writing the envelope to reading the ack; bot-side: from the bot's receipt of the envelope to its ack, from its /metrics histogram, as the bucket that holds the 99th percentile)")
	rng := rand.New(rand.NewPCG(1, 2))
	// Per thread, when each frustrated message was sent: a nudge's latency is
	// measured from the last one sent before it (the one that triggered it).
	frustratedAt := map[string][]time.Time{}
	nudgesSeen := 0
	seq := 0
	for _, perReplica := range rates {
		rate := perReplica * replicas
		cmdsBefore := redisCommands(ctx, rdb)
		var envs []string
		start := time.Now()
		n := int(float64(rate) * step.Seconds())
		for i := 0; i < n; i++ {
			if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
				time.Sleep(d)
			}
			seq++
			th := fmt.Sprintf("1700000000.%06d", rng.IntN(threads))
			ts := fmt.Sprintf("%d.%06d", 1800000000+seq/1000000, seq%1000000)
			var env string
			var err error
			switch p := rng.IntN(100); {
			case p < 80:
				env, _, err = fake.SendMessage(slackfake.Message{Channel: channel, User: customer, TS: ts, ThreadTS: th, Text: calm[rng.IntN(len(calm))]})
			case p < 95:
				frustratedAt[th] = append(frustratedAt[th], time.Now())
				env, _, err = fake.SendMessage(slackfake.Message{Channel: channel, User: customer, TS: ts, ThreadTS: th, Text: frustrated[rng.IntN(len(frustrated))]})
			case p < 98:
				env, _, err = fake.SendMessage(slackfake.Message{Channel: channel, User: agent, TS: ts, ThreadTS: th, Text: replies[rng.IntN(len(replies))]})
			default:
				reaction := "eyes"
				if p == 99 {
					reaction = "white_check_mark"
				}
				env, err = fake.SendEvent(fmt.Sprintf("EvL%d", seq), map[string]any{"type": "reaction_added", "user": agent, "reaction": reaction,
					"item": map[string]any{"type": "message", "channel": channel, "ts": th}, "event_ts": ts})
			}
			if err != nil {
				return fmt.Errorf("send: %w", err)
			}
			envs = append(envs, env)
		}
		sendDur := time.Since(start)
		// Wait for the acks of this step (at most 10 s).
		var lat []time.Duration
		deadline := time.Now().Add(10 * time.Second)
		for _, e := range envs {
			a, ok := fake.WaitAck(e, time.Until(deadline))
			if ok {
				lat = append(lat, a.Latency)
			}
		}
		ackDur := time.Since(start)
		time.Sleep(time.Second) // let the nudges of the last messages land
		var nudgeLat []time.Duration
		calls := fake.Calls("chat.postEphemeral")
		for _, c := range calls[nudgesSeen:] {
			if !strings.Contains(c.Args.Get("text"), "sounds frustrated") {
				continue // a reply review, not a nudge
			}
			sends := frustratedAt[c.Args.Get("thread_ts")]
			i, _ := slices.BinarySearchFunc(sends, c.At, func(a, b time.Time) int { return a.Compare(b) })
			if i > 0 {
				nudgeLat = append(nudgeLat, c.At.Sub(sends[i-1]))
			}
		}
		nudgesSeen = len(calls)
		cmdsAfter := redisCommands(ctx, rdb)
		var per []string
		for _, p := range procs {
			cpu, now := cpuSeconds(p.cmd.Process.Pid), time.Now()
			acks := ackHistogram(p.metrics)
			per = append(per, fmt.Sprintf("%.0f%%, %.1f, %s", 100*(cpu-p.lastCPU)/now.Sub(p.lastTime).Seconds(), rssMiB(p.cmd.Process.Pid), bucketP99(p.lastAcks, acks)))
			p.lastCPU, p.lastTime, p.lastAcks = cpu, now, acks
		}
		fmt.Printf("%8d %9.0f %9.0f %8s %8s %8s %9s %9s %s ; %.1f\n", rate, float64(n)/sendDur.Seconds(), float64(len(lat))/ackDur.Seconds(),
			pct(lat, 0.50), pct(lat, 0.99), pct(lat, 0.999), pct(nudgeLat, 0.50), pct(nudgeLat, 0.99), strings.Join(per, " | "),
			float64(cmdsAfter-cmdsBefore)/float64(n))
		if len(lat) < n {
			fmt.Printf("         %d of %d envelopes not acked within 10 s: saturated\n", n-len(lat), n)
			break
		}
	}
	if idle > 0 {
		// Idle: no events. What the replicas still send (the queue's
		// blocking reads and due-set checks; loadgen's own INFO is one).
		time.Sleep(2 * time.Second) // the last step's deliveries finish
		before := redisCommands(ctx, rdb)
		time.Sleep(idle)
		after := redisCommands(ctx, rdb)
		fmt.Printf("idle: %.1f Redis commands/s from %d replica(s) over %v\n", float64(after-before-1)/idle.Seconds(), replicas, idle)
	}
	peak := ""
	for _, p := range procs {
		peak += fmt.Sprintf(" %.1f", peakMiB(p.cmd.Process.Pid))
	}
	fmt.Printf("peak RSS per replica (MiB):%s; threads touched: %d\n", peak, threads)
	return nil
}

func pct(d []time.Duration, p float64) string {
	if len(d) == 0 {
		return "-"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	v := s[min(len(s)-1, int(p*float64(len(s))))]
	switch {
	case v < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(v)/1e6)
	case v < time.Second:
		return fmt.Sprintf("%.1fms", float64(v)/1e6)
	}
	return fmt.Sprintf("%.2fs", v.Seconds())
}

// cpuSeconds reads user+system CPU time of pid from /proc.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func statusKB(pid int, key string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseFloat(f[1], 64)
				return v
			}
		}
	}
	return 0
}

func rssMiB(pid int) float64  { return statusKB(pid, "VmRSS") / 1024 }
func peakMiB(pid int) float64 { return statusKB(pid, "VmHWM") / 1024 }

func redisCommands(ctx context.Context, rdb *redis.Client) int64 {
	info, err := rdb.Info(ctx, "stats").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// ackHistogram reads a replica's empathy_ack_latency_seconds buckets
// (upper bound in seconds → cumulative count); nil when it cannot.
func ackHistogram(url string) map[float64]float64 {
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil
	}
	out := map[float64]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, `empathy_ack_latency_seconds_bucket{le="`)
		if !ok {
			continue
		}
		le, count, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		bound, err1 := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
		n, err2 := strconv.ParseFloat(strings.TrimSpace(count), 64)
		if err1 == nil && err2 == nil {
			out[bound] = n
		}
	}
	return out
}

// bucketP99 is the upper bound of the histogram bucket that holds the 99th
// percentile of what was observed between before and after ("≤5ms").
func bucketP99(before, after map[float64]float64) string {
	if after == nil {
		return "-"
	}
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if total <= 0 {
		return "-"
	}
	for _, b := range bounds {
		if after[b]-before[b] >= 0.99*total {
			if math.IsInf(b, 1) {
				return ">3s"
			}
			return "≤" + (time.Duration(b * float64(time.Second))).String()
		}
	}
	return "-"
}

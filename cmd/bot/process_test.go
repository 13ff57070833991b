package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"empathybot/internal/slackio/slackfake"
)

// TestMain lets a test run this very binary as the bot: with
// EMPATHYBOT_TEST_MAIN=1 the test executable behaves like `bot`.
func TestMain(m *testing.M) {
	if os.Getenv("EMPATHYBOT_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	// The checks after the suite read what this process wrote; a fuzzing run
	// writes from worker processes of its own.
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		os.Exit(code)
	}
	if code == 0 {
		if problems := append(privacyScan(), scopeDrift()...); len(problems) > 0 {
			fmt.Println("FAIL: checks after the end-to-end suite:")
			for _, p := range problems {
				fmt.Println("   ", p)
			}
			code = 1
		}
	}
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs the bot as a separate process against fake.
func startProcess(t *testing.T, fake *slackfake.Server, env ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	cmd.Env = append(os.Environ(), "EMPATHYBOT_TEST_MAIN=1",
		"SLACK_BOT_TOKEN="+fake.BotToken, "SLACK_APP_TOKEN="+fake.AppToken, "SLACK_API_URL="+fake.APIURL(),
		"EMPATHY_CHANNELS="+chSupport, "EMPATHY_AGENTS="+agent, "EMPATHY_REDIS_PREFIX="+testPrefix(t), "EMPATHY_RETENTION=1h", "EMPATHY_FOLLOWUP_AFTER=30m")
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, logs
}

// processNudges has an agent open thread and a customer answer angrily, and
// fails unless the bot process nudges the agent.
func processNudges(t *testing.T, fake *slackfake.Server, thread string, logs *lockedBuffer) {
	t.Helper()
	for _, m := range []slackfake.Message{
		{Channel: chSupport, User: agent, TS: thread, Text: "hello"},
		{Channel: chSupport, User: customer, ThreadTS: thread, Text: angry},
	} {
		remember(m.Text)
		env, _, err := fake.SendMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		// The agent's message is recorded before the customer writes, as a
		// person's reply comes after it: a nudge is delivered in
		// milliseconds, and would otherwise find the thread unowned.
		if _, ok := fake.WaitAck(env, 10*time.Second); !ok {
			t.Fatalf("envelope %s not acked; logs:\n%s", env, logs)
		}
	}
	if _, ok := fake.WaitCalls("chat.postEphemeral", 1, 10*time.Second); !ok {
		t.Fatalf("the process did not nudge; logs:\n%s", logs)
	}
}

func newFake(t testing.TB) *slackfake.Server {
	t.Helper()
	fake, err := slackfake.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	track(fake)
	fake.SetShouldEscape(manifestShouldEscape(t))
	fake.AddChannel(chSupport, "support")
	fake.AddUser(slackfake.User{ID: customer, Name: "Sam", TeamID: "TACME"})
	fake.AddUser(slackfake.User{ID: agent, Name: "Dana"})
	return fake
}

func getStatus(url string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		if got = getStatus(url); got == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("GET %s: %d, want %d", url, got, want)
}

// The real binary, as a process: it serves, reports ready, nudges, and on
// SIGTERM exits 0 within 5 s.
func TestProcessServesAndExitsCleanlyOnSIGTERM(t *testing.T) {
	fake := newFake(t)
	addr := freeAddr(t)
	noteRedis(os.Getenv("REDIS_URL"))
	cmd, logs := startProcess(t, fake, "EMPATHY_HTTP_ADDR="+addr, "REDIS_URL="+os.Getenv("REDIS_URL"))
	if !fake.WaitConnections(1, 10*time.Second) {
		t.Fatalf("process did not connect; logs:\n%s", logs)
	}
	waitStatus(t, "http://"+addr+"/healthz", 200)
	waitStatus(t, "http://"+addr+"/readyz", 200)
	// `bot healthcheck` (the container health check) agrees, using EMPATHY_HTTP_ADDR.
	hc := exec.Command(os.Args[0], "healthcheck")
	hc.Env = append(os.Environ(), "EMPATHYBOT_TEST_MAIN=1", "EMPATHY_HTTP_ADDR="+addr)
	if out, err := hc.CombinedOutput(); err != nil || !strings.Contains(string(out), "ready") {
		t.Errorf("bot healthcheck on a ready bot: %v %s", err, out)
	}

	processNudges(t, fake, "1700000900.000100", logs)

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; logs:\n%s", err, logs)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("exit took %v, want < 5s", d)
		}
	case <-time.After(6 * time.Second):
		t.Fatalf("no exit within 6s of SIGTERM; logs:\n%s", logs)
	}
	checkLogs(t, logs.String(), fake) // the real binary's logs: no token, no message text
	hc = exec.Command(os.Args[0], "healthcheck", "http://"+addr+"/readyz")
	hc.Env = append(os.Environ(), "EMPATHYBOT_TEST_MAIN=1")
	if err := hc.Run(); err == nil {
		t.Error("bot healthcheck succeeded against a stopped bot")
	}
}

// /readyz tells the truth: ready when Slack and Redis are up, 503 naming
// Slack while the socket is gone.
func TestReadyzReportsSlackConnection(t *testing.T) {
	addr := freeAddr(t)
	h := startBot(t, func(c *Config) { c.HTTPAddr = addr })
	url := "http://" + addr + "/readyz"
	waitStatus(t, url, 200)
	h.fake.StopPings()
	h.fake.Close() // Slack is gone: no socket, no Web API
	waitStatus(t, url, 503)
}

// EMPATHY_NUDGE=dm: the nudge is a DM with a permalink to the thread, and
// nothing is posted in the support channel.
func TestEndToEndNudgesByDM(t *testing.T) {
	h := startBot(t, func(c *Config) { c.Nudge = "dm" })
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, TS: "1700000950.000100", Text: "hello"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: "1700000950.000100", Text: angry})
	calls, ok := h.fake.WaitCalls("chat.postMessage", 1, 5*time.Second)
	if !ok {
		t.Fatal("no DM")
	}
	if ch := calls[0].Args.Get("channel"); ch != "D"+agent {
		t.Errorf("DM went to channel %q, want the agent's DM D%s", ch, agent)
	}
	if b := calls[0].Args.Get("blocks"); !strings.Contains(b, "p1700000950000100") {
		t.Errorf("DM lacks the thread permalink: %s", b)
	}
	if n := len(h.fake.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d ephemeral messages in DM mode", n)
	}
}

// An agent's 👀 on a customer's message claims the thread: the claimer is
// nudged, not the agent who spoke last.
func TestEndToEndEyesReactionClaimsTheThread(t *testing.T) {
	const other = "UOTHERAGENT"
	h := startBot(t, func(c *Config) { c.Agents = []string{agent, other} })
	thread := "1700000960.000100"
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, TS: thread, Text: "Hi, a question about invoices"})
	ev := "EvClaim1"
	env, err := h.fake.SendEvent(ev, map[string]any{"type": "reaction_added", "user": other, "reaction": "eyes",
		"item": map[string]any{"type": "message", "channel": chSupport, "ts": thread}, "event_ts": "1700000961.000100"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.fake.WaitAck(env, 2*time.Second); !ok {
		t.Fatal("reaction not acked")
	}
	h.waitHandled(ev, 1)
	h.sayHandled(slackfake.Message{Channel: chSupport, User: agent, ThreadTS: thread, Text: "Dana here, looking"})
	h.sayHandled(slackfake.Message{Channel: chSupport, User: customer, ThreadTS: thread, Text: angry})
	calls, ok := h.fake.WaitCalls("chat.postEphemeral", 1, 5*time.Second)
	if !ok {
		t.Fatal("no nudge")
	}
	if u := calls[0].Args.Get("user"); u != other {
		t.Errorf("nudge went to %s, want the claimer %s", u, other)
	}
}

// manifestShouldEscape is the /empathy command's should_escape in
// deploy/slack-app-manifest.yaml: the local Slack sends mentions the way the
// real one would for the app as we ship it.
func manifestShouldEscape(t testing.TB) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "slack-app-manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "should_escape:"); ok {
			return strings.TrimSpace(v) == "true"
		}
	}
	t.Fatal("the manifest's slash command has no should_escape")
	return false
}

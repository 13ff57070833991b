package main

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	return string(b)
}

// /metrics: our metrics are all empathy_..., and they move with what the bot does.
func TestMetricsCountWhatHappens(t *testing.T) {
	addr := freeAddr(t)
	h := startBot(t, func(c *Config) { c.HTTPAddr = addr; c.ResponseReminder = time.Second; c.ReminderRepeats = 1 })
	waitStatus(t, "http://"+addr+"/readyz", 200)
	h.fake.RateLimit("chat.postEphemeral", time.Second)
	h.expectNudgeInAssignedThread("1700006000.000100", "no nudge")
	h.waitDMs("1700006000.000100", 1, 8*time.Second) // the response reminder
	h.command(agent, "help")
	wants := []string{
		`empathy_envelopes_total{type="events_api"} 2`,
		`empathy_envelopes_total{type="slash_commands"} 1`,
		`empathy_ack_latency_seconds_count 3`, // two messages, one command (hello needs no ack)
		`empathy_deliveries_total{kind="nudge",outcome="sent"} 1`,
		`empathy_envelopes_in_flight 0`,
		`empathy_build_info{goversion="go`,
		`empathy_queue_latency_seconds_count{kind="nudge"} 1`,
		`empathy_queue_latency_seconds_count{kind="response"} 1`,
		`empathy_ack_latency_seconds_bucket{le="1e-05"}`,
		`empathy_envelopes_unacked_total 0`,
		`empathy_assessments_total{cue="repeated_contact",frustrated="true"} 1`,
		`empathy_nudges_total{cue="repeated_contact"} 1`,
		`empathy_slack_api_calls_total{method="chat.postEphemeral"}`,
		`empathy_slack_api_errors_total{code="429",method="chat.postEphemeral"}`,
		`empathy_commands_total{subcommand="help"} 1`,
		`empathy_socket_connected 1`,
		`empathy_work_queue_length`,
		`empathy_reminders_scheduled_total{kind="response"} 1`,
		`empathy_reminders_fired_total{kind="response",outcome="sent"} 1`,
		`empathy_reminder_lateness_seconds_count 1`,
		`empathy_queue_depth{state="scheduled"}`,
	}
	// A message is on the wire before the bot counts what it did: wait
	// until every count has been made (a condition, not a clock).
	missing := func(out string) []string {
		var m []string
		for _, w := range wants {
			if !strings.Contains(out, w) {
				m = append(m, w)
			}
		}
		return m
	}
	out := scrape(t, addr)
	for deadline := time.Now().Add(20 * time.Second); len(missing(out)) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		out = scrape(t, addr)
	}
	for _, w := range missing(out) {
		t.Errorf("/metrics lacks %s", w)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if !strings.HasPrefix(line, "empathy_") && !strings.HasPrefix(line, "go_") && !strings.HasPrefix(line, "process_") && !strings.HasPrefix(line, "promhttp_") {
			t.Errorf("metric not named empathy_...: %s", line)
		}
		for _, leak := range []string{customer, agent, chSupport, "1700006000"} {
			if strings.Contains(line, leak) {
				t.Errorf("a metric label carries an ID (%s): %s", leak, line)
			}
		}
	}
	if n := h.fake.FramesWithoutEnvelope(); n != 0 {
		t.Errorf("the bot sent %d frames without an envelope ID (an ack for hello?)", n)
	}
	if t.Failed() {
		t.Log(out)
	}
}

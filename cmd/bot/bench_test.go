package main

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"empathybot/internal/slackio/slackfake"
)

// BenchmarkEnvelopes drives messages through the whole bot (slackfake → socket →
// bot → Redis at REDIS_URL → nudge) and reports messages/s and ack latency
// percentiles. One message in five is a frustrated customer in its own thread
// (so it gets a nudge); the rest are calm.
func BenchmarkEnvelopes(b *testing.B) {
	h := startBot(b, func(c *Config) { c.Agents = []string{agent} })
	h.fake.Lean() // keeping every envelope would grow this process's heap and skew the tail
	if _, err := h.fake.SlashCommand(agent, chSupport, "/empathy", "oncall me", 3*time.Second); err != nil {
		b.Fatal(err)
	}
	// Paced at 2,000 messages/s (the goal per replica), so ack latency is measured
	// at that load rather than behind a burst of b.N envelopes.
	const rate = 2000
	b.ResetTimer()
	start := time.Now()
	var last string
	for i := 0; i < b.N; i++ {
		if due := start.Add(time.Duration(i) * time.Second / rate); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		text := "Hi, how do I export my invoices to CSV?"
		if i%5 == 0 {
			text = angry
		}
		_, ev, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer,
			TS: fmt.Sprintf("1800000000.%06d", i), Text: text})
		if err != nil {
			b.Fatal(err)
		}
		last = ev
	}
	h.waitHandled(last, 1)
	h.fake.WaitCalls("chat.postEphemeral", (b.N+4)/5, 30*time.Second)
	b.StopTimer()
	lat := h.fake.AckLatencies()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ack-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ack-p99-ms")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s-handled")
	b.ReportMetric(float64(len(h.fake.Calls("chat.postEphemeral"))), "nudges")
}
